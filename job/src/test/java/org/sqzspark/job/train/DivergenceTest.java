package org.sqzspark.job.train;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sqzspark.job.TestConfigs;
import org.sqzspark.job.results.EpochMetrics;
import org.sqzspark.job.results.ResultStore;
import org.sqzspark.job.results.RunEnvironment;
import org.sqzspark.job.results.RunResult;
import org.sqzspark.model.ModelConfig;
import org.sqzspark.model.Optimizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What counts as a run gone numerically wrong, and the line and CSV row that say so. */
class DivergenceTest {

    private static final Path DIR = Path.of("unused");

    private static INDArray params(float... values) {
        return Nd4j.createFromArray(values).castTo(DataType.FLOAT);
    }

    private static TrainConfig config(Optimizer optimizer, double lr, LrScaling scaling, int partitions) {
        ModelConfig model = new ModelConfig(ModelConfig.DEFAULT_CLASSES, ModelConfig.DEFAULT_SEED, optimizer, lr,
                ModelConfig.DEFAULT_MOMENTUM, 0, ModelConfig.DEFAULT_DROPOUT);
        return new TrainConfig(DIR.toString(), false, DIR.toString(), TestConfigs.MASTER, partitions, 5,
                TestConfigs.BATCH, 0, TrainingMasterKind.AVERAGING, 1, TrainConfig.DEFAULT_THRESHOLD, 200, 100,
                scaling, 0, 0, model, Execution.TURNS);
    }

    /** A run of {@code config} that diverged at epoch 2 with the given loss, after a healthy epoch 1. */
    private static RunResult divergedRun(TrainConfig config, double loss, String osArch) {
        RunEnvironment env = new RunEnvironment("17", osArch, "Linux", 4, "3.5.3", "1.0.0-M2", "CpuBackend",
                "linux-arm64", "local[2]", 1, List.of("pi01"), 0);
        return RunResult.builder()
                .runId("r1")
                .startedAt("2026-01-01T00:00:00Z")
                .config(config)
                .environment(env)
                .layout(ReplicaLayout.of(config.trainingMaster(), config.partitions(), 1))
                .globalBatch(config.globalBatch())
                .stepsPerEpoch(10)
                .peakLearningRate(config.scaledLearningRate())
                .diverged(true)
                .epochs(List.of(new EpochMetrics(1, 0.3, 2.0, 10, 1, 100, 11, List.of()),
                        new EpochMetrics(2, Double.NaN, loss, 10, 1, 100, 22, List.of())))
                .build();
    }

    @Test
    void finiteLossAndParametersAreHealthyEvenAtChanceLevel() {
        assertFalse(Divergence.found(Math.log(10), params(0.5f, -1f, 3e30f)));
    }

    @Test
    void aLossOrAParameterThatIsNaNOrInfiniteIsFound() {
        assertTrue(Divergence.found(Double.NaN, params(1f, 2f)));
        assertTrue(Divergence.found(Double.POSITIVE_INFINITY, params(1f, 2f)));
        assertTrue(Divergence.found(2.0, params(1f, Float.NaN)));
        assertTrue(Divergence.found(2.0, params(Float.NEGATIVE_INFINITY, 2f)));
    }

    @Test
    void theLineNamesRunEpochRecipeAndWhatToTry() {
        String line = Divergence.message(divergedRun(config(Optimizer.NESTEROV, 0.05, LrScaling.NONE, 2),
                Double.NaN, "amd64"));
        assertEquals("run r1 diverged at epoch 2 of 5: training loss NaN (P=2, nesterov, learning rate 0.05,"
                + " batch 16 per replica (global 32), averaging); stopped and recorded as diverged. Try a lower"
                + " learning rate, e.g. --lr 0.005, or --optimizer sgd", line);
    }

    @Test
    void theLineSuggestsGentlerScalingWhereTheRateWasScaledAndNamesTheArmReports() {
        String line = Divergence.message(divergedRun(config(Optimizer.SGD, 0.1, LrScaling.LINEAR, 4), 1.5,
                "aarch64"));
        assertTrue(line.contains("parameters NaN or infinite"), "the loss was finite: " + line);
        assertTrue(line.contains("learning rate 0.1 (peak 0.4)"), line);
        assertTrue(line.contains("--lr-scaling sqrt or none"), line);
        assertFalse(line.contains("--optimizer sgd"), "already sgd: " + line);
        assertTrue(line.contains("8911") && line.contains("8813"), line);
    }

    @Test
    void theCsvMarksOnlyTheEpochThatDiverged() {
        RunResult run = divergedRun(config(Optimizer.SGD, 0.1, LrScaling.NONE, 1), Double.NaN, "amd64");
        int column = ResultStore.CSV_HEADER.indexOf("diverged");
        assertEquals(ResultStore.CSV_HEADER.size() - 1, column, "new columns go last: " + ResultStore.CSV_HEADER);
        assertEquals("false", ResultStore.csvRow(run, run.epochs().get(0)).get(column));
        assertEquals("true", ResultStore.csvRow(run, run.epochs().get(1)).get(column));
        assertEquals("false", ResultStore.csvRow(run.toBuilder().diverged(false).build(), run.epochs().get(1))
                .get(column), "a healthy run's rows");
    }
}
