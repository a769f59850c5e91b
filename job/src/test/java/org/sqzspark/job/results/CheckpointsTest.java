package org.sqzspark.job.results;

import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqzspark.job.TestConfigs;
import org.sqzspark.job.train.Execution;
import org.sqzspark.job.train.ReplicaLayout;
import org.sqzspark.job.train.TrainConfig;
import org.sqzspark.job.train.TrainingMasterKind;
import org.sqzspark.model.SqueezeNetV11;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointsTest {

    /** The link rate the runs here record, Mbit/s. */
    private static final double LINK = 1000;

    @TempDir
    Path tmp;

    private static RunResult run(TrainConfig config, String id, int epochs, boolean completed) {
        List<EpochMetrics> metrics = new java.util.ArrayList<>();
        for (int e = 1; e <= epochs; e++) {
            metrics.add(new EpochMetrics(e, 0.1 * e, 2.0 / e, 10, 1, 100, 11 * e,
                    List.of(new NodeTraffic("1", "10.0.0.11", 1000L * e, 2000L * e))));
        }
        RunEnvironment env = new RunEnvironment("17", "amd64", "Linux", 2, "3.5.3", "1.0.0-M2", "CpuBackend",
                "linux-x86_64", "local[2]", 1, List.of("127.0.0.1"), LINK);
        return RunResult.builder()
                .runId(id)
                .startedAt("2026-01-01T00:00:0" + epochs + "Z")
                .config(config)
                .environment(env)
                .layout(ReplicaLayout.of(config.trainingMaster(), config.partitions(), 1))
                .trainImages(1000)
                .testImages(200)
                .imagesPerReplica(500)
                .globalBatch(32)
                .stepsPerEpoch(16)
                .dataSource("src")
                .loadSeconds(1)
                .partitionSeconds(1)
                .setupSeconds(1)
                .trainSeconds(10.0 * epochs)
                .evalSeconds(epochs)
                .totalSeconds(11.0 * epochs)
                .completed(completed)
                .peakLearningRate(1e-4)
                .trainingTasks(List.of(new ExecutorTasks("driver", "127.0.0.1", 4)))
                .epochs(metrics)
                .build();
    }

    @Test
    void aCheckpointRestoresTheRunAndTheNetworkWithItsUpdater() {
        ResultStore store = ResultStore.open(tmp.resolve("out").toString(), new Configuration());
        TrainConfig config = TestConfigs.separable(tmp, tmp.resolve("out"), 2, TrainingMasterKind.SHARED);
        ComputationGraph net = SqueezeNetV11.build(config.model());
        net.getConfiguration().setIterationCount(123);
        RunResult r = run(config, "a", 2, false);
        Checkpoints.save(store, r, net);

        Checkpoints.Restored restored = Checkpoints.latest(store, config, LINK).orElseThrow();
        assertEquals(r, restored.run());
        assertEquals(net.params(), restored.net().params());
        assertEquals(net.getUpdater().getStateViewArray(), restored.net().getUpdater().getStateViewArray());
        assertEquals(123, restored.net().getConfiguration().getIterationCount());
    }

    @Test
    void onlyTheSameConfigurationOnAnyMasterIsResumedTheLatestFirst() {
        ResultStore store = ResultStore.open(tmp.resolve("out").toString(), new Configuration());
        TrainConfig config = TestConfigs.separable(tmp, tmp.resolve("out"), 2, TrainingMasterKind.SHARED);
        ComputationGraph net = SqueezeNetV11.build(config.model());
        Checkpoints.save(store, run(config, "older", 1, false), net);
        Checkpoints.save(store, run(config, "newer", 2, false), net);
        TrainConfig otherP = TestConfigs.separable(tmp, tmp.resolve("out"), 4, TrainingMasterKind.SHARED);
        assertTrue(Checkpoints.latest(store, otherP, LINK).isEmpty());
        assertEquals("newer", Checkpoints.latest(store, config, LINK).orElseThrow().run().runId());
        TrainConfig onCluster = new TrainConfig(config.data(), config.dataIsDefault(), config.out(),
                "spark://head:7077", 2, config.epochs(), config.batchPerReplica(), config.trainLimit(),
                config.trainingMaster(), config.averagingFrequency(), config.threshold(), config.lossSample(),
                config.evalBatch(), config.lrScaling(), config.warmupEpochs(), config.fixedGlobalBatch(),
                config.model(), Execution.SPARK);
        assertTrue(Checkpoints.latest(store, onCluster, LINK).isPresent(), "the same run on another master");
    }

    @Test
    void completedRunsAreFoundFromTheirJson() {
        ResultStore store = ResultStore.open(tmp.resolve("out").toString(), new Configuration());
        TrainConfig config = TestConfigs.separable(tmp, tmp.resolve("out"), 2, TrainingMasterKind.AVERAGING);
        store.writeRun(run(config, "unfinished", 2, false));
        assertTrue(Checkpoints.completed(store, config, LINK).isEmpty());
        store.writeRun(run(config, "done", 3, true));
        assertEquals("done", Checkpoints.completed(store, config, LINK).orElseThrow().runId());
        assertTrue(Checkpoints.completed(store, config, 100).isEmpty(), "a run over other links is another measurement");
    }

    @Test
    void rewritingARunsRowsKeepsOtherRunsAndRecordsEachEpochOnce() throws Exception {
        ResultStore store = ResultStore.open(tmp.resolve("out").toString(), new Configuration());
        TrainConfig config = TestConfigs.separable(tmp, tmp.resolve("out"), 2, TrainingMasterKind.SHARED);
        RunResult other = run(config, "other", 1, true);
        store.appendEpoch(other, other.epochs().get(0));
        RunResult crashed = run(config, "x", 3, false);
        for (EpochMetrics e : crashed.epochs()) {
            store.appendEpoch(crashed, e);
        }
        store.appendEpoch(crashed, crashed.epochs().get(2));
        store.rewriteRunRows(run(config, "x", 2, false));
        List<String> csv = java.nio.file.Files.readAllLines(tmp.resolve("out").resolve(ResultStore.CSV_NAME));
        assertEquals(4, csv.size(), String.join("\n", csv));
        assertTrue(csv.get(1).startsWith("other,"));
        assertTrue(csv.get(2).startsWith("x,") && csv.get(3).startsWith("x,"));
    }
}
