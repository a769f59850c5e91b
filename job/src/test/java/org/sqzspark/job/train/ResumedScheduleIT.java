package org.sqzspark.job.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.parameterserver.pw.SharedTrainingWrapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqzspark.job.SyntheticCifar;
import org.sqzspark.job.TestConfigs;
import org.sqzspark.job.cluster.SparkSetup;
import org.sqzspark.job.results.ResultStore;

/**
 * Gradient sharing's learning-rate schedule across {@code --resume}: the executor's network of a
 * resumed run starts epoch 2 at the step count, and so the rate, of a run that never stopped.
 * Read from the network DL4J's wrapper trains in the executor (embedded: this JVM), and from its
 * updater's schedule, not from the driver's configuration.
 */
class ResumedScheduleIT {

    private static final int PARTITIONS = 2;
    private static final int EPOCHS = 3;
    private static final int WARMUP_EPOCHS = 2;

    @TempDir
    static Path tmp;
    private static JavaSparkContext sc;
    private static Path data;

    /** Stops a run once its epoch {@code epoch} is written, as a killed driver would leave it. */
    private static final class Stop extends RuntimeException {
        Stop(int epoch) {
            super("stopped after epoch " + epoch);
        }
    }

    /** The step count of the executor's network after each epoch. */
    private final Map<Integer, Integer> steps = new HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        data = SyntheticCifar.write(tmp.resolve("cifar"), 20, 10, 5);
        sc = new JavaSparkContext(SparkSetup.conf(TestConfigs.MASTER).setAppName("ResumedScheduleIT"));
    }

    @AfterAll
    static void stop() {
        if (sc != null) {
            sc.stop();
        }
    }

    private static TrainConfig config(Path out) {
        // linear scaling over P = 2 makes the warm-up rise from the given rate to twice it, step by step
        return new TrainConfig(data.toString(), false, out.toString(), TestConfigs.MASTER, PARTITIONS, EPOCHS,
                TestConfigs.BATCH, 0, TrainingMasterKind.SHARED, 1, TrainConfig.DEFAULT_THRESHOLD, 50, 50,
                LrScaling.LINEAR, WARMUP_EPOCHS, 0, TestConfigs.model(), Execution.SPARK);
    }

    /** Runs (or resumes) until epoch {@code stopAfter} is written, noting the executor's network. */
    private void runUntil(TrainConfig config, boolean resume, int stopAfter) {
        ResultStore store = ResultStore.open(config.out(), new Configuration());
        TrainingData training = TrainingData.load(config, new Configuration());
        Trainer trainer = new Trainer(sc, store, epoch -> {
            steps.put(epoch, executorNetwork().getIterationCount());
            if (epoch == stopAfter) {
                throw new Stop(epoch);
            }
        }, new Progress(List.of(config), training.train().size(), true));
        assertThrows(Stop.class, () -> trainer.run(config, training, resume));
    }

    /** The network DL4J's wrapper trains from in this JVM, in the current training session. */
    private static ComputationGraph executorNetwork() {
        try {
            Field instance = SharedTrainingWrapper.class.getDeclaredField("INSTANCE");
            instance.setAccessible(true);
            Field model = SharedTrainingWrapper.class.getDeclaredField("originalModel");
            model.setAccessible(true);
            ComputationGraph net = (ComputationGraph) model.get(instance.get(null));
            assertNotNull(net, "DL4J's wrapper holds no network");
            return net;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("DL4J's SharedTrainingWrapper changed: " + e, e);
        }
    }

    /** The learning rate the network's updater gives step {@code step}. */
    private static double rateAt(ComputationGraph net, int step) {
        for (Layer layer : net.getLayers()) {
            if (layer.conf().getLayer() instanceof BaseLayer b && b.getIUpdater() != null) {
                return b.getIUpdater().getLearningRate(step, 0);
            }
        }
        throw new AssertionError("no layer with an updater");
    }

    @Test
    void aResumedRunStartsEpochTwoAtTheStepAndRateOfARunThatNeverStopped() {
        runUntil(config(tmp.resolve("uninterrupted")), false, 2);
        Map<Integer, Integer> uninterrupted = new HashMap<>(steps);
        // the network counts its steps as it trains: epoch 2 starts where epoch 1 ended
        int stepsOfEpoch2 = uninterrupted.get(2) - uninterrupted.get(1);
        int firstStep = uninterrupted.get(2) - stepsOfEpoch2;
        steps.clear();

        TrainConfig interrupted = config(tmp.resolve("resumed"));
        runUntil(interrupted, false, 1);
        runUntil(interrupted, true, 2);
        int resumedFirstStep = steps.get(2) - stepsOfEpoch2;

        ComputationGraph net = executorNetwork();
        double rate = rateAt(net, firstStep);
        double resumedRate = rateAt(net, resumedFirstStep);
        System.out.printf("first step of epoch 2: uninterrupted step %d at rate %.4g; resumed step %d at rate %.4g"
                + " (step 0: %.4g)%n", firstStep, rate, resumedFirstStep, resumedRate, rateAt(net, 0));
        assertTrue(firstStep > 0 && stepsOfEpoch2 > 0, "steps after epochs 1 and 2: " + uninterrupted);
        assertEquals(firstStep, resumedFirstStep, "the step count epoch 2 starts at after --resume");
        assertEquals(rate, resumedRate, 1e-12, "the rate of epoch 2's first step after --resume");
        assertFalse(Math.abs(rate - rateAt(net, 0)) < 1e-12, "the warm-up rises: a count restarted at 0 shows");
    }
}
