package org.sqzspark.job;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.datasets.iterator.AsyncDataSetIterator;
import org.deeplearning4j.datasets.iterator.ExistingDataSetIterator;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.sqzspark.data.ChannelStats;
import org.sqzspark.data.CifarImages;
import org.sqzspark.data.CifarLayout;
import org.sqzspark.data.CifarReader;
import org.sqzspark.model.ModelConfig;
import org.sqzspark.model.SqueezeNetV11;

/**
 * Throughput of the project's network: a plain single-JVM fit and inference on random minibatches
 * (as the PyTorch peer measures), and whole epochs, in a plain fit and through Spark local mode
 * with each training master at P=1 and P=2, Spark's overhead included.
 */
final class Throughput {

    /** Untimed epochs before the timed ones, plain and through Spark. */
    static final int WARMUP_EPOCHS = 3;
    /** Minibatches decoded ahead of the one in training, as each replica's iterator does. */
    private static final int PREFETCH = 2;

    private Throughput() {
    }

    /**
     * Images/s of {@code iters} training steps on a random minibatch, after {@code warmup} steps,
     * fed through a DataSetIterator as any DL4J training loop (and each Spark replica) does.
     */
    static double plainTraining(ModelConfig model, int batch, int warmup, int iters) {
        ComputationGraph net = SqueezeNetV11.build(model);
        DataSet ds = randomBatch(batch, model.seed());
        net.fit(new ExistingDataSetIterator(Collections.nCopies(Math.max(1, warmup), ds)));
        long t = System.nanoTime();
        net.fit(new ExistingDataSetIterator(Collections.nCopies(iters, ds)));
        return (double) batch * iters / ((System.nanoTime() - t) / 1e9);
    }

    /** Images/s of inference (dropout off) on one random minibatch. */
    static double plainInference(ModelConfig model, int batch, int warmup, int iters) {
        ComputationGraph net = SqueezeNetV11.build(model);
        INDArray x = randomBatch(batch, model.seed()).getFeatures();
        for (int i = 0; i < warmup; i++) {
            net.outputSingle(x);
        }
        long t = System.nanoTime();
        for (int i = 0; i < iters; i++) {
            net.outputSingle(x);
        }
        return (double) batch * iters / ((System.nanoTime() - t) / 1e9);
    }

    /**
     * Training images/s through Spark local mode, over whole epochs after {@value #WARMUP_EPOCHS}
     * warm-up epochs (the JVM compiles Spark's and DL4J's training path over the first ones),
     * for each training master and P in {1, 2}: keys like {@code shared_p1}.
     */
    static Map<String, Double> spark(ModelConfig model, int batch, Path data, int epochs, String master, Path work) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (TrainingMasterKind kind : TrainingMasterKind.values()) {
            for (int p = 1; p <= 2; p++) {
                TrainConfig config = new TrainConfig(data.toString(), false, work.resolve("out").toString(), master, p,
                        WARMUP_EPOCHS + epochs, batch, 0, kind, 1, TrainConfig.DEFAULT_THRESHOLD, 100, TrainConfig.DEFAULT_EVAL_BATCH,
                        LrScaling.NONE, 0, 0, model);
                RunResult run = Main.execute(List.of(config)).get(0);
                double fit = 0;
                for (EpochMetrics e : run.epochs().subList(WARMUP_EPOCHS, run.epochs().size())) {
                    fit += e.fitSeconds();
                }
                out.put(kind + "_p" + p, (double) run.trainImages() * epochs / fit);
            }
        }
        return out;
    }

    /**
     * Images/s of whole epochs of a plain single-JVM fit over the training images in {@code data},
     * after {@value #WARMUP_EPOCHS} warm-up epochs: the baseline of the epochs through Spark. Each
     * epoch is reshuffled and decoded minibatch by minibatch as a replica's partition is
     * ({@link CifarRdds#decode}), behind a prefetching iterator as DL4J puts behind each replica's.
     */
    static double plainEpochs(ModelConfig model, int batch, Path data, int epochs) {
        CifarImages train = CifarReader.readTrain(CifarLayout.resolve(data.toString(), new Configuration()), 0)
                .shuffled(model.seed());
        ChannelStats stats = ChannelStats.of(train);
        ComputationGraph net = SqueezeNetV11.build(model);
        double seconds = 0;
        for (int epoch = 1; epoch <= WARMUP_EPOCHS + epochs; epoch++) {
            Iterator<DataSet> minibatches = CifarRdds.decode(List.of(train).iterator(), 0, batch, stats,
                    model.seed() + epoch);
            long t = System.nanoTime();
            net.fit(new AsyncDataSetIterator(new ExistingDataSetIterator(minibatches), PREFETCH, true));
            if (epoch > WARMUP_EPOCHS) {
                seconds += (System.nanoTime() - t) / 1e9;
            }
        }
        return (double) train.size() * epochs / seconds;
    }

    /** Peak resident set size of this process in MB (VmHWM), or -1 where /proc is absent. */
    static double peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    private static DataSet randomBatch(int batch, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(DataType.FLOAT, batch, 3, 32, 32);
        INDArray y = Nd4j.zeros(DataType.FLOAT, batch, 10);
        for (int i = 0; i < batch; i++) {
            y.putScalar(i, i % 10, 1f);
        }
        return new DataSet(x, y);
    }

    /** Random images in the CIFAR-10 layout: {@code images} training records over five batches, 100 test. */
    static Path writeRandomCifar(Path dir, int images, long seed) {
        try {
            Files.createDirectories(dir);
            Random random = new Random(seed);
            List<String> names = List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                    "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin");
            for (int b = 0; b < names.size(); b++) {
                String name = names.get(b);
                int n = b == 5 ? 100 : (b + 1) * images / 5 - b * images / 5;
                byte[] record = new byte[3073];
                try (OutputStream s = Files.newOutputStream(dir.resolve(name))) {
                    for (int i = 0; i < n; i++) {
                        random.nextBytes(record);
                        record[0] = (byte) (i % 10);
                        s.write(record);
                    }
                }
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
