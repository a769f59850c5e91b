package org.sqzspark.job.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.sqzspark.job.SyntheticCifar;
import org.sqzspark.job.TestConfigs;
import org.sqzspark.job.cli.Main;
import org.sqzspark.job.results.RunResult;
import org.sqzspark.job.upstream.SharedTrainingWithoutCount;
import org.sqzspark.model.ShardedGraph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Trains the real network with each DL4J training master on local[2]. */
class TrainIT {

    @TempDir
    static Path tmp;
    static Path data;

    @BeforeAll
    static void writeData() throws Exception {
        data = SyntheticCifar.write(tmp.resolve("cifar"), 200, 40, 7);
    }

    @ParameterizedTest
    @EnumSource(TrainingMasterKind.class)
    void learnsSeparableDataWithTwoReplicas(TrainingMasterKind kind) {
        TrainConfig config = TestConfigs.separable(data, tmp.resolve("out-" + kind), 2, kind);
        List<RunResult> results = Runs.execute(List.of(config));
        RunResult run = results.get(0);
        assertEquals(2, run.layout().partitions());
        assertEquals(config.epochs(), run.epochs().size());
        assertTrue(run.finalTestAccuracy() >= 0.9,
                kind + " reached only " + run.finalTestAccuracy() + " test accuracy: " + run.epochs());
        assertTrue(run.epochs().get(0).trainLoss() > run.epochs().get(run.epochs().size() - 1).trainLoss(),
                "training loss did not fall: " + run.epochs());
    }

    @ParameterizedTest
    @EnumSource(TrainingMasterKind.class)
    void aReplicaWithTwoCoresSpreadsEachMinibatchOverThem(TrainingMasterKind kind) {
        assumeTrue(Runtime.getRuntime().availableProcessors() >= 2 && System.getenv("OMP_NUM_THREADS") == null,
                "one core, or a team set by OMP_NUM_THREADS");
        int batch = 2 * ShardedGraph.MIN_SHARD;
        TrainConfig config = TestConfigs.separable(data, tmp.resolve("out-sharded-" + kind), 1, kind, batch);
        long before = ShardedGraph.shardedSteps();
        RunResult run = Runs.execute(List.of(config)).get(0);
        // every whole minibatch of the epoch in two shards, on the network the executor trains
        assertEquals((long) config.epochs() * (run.trainImages() / batch), ShardedGraph.shardedSteps() - before);
        assertTrue(run.epochs().get(0).trainLoss() > run.epochs().get(run.epochs().size() - 1).trainLoss(),
                "training loss did not fall: " + run.epochs());
    }

    @Test
    void gradientSharingAtOneReplicaLearnsOnTheNetworkItBuiltOnce() {
        TrainConfig config = TestConfigs.separable(data, tmp.resolve("out-shared-p1"), 1, TrainingMasterKind.SHARED);
        int builtBefore = SharedTrainingWithoutCount.NetworkOncePerExecutor.networksBuilt();
        int resynchronisedBefore = SharedTrainingWithoutCount.NetworkOncePerExecutor.resynchronisations();
        List<Integer> afterEpoch = new ArrayList<>();
        RunResult run = Runs.execute(List.of(config), false, afterEpoch::add).get(0);
        // DL4J's own worker builds one for every epoch, and the wrapper trains the first
        assertEquals(1, SharedTrainingWithoutCount.NetworkOncePerExecutor.networksBuilt() - builtBefore);
        // every later epoch starts from the driver's parameters, on that network
        assertEquals(config.epochs() - 1,
                SharedTrainingWithoutCount.NetworkOncePerExecutor.resynchronisations() - resynchronisedBefore);
        assertEquals(IntStream.rangeClosed(1, config.epochs()).boxed().toList(), afterEpoch);
        assertTrue(run.finalTestAccuracy() >= 0.9,
                "reached only " + run.finalTestAccuracy() + " test accuracy: " + run.epochs());
        assertTrue(run.epochs().get(0).trainLoss() > run.epochs().get(run.epochs().size() - 1).trainLoss(),
                "training loss did not fall: " + run.epochs());
    }
}
