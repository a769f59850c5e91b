package org.sqzspark.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOps;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.opentest4j.TestAbortedException;

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

    @Test
    void releasingTheTeamEndsTheCallingThreadsOpenMpWorkersAndTheNextOpStartsThemAgain() throws InterruptedException {
        // OpenMP workers take the name of the thread that starts them
        String name = "omp-release";
        INDArray a = Nd4j.rand(DataType.FLOAT, 256, 256);
        INDArray expected = a.mmul(a);
        onNewThread(name, () -> {
            nativeOps().setOmpNumThreads(3);
            a.mmul(a);
            assumeTrue(threadsNamed(name) > 1, "this platform's matrix product runs no OpenMP team");
            assertTrue(NativeThreads.releaseTeam());
            assertEquals(1, awaitThreadsNamed(name, 1), "the team's workers ended");
            assertEquals(expected, a.mmul(a));
            assertTrue(threadsNamed(name) > 1, "a parallel op after the release starts a team again");
            return 0;
        });
    }

    @Test
    void timerSlackIsSetForTheCallingThreadAndInheritedByThreadsItStarts() throws InterruptedException {
        onNewThread("slack", () -> {
            long before = NativeThreads.timerSlack(2_000_000);
            assertTrue(before > 0, "the slack before is returned");
            AtomicLong childBefore = new AtomicLong();
            Thread child = new Thread(() -> childBefore.set(NativeThreads.timerSlack(before)));
            child.start();
            try {
                child.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            assertEquals(2_000_000, childBefore.get(), "a thread started after inherits the slack");
            assertEquals(2_000_000, NativeThreads.timerSlack(before));
            return 0;
        });
        assertThrows(IllegalArgumentException.class, () -> NativeThreads.timerSlack(0));
    }

    /** Threads of this process whose kernel name (the first 15 characters of a Java thread's) is {@code name}. */
    private static int threadsNamed(String name) {
        int count = 0;
        String[] tasks = new File("/proc/self/task").list();
        for (String task : tasks == null ? new String[0] : tasks) {
            try {
                if (Files.readString(Path.of("/proc/self/task", task, "comm")).trim().equals(name)) {
                    count++;
                }
            } catch (IOException e) {
                // the thread ended while listed
            }
        }
        return count;
    }

    /** {@link #threadsNamed} once it is {@code expected}, or after 5 s, whatever it is then. */
    private static int awaitThreadsNamed(String name, int expected) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        int count = threadsNamed(name);
        while (count != expected && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            count = threadsNamed(name);
        }
        return count;
    }

    /** Runs {@code task} on a thread of its own, whose OpenMP settings start from the process defaults. */
    private static int onNewThread(IntSupplier task) throws InterruptedException {
        return onNewThread("native-threads", task);
    }

    /** {@link #onNewThread(IntSupplier)} on a thread named {@code name}. */
    private static int onNewThread(String name, IntSupplier task) throws InterruptedException {
        AtomicInteger result = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            try {
                result.set(task.getAsInt());
            } catch (Throwable t) {
                failure.set(t);
            }
        }, name);
        thread.start();
        thread.join();
        if (failure.get() instanceof TestAbortedException aborted) {
            throw aborted;
        }
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

    @Test
    void replicasSharingTheJvmShardOverTheirShareOfProcessorsWhateverTheirTeam() {
        try {
            NativeThreads.shareProcessors(2 * PROCESSORS);
            assertEquals(1, NativeThreads.shardThreads(), "more replicas than processors: no shards");
            NativeThreads.shareProcessors(1);
            assertEquals(NativeThreads.teamSize(), NativeThreads.shardThreads());
            NativeThreads.shareProcessors(2 * PROCESSORS);
            NativeThreads.runWithTeam(3, () -> assertEquals(3, NativeThreads.shardThreads(), "a team given outright"));
        } finally {
            NativeThreads.shareProcessors(0);
        }
        assertEquals(NativeThreads.teamSize(), NativeThreads.shardThreads());
    }

    /** OMP_NUM_THREADS of this test JVM as a positive number, else 0. */
    private static int configured() {
        String env = System.getenv(NativeThreads.OMP_THREADS_ENV);
        return env != null && env.trim().matches("[1-9][0-9]*") ? Integer.parseInt(env.trim()) : 0;
    }
}
