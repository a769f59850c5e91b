package org.sqzspark.job.upstream;

import java.util.Arrays;
import java.util.Random;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.ResidualPostProcessor;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.residual.ResidualClippingPostProcessor;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ResidualClippingTest {

    private static final double THRESHOLD = 1e-3;

    /** Values on both sides of both bounds, exactly on them, and zero. */
    private static INDArray residual() {
        Random random = new Random(7);
        float[] values = new float[10_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * 6 * THRESHOLD);
        }
        values[0] = (float) (5 * THRESHOLD);
        values[1] = (float) (-5 * THRESHOLD);
        values[2] = 0f;
        return Nd4j.createFromArray(values).castTo(DataType.FLOAT);
    }

    private static float[] after(ResidualPostProcessor processor, int iteration) {
        INDArray r = residual();
        processor.processResidual(iteration, 0, THRESHOLD, r);
        return r.toFloatVector();
    }

    @Test
    void clipsAsDl4jsPostProcessorDoes() {
        ResidualClippingPostProcessor dl4j = new ResidualClippingPostProcessor(5.0, 5);
        ResidualClipping ours = new ResidualClipping(5.0, 5);
        for (int iteration : new int[] {0, 1, 4, 5, 7, 10, 15}) {
            assertArrayEquals(after(dl4j, iteration), after(ours, iteration), "iteration " + iteration);
        }
        // and it does clip where it applies, and nowhere else
        assertNotEquals(Arrays.toString(residual().toFloatVector()), Arrays.toString(after(ours, 10)), "step 10");
        assertArrayEquals(residual().toFloatVector(), after(ours, 11), "step 11");
    }

    @Test
    void boundsFollowTheMultipleAndTheThreshold() {
        float[] clipped = after(new ResidualClipping(2.0, 1), 3);
        float max = Float.NEGATIVE_INFINITY;
        float min = Float.POSITIVE_INFINITY;
        for (float v : clipped) {
            max = Math.max(max, v);
            min = Math.min(min, v);
        }
        assertEquals((float) (2 * THRESHOLD), max);
        assertEquals((float) (-2 * THRESHOLD), min);
    }

    @Test
    void rejectsSettingsThatCannotClip() {
        assertThrows(IllegalArgumentException.class, () -> new ResidualClipping(0, 5));
        assertThrows(IllegalArgumentException.class, () -> new ResidualClipping(5, 0));
        assertThrows(IllegalArgumentException.class, () -> new ResidualClipping(Double.NaN, 5));
    }

    @Test
    void copiesAreEqual() {
        ResidualClipping r = new ResidualClipping(5.0, 5);
        assertEquals(r, r.clone());
        assertEquals(r.hashCode(), r.clone().hashCode());
        assertNotEquals(r, new ResidualClipping(4.0, 5));
        assertNotEquals(r, new ResidualClipping(5.0, 4));
    }
}
