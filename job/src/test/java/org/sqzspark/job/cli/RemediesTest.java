package org.sqzspark.job.cli;

import java.nio.file.Path;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.sqzspark.data.PartitionPlan;
import org.sqzspark.job.cli.Main;
import org.sqzspark.job.train.Execution;
import org.sqzspark.job.train.LrScaling;
import org.sqzspark.job.train.TrainConfig;
import org.sqzspark.job.train.Trainer;
import org.sqzspark.job.train.TrainingMasterKind;
import org.sqzspark.model.ModelConfig;
import org.sqzspark.model.SqueezeNetV11;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The remedies for large P do what their options say. */
class RemediesTest {

    private static TrainConfig config(int partitions, int batch, int globalBatch, LrScaling scaling, int warmup) {
        return new TrainConfig("data", false, "out", "local[2]", partitions, 5,
                TrainConfig.batchPerReplica(partitions, batch, globalBatch), 0, TrainingMasterKind.SHARED, 1,
                TrainConfig.DEFAULT_THRESHOLD, 100, 100, scaling, warmup, globalBatch,
                ModelConfig.defaults().withLearningRate(0.001), Execution.TURNS);
    }

    @Test
    void aFixedGlobalBatchIsSplitOverTheReplicas() {
        assertEquals(256, config(1, 32, 256, LrScaling.NONE, 0).batchPerReplica());
        assertEquals(32, config(8, 32, 256, LrScaling.NONE, 0).batchPerReplica());
        assertEquals(256, config(8, 32, 256, LrScaling.NONE, 0).globalBatch());
        assertEquals(32, config(8, 32, 0, LrScaling.NONE, 0).batchPerReplica(), "no global batch: --batch");
        assertEquals(256, config(8, 32, 0, LrScaling.NONE, 0).globalBatch());
    }

    @Test
    void stepsPerEpochDoNotFallAsPGrowsWithAFixedGlobalBatch() {
        int images = 10_000;
        int atOne = Trainer.stepsPerEpoch(PartitionPlan.of(images, 1), config(1, 32, 96, LrScaling.NONE, 0)
                .batchPerReplica());
        for (int p : new int[] {2, 4, 8, 16, 32, 48}) {
            int steps = Trainer.stepsPerEpoch(PartitionPlan.of(images, p), config(p, 32, 96, LrScaling.NONE, 0)
                    .batchPerReplica());
            assertTrue(Math.abs(steps - atOne) <= 1, "P=" + p + ": " + steps + " steps, P=1: " + atOne);
            int perReplica = Trainer.stepsPerEpoch(PartitionPlan.of(images, p), 32);
            assertTrue(Math.abs(perReplica - Trainer.stepsPerEpoch(PartitionPlan.of(images, 1), 32) / p) <= 1,
                    "a fixed per-replica batch: steps fall as 1/P, P=" + p + ": " + perReplica);
        }
    }

    @Test
    void aGlobalBatchThatDoesNotSplitEvenlyIsRefusedWithAnExample() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.batchPerReplica(48, 32, 100));
        assertTrue(e.getMessage().contains("--global-batch 100") && e.getMessage().contains("P=48")
                && e.getMessage().contains("e.g. 96"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.batchPerReplica(4, 32, -8));
    }

    @Test
    void learningRateScalesWithTheGlobalBatch() {
        assertEquals(0.001, config(16, 32, 0, LrScaling.NONE, 0).scaledLearningRate(), 1e-15);
        assertEquals(0.016, config(16, 32, 0, LrScaling.LINEAR, 0).scaledLearningRate(), 1e-15);
        assertEquals(0.004, config(16, 32, 0, LrScaling.SQRT, 0).scaledLearningRate(), 1e-15);
        assertEquals(0.001, config(16, 32, 512, LrScaling.LINEAR, 0).scaledLearningRate(), 1e-15,
                "a fixed global batch does not grow: nothing to scale for");
    }

    @Test
    void warmupRisesPerStepFromTheGivenRateToTheScaledOne() {
        TrainConfig c = config(4, 32, 0, LrScaling.LINEAR, 2);
        int stepsPerEpoch = 10;
        ModelConfig model = c.modelFor(stepsPerEpoch);
        assertEquals(20, model.warmupSteps());
        assertEquals(0.004, model.learningRate(), 1e-15);
        ComputationGraph net = SqueezeNetV11.build(model);
        BaseLayer conv1 = (BaseLayer) net.getLayer("conv1").conf().getLayer();
        assertEquals(0.001, conv1.getUpdaterByParam("W").getLearningRate(0, 0), 1e-15);
        assertEquals(0.0025, conv1.getUpdaterByParam("W").getLearningRate(10, 1), 1e-15);
        assertEquals(0.004, conv1.getUpdaterByParam("W").getLearningRate(20, 2), 1e-15);
        assertEquals(0.004, conv1.getUpdaterByParam("W").getLearningRate(49, 4), 1e-15);
        assertEquals(0, config(4, 32, 0, LrScaling.LINEAR, 0).modelFor(stepsPerEpoch).warmupSteps());
    }

    @Test
    void theRemedyOptionsReachTheConfiguration() {
        Main.Train train = new Main.Train();
        new picocli.CommandLine(train).parseArgs("--partitions", "8", "--global-batch", "256", "--lr-scaling", "sqrt",
                "--warmup-epochs", "2", "--data", Path.of("x").toString(), "--master", "local[2]");
        TrainConfig c = train.options.toConfig(8);
        assertEquals(32, c.batchPerReplica());
        assertEquals(256, c.fixedGlobalBatch());
        assertEquals(LrScaling.SQRT, c.lrScaling());
        assertEquals(2, c.warmupEpochs());
    }

    @Test
    void warmupLongerThanTheRunIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> config(2, 32, 0, LrScaling.LINEAR, 6));
        assertTrue(e.getMessage().contains("--warmup-epochs"), e.getMessage());
    }
}
