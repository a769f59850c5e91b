package org.sqzspark.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A sharded step is a step on the whole minibatch: same parameters after training, same updater
 * state, same score and outputs, whether or not the machine has the cores (a team is set here).
 */
class ShardedGraphTest {

    /** Nesterov momentum with L2, as the job trains, without dropout so that both sides draw nothing. */
    private static final ModelConfig NO_DROPOUT = new ModelConfig(10, 5, Optimizer.NESTEROV, 0.01, 0.9, 5e-4, 0.0);

    @Test
    void shardedStepsTrainAsStepsOnTheWholeMinibatch() {
        ComputationGraph whole = new ComputationGraph(SqueezeNetV11.configuration(NO_DROPOUT));
        whole.init();
        ShardedGraph sharded = SqueezeNetV11.build(NO_DROPOUT);
        assertEquals(whole.params(), sharded.params());
        INDArray initial = whole.params().dup();
        DataSet batch = batch(48, 1);

        double[] scores = new double[2];
        NativeThreads.runWithTeam(1, () -> {
            for (int step = 0; step < 3; step++) {
                whole.fit(batch);
            }
            scores[0] = whole.score();
        });
        NativeThreads.runWithTeam(3, () -> {
            for (int step = 0; step < 3; step++) {
                sharded.fit(batch);
            }
            scores[1] = sharded.score();
        });

        assertEquals(2, sharded.shardCopies(), "48 examples on a team of 3: 3 shards of 16");
        // the steps' effect, not the parameters, which hardly move in three steps
        assertClose(whole.params().sub(initial), sharded.params().sub(initial), 1e-4);
        assertClose(whole.getUpdater().getStateViewArray(), sharded.getUpdater().getStateViewArray(), 2e-5);
        assertEquals(scores[0], scores[1], 1e-4 * Math.abs(scores[0]));
        assertEquals(3, sharded.getIterationCount());
    }

    @Test
    void regularizationTermIsDl4jsSumOverTheWeights() {
        ModelConfig l2 = new ModelConfig(10, 5, Optimizer.NESTEROV, 0.01, 0.9, 3e-3, 0.5);
        ComputationGraph plain = new ComputationGraph(SqueezeNetV11.configuration(l2));
        plain.init();
        ShardedGraph sharded = SqueezeNetV11.build(l2);
        Nd4j.getRandom().setSeed(8);
        sharded.setParams(Nd4j.rand(DataType.FLOAT, 1, sharded.numParams()).subi(0.5));
        plain.setParams(sharded.params().dup());
        double expected = plain.calcRegularizationScore(true);
        assertTrue(sharded.sumsL2InOneProduct());
        assertEquals(expected, sharded.calcRegularizationScore(true), 1e-5 * expected);
        // biases carry no L2: a bias changed leaves the term as it was
        sharded.getLayer("conv10").getParam("b").addi(3.0);
        assertEquals(expected, sharded.calcRegularizationScore(true), 1e-5 * expected);
    }

    @Test
    void shardedInferenceGivesTheWholeMinibatchsOutputs() {
        ShardedGraph sharded = SqueezeNetV11.build(NO_DROPOUT);
        INDArray images = batch(37, 2).getFeatures();
        AtomicReference<INDArray> whole = new AtomicReference<>();
        AtomicReference<INDArray> inShards = new AtomicReference<>();
        NativeThreads.runWithTeam(1, () -> whole.set(sharded.outputSingle(images)));
        NativeThreads.runWithTeam(2, () -> inShards.set(sharded.outputSingle(images)));
        assertArrayEquals(new long[] {37, 10}, inShards.get().shape());
        assertClose(whole.get(), inShards.get(), 1e-5);
        assertEquals(1, sharded.shardCopies());
    }

    @Test
    void dropoutMasksFollowTheSeedOfTheCallingThread() {
        ModelConfig dropout = new ModelConfig(10, 5, Optimizer.NESTEROV, 0.01, 0.9, 5e-4, 0.5);
        DataSet batch = batch(32, 3);
        INDArray[] trained = new INDArray[3];
        for (int run = 0; run < trained.length; run++) {
            ShardedGraph net = SqueezeNetV11.build(dropout);
            Nd4j.getRandom().setSeed(run < 2 ? 17 : 18);
            NativeThreads.runWithTeam(2, () -> {
                net.fit(batch);
                net.fit(batch);
            });
            trained[run] = net.params();
        }
        assertEquals(trained[0], trained[1]);
        assertNotEquals(trained[0], trained[2]);
    }

    @Test
    void aMinibatchTooSmallForTwoShardsTrainsInOne() {
        ShardedGraph net = SqueezeNetV11.build(NO_DROPOUT);
        NativeThreads.runWithTeam(2, () -> net.fit(batch(ShardedGraph.MIN_SHARD * 2 - 1, 4)));
        assertEquals(0, net.shardCopies());
        assertEquals(1, ShardedGraph.shards(31, 2));
        assertEquals(2, ShardedGraph.shards(32, 2));
        assertEquals(2, ShardedGraph.shards(64, 2));
        assertEquals(1, ShardedGraph.shards(64, 1));
        assertEquals(4, ShardedGraph.shards(64, 4));
        assertEquals(2, ShardedGraph.shards(32, 4));
    }

    @Test
    void shardsSplitExamplesAndThreadsWithTheRemainderFirst() {
        assertArrayEquals(new long[] {0, 17, 33, 49}, ShardedGraph.bounds(49, 3));
        assertArrayEquals(new long[] {0, 32, 64}, ShardedGraph.bounds(64, 2));
        assertArrayEquals(new int[] {2, 1}, ShardedGraph.teams(3, 2));
        assertArrayEquals(new int[] {2, 2}, ShardedGraph.teams(4, 2));
        assertArrayEquals(new int[] {1, 1}, ShardedGraph.teams(2, 2));
    }

    @Test
    void aFailingShardFailsTheStepAndLeavesTheGraphUsable() {
        ShardedGraph net = SqueezeNetV11.build(NO_DROPOUT);
        DataSet good = batch(32, 5);
        // labels of 7 classes for a 10-class network: every shard's loss fails
        DataSet bad = new DataSet(good.getFeatures(), Nd4j.zeros(DataType.FLOAT, 32, 7));
        INDArray before = net.params().dup();
        NativeThreads.runWithTeam(2, () -> assertThrows(RuntimeException.class, () -> net.fit(bad)));
        assertEquals(before, net.params());
        NativeThreads.runWithTeam(2, () -> net.fit(good));
        assertTrue(Double.isFinite(net.score()));
        assertNotEquals(before, net.params());
    }

    @Test
    void ofSharesTheParametersAndCopiesTheUpdaterState() {
        ComputationGraph plain = new ComputationGraph(SqueezeNetV11.configuration(NO_DROPOUT));
        plain.init();
        NativeThreads.runWithTeam(1, () -> plain.fit(batch(16, 6)));
        ShardedGraph sharded = ShardedGraph.of(plain);
        assertSame(plain.params(), sharded.params());
        assertSame(plain.getConfiguration(), sharded.getConfiguration());
        assertEquals(plain.getUpdater().getStateViewArray(), sharded.getUpdater().getStateViewArray());
        assertSame(sharded, ShardedGraph.of(sharded));
        assertInstanceOf(ShardedGraph.class, sharded.clone());
    }

    /** Separable random images: each class shifts its images' mean. */
    private static DataSet batch(int examples, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray images = Nd4j.rand(DataType.FLOAT, examples, 3, 32, 32);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, examples, 10);
        for (int i = 0; i < examples; i++) {
            labels.putScalar(i, i % 10, 1.0);
            images.slice(i).addi((i % 10) * 0.1);
        }
        return new DataSet(images, labels);
    }

    private static void assertClose(INDArray expected, INDArray actual, double relative) {
        double scale = Math.max(1e-6, expected.norm2Number().doubleValue());
        double difference = expected.sub(actual).norm2Number().doubleValue();
        assertTrue(difference <= relative * scale,
                "difference " + difference + " against " + relative + " x norm " + scale);
    }
}
