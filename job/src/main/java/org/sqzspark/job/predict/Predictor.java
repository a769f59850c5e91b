package org.sqzspark.job.predict;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sqzspark.data.CifarImages;
import org.sqzspark.data.DataSetEncoder;
import org.sqzspark.model.NativeThreads;

/**
 * Inference with a {@link TrainedModel}: class probabilities of images, normalized by the same
 * encoder and statistics as training ({@link DataSetEncoder}), the test set's confusion matrix, and
 * the network's latency and throughput.
 */
public final class Predictor {

    /** Images per forward pass when classifying many. */
    public static final int BATCH = 32;
    /** The batch of the throughput figure. */
    public static final int THROUGHPUT_BATCH = 32;

    private final TrainedModel model;
    private final ComputationGraph net;

    /** Inference with {@code model}, on the calling thread. */
    public Predictor(TrainedModel model) {
        this.model = model;
        this.net = model.net();
    }

    /** One class and its probability. */
    public record Ranked(int label, float probability) {
    }

    /**
     * Latency and throughput of the network, input preparation excluded.
     *
     * @param latencyMillis    median wall-clock of one image at batch 1, in milliseconds
     * @param imagesPerSecond  images per second at batch {@value #THROUGHPUT_BATCH}
     * @param runs             timed forward passes of each
     * @param warmup           untimed passes of each before them
     */
    public record Timing(double latencyMillis, double imagesPerSecond, int runs, int warmup) {
    }

    /** Class probabilities of images {@code from} (inclusive) to {@code to} (exclusive), one row each. */
    public float[][] probabilities(CifarImages images, int from, int to) {
        INDArray features = DataSetEncoder.encode(images, from, to, model.stats()).getFeatures();
        return net.outputSingle(false, features).toFloatMatrix();
    }

    /** The {@code k} most probable classes, most probable first; ties go to the lower label. */
    public static List<Ranked> top(float[] probabilities, int k) {
        Integer[] order = new Integer[probabilities.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(probabilities[b], probabilities[a]));
        List<Ranked> out = new ArrayList<>(k);
        for (int i = 0; i < Math.min(k, order.length); i++) {
            out.add(new Ranked(order[i], probabilities[order[i]]));
        }
        return out;
    }

    /** The predicted class of each of {@code images}, against its label. */
    public ConfusionMatrix evaluate(CifarImages images) {
        ConfusionMatrix matrix = new ConfusionMatrix();
        for (int from = 0; from < images.size(); from += BATCH) {
            int to = Math.min(images.size(), from + BATCH);
            float[][] p = probabilities(images, from, to);
            for (int i = 0; i < p.length; i++) {
                matrix.add(images.label(from + i), top(p[i], 1).get(0).label());
            }
        }
        return matrix;
    }

    /**
     * Times {@code runs} forward passes of one image (the first of {@code images}) and as many of
     * {@value #THROUGHPUT_BATCH} images ({@code images} repeated as needed), each after {@code warmup}
     * untimed passes: the JIT compiles the path and the native buffers are allocated over the first.
     */
    public Timing time(CifarImages images, int warmup, int runs) {
        // the calling thread's OpenMP team as the job configures it (OMP_NUM_THREADS, else all cores)
        NativeThreads.useConfiguredTeam();
        INDArray one = DataSetEncoder.encode(images, 0, 1, model.stats()).getFeatures();
        int[] cycle = new int[THROUGHPUT_BATCH];
        for (int i = 0; i < cycle.length; i++) {
            cycle[i] = i % images.size();
        }
        INDArray batch = DataSetEncoder.encode(images.select(cycle), 0, THROUGHPUT_BATCH, model.stats()).getFeatures();
        long[] single = new long[runs];
        for (int i = 0; i < warmup + runs; i++) {
            long t = System.nanoTime();
            net.outputSingle(false, one);
            if (i >= warmup) {
                single[i - warmup] = System.nanoTime() - t;
            }
        }
        for (int i = 0; i < warmup; i++) {
            net.outputSingle(false, batch);
        }
        long t = System.nanoTime();
        for (int i = 0; i < runs; i++) {
            net.outputSingle(false, batch);
        }
        double seconds = (System.nanoTime() - t) / 1e9;
        return new Timing(median(single) / 1e6, (double) THROUGHPUT_BATCH * runs / seconds, runs, warmup);
    }

    static double median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
    }
}
