package org.sqzspark.job.train.turns;

import java.util.Iterator;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.threshold.AdaptiveThresholdAlgorithm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.sqzspark.model.ModelConfig;
import org.sqzspark.model.Optimizer;
import org.sqzspark.model.SqueezeNetV11;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Synchronous SGD's arithmetic in turns: one round of P=2 replicas from the same weights against one
 * plain step of the same network on both minibatches together (dropout off, so the two compute the
 * same function).
 */
class SynchronousArithmeticTest {

    private static final double LR = 0.002;
    /** Float32 sums in another order: measured differences are about 1e-9 on parameters of about 0.1. */
    private static final double FLOAT_TOLERANCE = 1e-6;
    /** The training master's initial threshold (the job's default). */
    private static final double THRESHOLD = 1e-5;

    /** Replicas in turns, their parameters and updater states averaged, and not merged into one pass. */
    @ParameterizedTest
    @EnumSource(value = Optimizer.class, names = {"SGD", "NESTEROV"})
    void averagingEveryMinibatchAtTwoReplicasIsOnePlainStepOnBothMinibatches(Optimizer optimizer) {
        DataSet a = minibatch(1);
        DataSet b = minibatch(2);
        ComputationGraph inTurns = SqueezeNetV11.build(model(optimizer, LR));
        ComputationGraph plain = SqueezeNetV11.build(model(optimizer, LR));
        INDArray before = plain.params().dup();

        int rounds = new AveragingInTurns(inTurns, 2, 1, false).fitEpoch(List.of(one(a), one(b)), 0);
        plain.fit(DataSet.merge(List.of(a, b)));

        assertEquals(1, rounds);
        assertTrue(maxAbs(plain.params().sub(before)) > 1e-4, "the plain step moved the parameters");
        assertClose(plain.params(), inTurns.params(), FLOAT_TOLERANCE, "parameters");
        if (optimizer == Optimizer.NESTEROV) {
            assertClose(UpdaterState.of(plain), UpdaterState.of(inTurns), FLOAT_TOLERANCE, "momentum");
        }
        assertEquals(1, inTurns.getIterationCount());
    }

    @Test
    void averagingWeighsEveryReplicaTheSameAndSkipsReplicasWithoutData() {
        DataSet a = minibatch(1);
        DataSet b = minibatch(2);
        ComputationGraph inTurns = SqueezeNetV11.build(model(Optimizer.SGD, LR));
        ComputationGraph plain = SqueezeNetV11.build(model(Optimizer.SGD, LR));

        // replica 1 has a second minibatch, replica 0 none: round 2 is replica 1's step alone
        int rounds = new AveragingInTurns(inTurns, 2, 1, false).fitEpoch(List.of(one(a), List.of(b, a).iterator()), 0);
        plain.fit(DataSet.merge(List.of(a, b)));
        plain.fit(a);

        assertEquals(2, rounds);
        assertClose(plain.params(), inTurns.params(), FLOAT_TOLERANCE, "parameters");
        assertEquals(2, inTurns.getIterationCount());
    }

    @Test
    void sharingAtReplicaRateOverPSumsToOnePlainStepUpToTheResiduals() {
        DataSet a = minibatch(1);
        DataSet b = minibatch(2);
        ComputationGraph inTurns = SqueezeNetV11.build(model(Optimizer.NESTEROV, LR / 2));
        ComputationGraph plain = SqueezeNetV11.build(model(Optimizer.NESTEROV, LR));
        INDArray before = inTurns.params().dup();

        SharingInTurns sharing = new SharingInTurns(inTurns, 2, new AdaptiveThresholdAlgorithm(THRESHOLD), null);
        sharing.fitEpoch(List.of(one(a), one(b)), 0);
        plain.fit(DataSet.merge(List.of(a, b)));

        INDArray heldBack = sharing.residual(0).add(sharing.residual(1));
        INDArray applied = before.sub(inTurns.params());
        INDArray plainUpdate = before.sub(plain.params());
        // the encoding's error: what the replicas hold back for later steps, stated against the update
        double error = maxAbs(heldBack);
        double update = maxAbs(plainUpdate);
        System.err.printf("gradient sharing at P=2, threshold %.0e: largest update %.3e, held back at most %.3e,"
                + " %.1f%% of the values applied%n", THRESHOLD, update, error,
                100.0 * applied.neq(0).castTo(DataType.INT32).sumNumber().doubleValue() / applied.length());
        assertTrue(maxAbs(applied) > 0, "the encoded updates moved the parameters");
        assertTrue(error <= update, "no replica holds back more than the update");
        assertClose(plainUpdate, applied.add(heldBack), FLOAT_TOLERANCE, "applied plus held-back updates");
    }

    private static ModelConfig model(Optimizer optimizer, double lr) {
        return new ModelConfig(10, 7, optimizer, lr, 0.9, 5e-4, 0.0);
    }

    private static DataSet minibatch(long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray features = Nd4j.rand(DataType.FLOAT, 4, 3, 32, 32).subi(0.5).muli(2);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 4, 10);
        for (int i = 0; i < 4; i++) {
            labels.putScalar(i, (int) ((seed * 3 + i) % 10), 1f);
        }
        return new DataSet(features, labels);
    }

    private static Iterator<DataSet> one(DataSet d) {
        return List.of(d).iterator();
    }

    private static double maxAbs(INDArray x) {
        return x.amaxNumber().doubleValue();
    }

    private static void assertClose(INDArray expected, INDArray actual, double tolerance, String what) {
        double diff = maxAbs(expected.sub(actual));
        assertTrue(diff <= tolerance, what + " differ by " + diff + " (tolerance " + tolerance + ")");
    }
}
