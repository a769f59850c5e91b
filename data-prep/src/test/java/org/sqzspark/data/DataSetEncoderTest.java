package org.sqzspark.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

class DataSetEncoderTest {

    private final CifarImages images = TestCifarFiles.images(5, 5);
    private final ChannelStats stats = new ChannelStats(new float[] {0.4f, 0.5f, 0.6f}, new float[] {0.2f, 0.25f, 0.3f});

    @Test
    void encodesNormalizedNchwFeaturesAndOneHotLabels() {
        DataSet data = DataSetEncoder.encode(images, 1, 4, stats);
        INDArray features = data.getFeatures();
        INDArray labels = data.getLabels();

        assertArrayEquals(new long[] {3, 3, 32, 32}, features.shape());
        assertArrayEquals(new long[] {3, 10}, labels.shape());
        assertEquals(DataType.FLOAT, features.dataType());
        assertEquals(DataType.FLOAT, labels.dataType());
        float[] mean = stats.mean();
        float[] std = stats.std();
        for (int i = 0; i < 3; i++) {
            for (int c = 0; c < 3; c++) {
                for (int[] at : new int[][] {{0, 0}, {0, 31}, {17, 4}, {31, 31}}) {
                    float expected = (images.pixel(1 + i, c, at[0], at[1]) / 255f - mean[c]) / std[c];
                    assertEquals(expected, features.getFloat(i, c, at[0], at[1]));
                }
            }
            for (int k = 0; k < 10; k++) {
                assertEquals(k == images.label(1 + i) ? 1f : 0f, labels.getFloat(i, k));
            }
        }
    }

    @Test
    void encodesWholeRangeExactly() {
        float[] flat = DataSetEncoder.encode(images, 0, 1, stats).getFeatures().data().asFloat();

        for (int k = 0; k < CifarFormat.IMAGE_BYTES; k++) {
            int c = k / 1024;
            int row = (k % 1024) / 32;
            int col = k % 32;
            float expected = (images.pixel(0, c, row, col) / 255f - stats.mean(c)) / stats.std(c);
            assertEquals(expected, flat[k]);
        }
    }

    @Test
    void minibatchesCoverAllRecordsInOrderWithSmallerLastBatch() {
        List<DataSet> batches = DataSetEncoder.minibatches(images, 2, stats);

        assertEquals(3, batches.size());
        assertEquals(2, batches.get(0).numExamples());
        assertEquals(2, batches.get(1).numExamples());
        assertEquals(1, batches.get(2).numExamples());
        assertEquals(DataSetEncoder.encode(images, 4, 5, stats).getFeatures(), batches.get(2).getFeatures());
        assertEquals(DataSetEncoder.encode(images, 2, 4, stats).getLabels(), batches.get(1).getLabels());
    }

    @Test
    void rejectsEmptyRangeAndBadBatchSize() {
        assertThrows(IllegalArgumentException.class, () -> DataSetEncoder.encode(images, 2, 2, stats));
        assertThrows(IndexOutOfBoundsException.class, () -> DataSetEncoder.encode(images, 3, 6, stats));
        assertThrows(IllegalArgumentException.class, () -> DataSetEncoder.minibatches(images, 0, stats));
    }
}
