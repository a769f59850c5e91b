package org.sqzspark.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class RowCopyTest {

    @Test
    void copiesAViewOfWholeRowsValueForValue() {
        INDArray merged = Nd4j.rand(DataType.FLOAT, 3, 4, 5, 24);
        // the second half of the channels, as a concatenation's backward pass hands it out
        INDArray view = merged.get(all(), all(), all(), interval(8, 24));
        assertTrue(RowCopy.copiesByRows(view));
        INDArray dense = Nd4j.createUninitialized(DataType.FLOAT, view.shape(), 'c');
        RowCopy.copyRows(view, dense);
        assertEquals(view.dup('c'), dense);
        // and the view's buffer is left as it was
        assertEquals(merged.get(all(), all(), all(), interval(8, 24)), dense);
    }

    @Test
    void copiesAViewWithAnOffsetInEveryDimension() {
        INDArray big = Nd4j.rand(DataType.FLOAT, 6, 7, 9, 20);
        INDArray view = big.get(interval(1, 5), interval(2, 2, 7), interval(3, 8), interval(4, 16));
        INDArray dense = Nd4j.createUninitialized(DataType.FLOAT, view.shape(), 'c');
        RowCopy.copyRows(view, dense);
        assertEquals(view.dup('c'), dense);
    }

    @Test
    void leavesShortRowsStridedRowsAndOtherTypesToLibnd4j() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 6, 16);
        assertFalse(RowCopy.copiesByRows(x.get(all(), all(), interval(0, 4))), "rows shorter than a memcpy pays for");
        assertFalse(RowCopy.copiesByRows(x.permute(0, 2, 1)), "innermost dimension strided");
        assertFalse(RowCopy.copiesByRows(Nd4j.rand(DataType.DOUBLE, 4, 16)), "doubles");
        assertFalse(RowCopy.isDense(x.get(all(), all(), interval(0, 8))));
        assertTrue(RowCopy.isDense(x));
    }

    @Test
    void refusesATargetOfAnotherShape() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 16);
        INDArray wrong = Nd4j.create(DataType.FLOAT, 2, 32);
        assertThrows(IllegalArgumentException.class, () -> RowCopy.copyRows(x, wrong));
    }

    @Test
    void gathersAPermutedViewOfAWeightTensor() {
        // a parameter view at an offset in a larger array, as DL4J lays out a layer's weights
        INDArray flat = Nd4j.rand(DataType.FLOAT, 1, 5 + 8 * 6 * 3 * 3 + 7);
        INDArray weights = flat.get(point(0), interval(5, 5 + 8 * 6 * 3 * 3)).reshape('c', 8, 6, 3, 3);
        INDArray dense = Nd4j.createUninitialized(DataType.FLOAT, new long[] {8, 3, 3, 6}, 'c');
        long[] s = weights.stride();
        RowCopy.gather(weights, 0, new long[] {8, 3, 3, 6}, new long[] {s[0], s[2], s[3], s[1]}, dense);
        assertEquals(weights.permute(0, 2, 3, 1).dup('c'), dense);
    }

    @Test
    void gathersAFlippedAxisThroughANegativeStride() {
        INDArray weights = Nd4j.rand(DataType.FLOAT, 4, 5, 3, 3);
        INDArray dense = Nd4j.createUninitialized(DataType.FLOAT, new long[] {5, 3, 3, 4}, 'c');
        long[] s = weights.stride();
        RowCopy.gather(weights, 2 * s[3], new long[] {5, 3, 3, 4}, new long[] {s[1], s[2], -s[3], s[0]}, dense);
        for (int o = 0; o < 4; o++) {
            for (int i = 0; i < 5; i++) {
                for (int h = 0; h < 3; h++) {
                    for (int w = 0; w < 3; w++) {
                        assertEquals(weights.getFloat(o, i, h, 2 - w), dense.getFloat(i, h, w, o));
                    }
                }
            }
        }
    }

    @Test
    void refusesAGatherOutsideItsSource() {
        INDArray small = Nd4j.rand(DataType.FLOAT, 2, 3);
        INDArray target = Nd4j.create(DataType.FLOAT, 3, 2);
        assertThrows(IllegalStateException.class,
                () -> RowCopy.gather(small, 1, new long[] {3, 2}, new long[] {1, 3}, target), "past the end");
        assertThrows(IllegalStateException.class,
                () -> RowCopy.gather(small, 0, new long[] {3, 2}, new long[] {-1, 3}, target), "before the start");
        assertThrows(IllegalArgumentException.class,
                () -> RowCopy.gather(small, 0, new long[] {2, 2}, new long[] {1, 3}, target), "target of another size");
        RowCopy.gather(small, 0, new long[] {3, 2}, new long[] {1, 3}, target);
        assertEquals(small.transpose().dup('c'), target);
    }

    @Test
    void patchesMatchThoseCopiedFromAPaddedInput() {
        // {h, w, c, kernel, stride, pad}: conv1 (3x3/2, no padding), a fire module's padded 3x3, a 1-wide map, a 5x5
        int[][] cases = {{32, 32, 3, 3, 2, 0}, {7, 7, 16, 3, 1, 1}, {3, 3, 32, 3, 1, 1}, {1, 1, 8, 3, 1, 1},
            {6, 5, 4, 5, 1, 2}, {9, 9, 2, 3, 2, 1}};
        for (int[] c : cases) {
            for (boolean flip : new boolean[] {false, true}) {
                INDArray x = Nd4j.rand(DataType.FLOAT, 2, c[0], c[1], c[2]);
                INDArray expected = padAndCopy(x, c[3], c[4], c[5], flip);
                INDArray patches = Nd4j.createUninitialized(DataType.FLOAT, expected.shape(), 'c');
                // garbage where padding goes: the copy must write its zeros
                patches.assign(Float.NaN);
                RowCopy.patches(x, patches, c[3], c[3], c[4], c[5], flip);
                assertArrayEquals(expected.data().asFloat(), patches.data().asFloat(),
                        "h, w, c, kernel, stride, pad " + java.util.Arrays.toString(c) + ", flipped rows " + flip);
            }
        }
    }

    @Test
    void refusesPatchesOfTheWrongSize() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 7, 7, 16);
        INDArray small = Nd4j.create(DataType.FLOAT, 2, 7, 7, 3, 47);
        assertThrows(IllegalArgumentException.class, () -> RowCopy.patches(x, small, 3, 3, 1, 1, false));
    }

    /** The patch matrix as libnd4j's assigns make it: a zero-padded copy, then one slice per kernel row and column. */
    private static INDArray padAndCopy(INDArray x, int k, int stride, int pad, boolean flipRows) {
        long n = x.size(0);
        long h = x.size(1);
        long w = x.size(2);
        long c = x.size(3);
        INDArray padded = Nd4j.zeros(DataType.FLOAT, n, h + 2L * pad, w + 2L * pad, c);
        padded.get(all(), interval(pad, pad + h), interval(pad, pad + w), all()).assign(x);
        long outH = (h + 2L * pad - k) / stride + 1;
        long outW = (w + 2L * pad - k) / stride + 1;
        INDArray patches = Nd4j.create(DataType.FLOAT, n, outH, outW, k, k * c);
        for (int i = 0; i < k; i++) {
            int row = flipRows ? k - 1 - i : i;
            for (int j = 0; j < k; j++) {
                INDArray window = padded.get(all(),
                        interval(row, stride, row + stride * (outH - 1) + 1),
                        interval(j, stride, j + stride * (outW - 1) + 1), all());
                patches.get(all(), all(), all(), point(i), interval(j * c, (j + 1) * c)).assign(window);
            }
        }
        return patches;
    }
}
