package org.sqzspark.data;

import static org.sqzspark.data.CifarFormat.CHANNELS;
import static org.sqzspark.data.CifarFormat.CLASSES;
import static org.sqzspark.data.CifarFormat.HEIGHT;
import static org.sqzspark.data.CifarFormat.IMAGE_BYTES;
import static org.sqzspark.data.CifarFormat.PLANE_BYTES;
import static org.sqzspark.data.CifarFormat.WIDTH;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Turns CIFAR-10 records into ND4J {@link DataSet}s: features FLOAT {@code [n, 3, 32, 32]} (NCHW)
 * normalized per channel as {@code (pixel / 255 - mean[c]) / std[c]}, labels FLOAT one-hot
 * {@code [n, 10]}.
 */
public final class DataSetEncoder {

    private DataSetEncoder() {
    }

    /**
     * Encodes records {@code from} (inclusive) to {@code to} (exclusive).
     *
     * @throws IllegalArgumentException if the range is empty
     * @throws IndexOutOfBoundsException if the range lies outside {@code images}
     */
    public static DataSet encode(CifarImages images, int from, int to, ChannelStats stats) {
        Objects.checkFromToIndex(from, to, images.size());
        Objects.requireNonNull(stats, "stats");
        int n = to - from;
        if (n == 0) {
            throw new IllegalArgumentException("cannot encode an empty range of records (from = to = " + from + ")");
        }
        float[][] normalized = lookupTables(stats);
        byte[] pixels = images.pixelBytes();
        byte[] labels = images.labelBytes();
        // The file's CHW byte order is already NCHW, so pixels map one to one onto the feature array.
        // Each image goes through a 12 KB array into the native buffer in one block: a float[] of
        // the whole minibatch (768 KB at 64 images) would be a humongous object to G1, and
        // Nd4j.create(float[], ...) copies element by element.
        INDArray features = Nd4j.createUninitialized(DataType.FLOAT, new long[] {n, CHANNELS, HEIGHT, WIDTH}, 'c');
        FloatBuffer target = features.data().asNioFloat();
        float[] image = new float[IMAGE_BYTES];
        INDArray oneHot = Nd4j.zeros(DataType.FLOAT, n, CLASSES);
        for (int i = 0; i < n; i++) {
            int source = (from + i) * IMAGE_BYTES;
            for (int c = 0; c < CHANNELS; c++) {
                float[] table = normalized[c];
                int plane = c * PLANE_BYTES;
                for (int k = plane; k < plane + PLANE_BYTES; k++) {
                    image[k] = table[pixels[source + k] & 0xFF];
                }
            }
            target.put(image);
            oneHot.putScalar(i, labels[from + i] & 0xFF, 1f);
        }
        return new DataSet(features, oneHot);
    }

    /**
     * Consecutive minibatches of {@code batchSize} records covering all of {@code images} in order;
     * the last one holds the remainder and may be smaller.
     *
     * @throws IllegalArgumentException if {@code batchSize} &lt; 1
     */
    public static List<DataSet> minibatches(CifarImages images, int batchSize, ChannelStats stats) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, found " + batchSize);
        }
        List<DataSet> batches = new ArrayList<>((images.size() + batchSize - 1) / batchSize);
        for (int from = 0; from < images.size(); from += batchSize) {
            batches.add(encode(images, from, Math.min(images.size(), from + batchSize), stats));
        }
        return batches;
    }

    /**
     * The normalized value of every possible byte per channel: 768 divisions instead of one per
     * pixel, and the same float expression for every pixel with the same value.
     */
    private static float[][] lookupTables(ChannelStats stats) {
        float[][] tables = new float[CHANNELS][256];
        for (int c = 0; c < CHANNELS; c++) {
            float mean = stats.mean(c);
            float std = stats.std(c);
            for (int v = 0; v < 256; v++) {
                tables[c][v] = (v / 255f - mean) / std;
            }
        }
        return tables;
    }
}
