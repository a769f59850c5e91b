package org.sqzspark.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class MatrixProductTest {

    @Test
    void agreesWithNd4jGemmForEveryTransposeAlphaAndBeta() {
        Nd4j.getRandom().setSeed(7);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                INDArray a = Nd4j.rand(DataType.FLOAT, ta ? new long[] {5, 4} : new long[] {4, 5});
                INDArray b = Nd4j.rand(DataType.FLOAT, tb ? new long[] {3, 5} : new long[] {5, 3});
                INDArray start = Nd4j.rand(DataType.FLOAT, 4, 3);
                for (double[] ab : new double[][] {{1, 0}, {0.5, 1}, {2, -0.25}}) {
                    INDArray expected = start.dup();
                    Nd4j.gemm(a, b, expected, ta, tb, ab[0], ab[1]);
                    INDArray actual = start.dup();
                    MatrixProduct.gemm(a, b, actual, ta, tb, ab[0], ab[1]);
                    assertEquals(expected, actual, "transposeA " + ta + ", transposeB " + tb + ", alpha " + ab[0]
                            + ", beta " + ab[1]);
                }
            }
        }
    }

    @Test
    void readsViewsWithOffsetsAndWritesADenseRowOfALargerArray() {
        INDArray params = Nd4j.linspace(DataType.FLOAT, 1, 60, 1).reshape(1, 60);
        // a [3, 4] weight matrix at offset 10 of a parameter row, as a layer's weights are
        INDArray weights = params.get(all(), interval(10, 22)).reshape('c', 3, 4);
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 4);
        INDArray grads = Nd4j.zeros(DataType.FLOAT, 1, 40);
        INDArray out = grads.get(all(), interval(30, 36)).reshape('c', 2, 3);
        MatrixProduct.gemm(x, weights, out, false, true, 1.0, 0.0);
        assertEquals(x.mmul(weights.transpose()), out);
        assertEquals(0.0, grads.get(all(), interval(0, 30)).sumNumber().doubleValue());
    }

    @Test
    void refusesAStridedResult() {
        INDArray c = Nd4j.zeros(DataType.FLOAT, 4, 6).get(all(), interval(0, 2, 6));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MatrixProduct.gemm(Nd4j.ones(DataType.FLOAT, 4, 2), Nd4j.ones(DataType.FLOAT, 2, 3), c,
                        false, false, 1.0, 0.0));
        assertEquals("gemm: C must be one dense run (not a strided view)", e.getMessage());
    }
}
