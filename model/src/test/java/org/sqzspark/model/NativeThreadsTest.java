package org.sqzspark.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOps;
import org.nd4j.nativeblas.NativeOpsHolder;

class NativeThreadsTest {

    private static final int PROCESSORS = Runtime.getRuntime().availableProcessors();

    private static NativeOps nativeOps() {
        Nd4j.getExecutioner(); // loads the backend, whose configuration NativeOpsHolder reads
        return NativeOpsHolder.getInstance().getDeviceNativeOps();
    }

    @Test
    void masterThreadsAreSetAndTheSettingBeforeReturnedUnlessTheEnvironmentSaysOtherwise() {
        assumeTrue(System.getenv(NativeThreads.MASTER_THREADS_ENV) == null, "SD_MASTER_THREADS is set");
        int original = Nd4j.getEnvironment().maxMasterThreads();
        try {
            assertEquals(original, NativeThreads.masterThreads(1));
            assertEquals(1, Nd4j.getEnvironment().maxMasterThreads());
            assertEquals(1, NativeThreads.masterThreads(original));
            assertEquals(original, Nd4j.getEnvironment().maxMasterThreads());
        } finally {
            Nd4j.getEnvironment().setMaxMasterThreads(original);
        }
        assertThrows(IllegalArgumentException.class, () -> NativeThreads.masterThreads(0));
    }

    @Test
    void buildingTheNetworkGivesTheBuildingThreadTheConfiguredTeam() throws InterruptedException {
        // as ND4J 1.0.0-M2 leaves the thread that loads it: a team of 4, whatever OMP_NUM_THREADS says
        int team = onNewThread(() -> {
            nativeOps().setOmpNumThreads(NativeThreads.teamSize() + 3);
            SqueezeNetV11.build(ModelConfig.defaults());
            return nativeOps().ompGetMaxThreads();
        });
        assertEquals(NativeThreads.teamSize(), team);
    }

    @Test
    void aThreadThatOnlyRunsTheNetworkGetsTheConfiguredTeam() throws InterruptedException {
        ComputationGraph net = SqueezeNetV11.build(ModelConfig.defaults());
        int team = onNewThread(() -> {
            nativeOps().setOmpNumThreads(NativeThreads.teamSize() + 3);
            net.outputSingle(Nd4j.rand(DataType.FLOAT, 2, 3, 32, 32));
            return nativeOps().ompGetMaxThreads();
        });
        assertEquals(NativeThreads.teamSize(), team);
    }

    /** Runs {@code task} on a thread of its own, whose OpenMP settings start from the process defaults. */
    private static int onNewThread(IntSupplier task) throws InterruptedException {
        AtomicInteger result = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            try {
                result.set(task.getAsInt());
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        thread.start();
        thread.join();
        if (failure.get() != null) {
            throw new AssertionError("the task failed", failure.get());
        }
        return result.get();
    }

    @Test
    void theTeamIsOmpNumThreadsWhenSetElseTheAvailableProcessors() {
        assertEquals(configured() > 0 ? configured() : PROCESSORS, NativeThreads.teamSize());
    }

    @Test
    void replicasSharingTheJvmDivideItsProcessorsUnlessOmpNumThreadsIsSet() throws InterruptedException {
        ComputationGraph net = SqueezeNetV11.build(ModelConfig.defaults());
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 32, 32);
        try {
            NativeThreads.shareProcessors(2 * PROCESSORS);
            assertEquals(configured() > 0 ? configured() : 1, NativeThreads.teamSize());
            NativeThreads.shareProcessors(1);
            assertEquals(configured() > 0 ? configured() : PROCESSORS, NativeThreads.teamSize());
            int team = onNewThread(() -> {
                net.outputSingle(x);
                NativeThreads.shareProcessors(2 * PROCESSORS);
                net.outputSingle(x);
                return nativeOps().ompGetMaxThreads();
            });
            assertEquals(configured() > 0 ? configured() : 1, team, "a thread follows a new share at its next step");
        } finally {
            NativeThreads.shareProcessors(0);
        }
        assertEquals(configured() > 0 ? configured() : PROCESSORS, NativeThreads.teamSize());
        assertThrows(IllegalArgumentException.class, () -> NativeThreads.shareProcessors(-1));
    }

    /** OMP_NUM_THREADS of this test JVM as a positive number, else 0. */
    private static int configured() {
        String env = System.getenv(NativeThreads.OMP_THREADS_ENV);
        return env != null && env.trim().matches("[1-9][0-9]*") ? Integer.parseInt(env.trim()) : 0;
    }
}
