package org.sqzspark.job.bench;

import org.sqzspark.job.train.Runs;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
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
import org.sqzspark.job.cli.Main;
import org.sqzspark.job.results.EpochMetrics;
import org.sqzspark.job.results.RunResult;
import org.sqzspark.job.train.CifarRdds;
import org.sqzspark.job.train.Execution;
import org.sqzspark.job.train.LrScaling;
import org.sqzspark.job.train.TrainConfig;
import org.sqzspark.job.train.TrainingMasterKind;
import org.sqzspark.model.ModelConfig;
import org.sqzspark.model.SqueezeNetV11;

/**
 * Throughput of the project's network: a plain single-JVM fit and inference on random minibatches
 * (as the PyTorch peer measures), and whole epochs, in a plain fit and through Spark local mode
 * with each training master at P=1 and P=2, Spark's overhead included.
 */
public final class Throughput {

    /**
     * Untimed epochs before the timed ones, plain and through Spark. Through Spark the fourth epoch
     * of 128 steps still took 2.6-3.5 s, against 2.2-2.8 s for the fifth to the eighth (four runs,
     * two threads), while the plain fit was steady from its fourth.
     */
    public static final int WARMUP_EPOCHS = 5;
    /** Minibatches decoded ahead of the one in training, as each replica's iterator does. */
    private static final int PREFETCH = 2;

    private Throughput() {
    }

    /**
     * Images/s of {@code iters} training steps on a random minibatch, after {@code warmup} steps,
     * fed through a DataSetIterator as any DL4J training loop (and each Spark replica) does.
     */
    public static double plainTraining(ModelConfig model, int batch, int warmup, int iters) {
        ComputationGraph net = SqueezeNetV11.build(model);
        DataSet ds = randomBatch(batch, model.seed());
        net.fit(new ExistingDataSetIterator(Collections.nCopies(Math.max(1, warmup), ds)));
        long t = System.nanoTime();
        net.fit(new ExistingDataSetIterator(Collections.nCopies(iters, ds)));
        return (double) batch * iters / ((System.nanoTime() - t) / 1e9);
    }

    /** Images/s of inference (dropout off) on one random minibatch. */
    public static double plainInference(ModelConfig model, int batch, int warmup, int iters) {
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
     * for each training master and P in {1, 2}: keys like {@code shared_p1}. Gradient sharing at
     * P=1 takes turns with plain epochs of the same images in a JVM of their own
     * ({@link PlainEpochsProcess}), one after each of its epochs.
     */
    public static SparkFigures spark(ModelConfig model, int batch, Path data, int epochs, String master, Path work)
            throws IOException {
        Map<String, Double> out = new LinkedHashMap<>();
        List<Double> plainSeconds = new ArrayList<>();
        List<Double> sharedSeconds = new ArrayList<>();
        double plainPeakRssMb = -1;
        for (TrainingMasterKind kind : TrainingMasterKind.values()) {
            for (int p = 1; p <= 2; p++) {
                TrainConfig config = new TrainConfig(data.toString(), false, work.resolve("out").toString(), master, p,
                        WARMUP_EPOCHS + epochs, batch, 0, kind, 1, TrainConfig.DEFAULT_THRESHOLD, 100, TrainConfig.DEFAULT_EVAL_BATCH,
                        LrScaling.NONE, 0, 0, model, Execution.SPARK);
                RunResult run;
                boolean baseline = kind == TrainingMasterKind.SHARED && p == 1;
                if (baseline) {
                    try (PlainEpochsProcess plain = new PlainEpochsProcess(batch, data)) {
                        run = Runs.execute(List.of(config), false, epoch -> {
                            double s = plain.epoch(epoch);
                            if (epoch > WARMUP_EPOCHS) {
                                plainSeconds.add(s);
                            }
                        }).get(0);
                        plainPeakRssMb = plain.finish();
                    }
                } else {
                    run = Runs.execute(List.of(config)).get(0);
                }
                double fit = 0;
                for (EpochMetrics e : run.epochs().subList(WARMUP_EPOCHS, run.epochs().size())) {
                    fit += e.fitSeconds();
                    if (baseline) {
                        sharedSeconds.add(e.fitSeconds());
                    }
                }
                out.put(kind + "_p" + p, (double) run.trainImages() * epochs / fit);
            }
        }
        return new SparkFigures(out, plainSeconds, sharedSeconds, plainPeakRssMb);
    }

    /**
     * Images/s through Spark by master and P; the seconds of each timed epoch of the plain fit and
     * of gradient sharing at P=1, in the order they alternated; the plain fit's peak RSS.
     */
    public record SparkFigures(Map<String, Double> imagesPerSecond, List<Double> plainSeconds, List<Double> sharedSeconds,
                        double plainPeakRssMb) {

        /** Gradient sharing at P=1 against the plain fit: the ratio of their summed epoch times. */
        public double sparkVsPlain() {
            return sum(plainSeconds) / sum(sharedSeconds);
        }

        /** The same, epoch by epoch. */
        public List<Double> sparkVsPlainByEpoch() {
            List<Double> r = new ArrayList<>();
            for (int i = 0; i < Math.min(plainSeconds.size(), sharedSeconds.size()); i++) {
                r.add(plainSeconds.get(i) / sharedSeconds.get(i));
            }
            return r;
        }

        /** Images/s of the plain fit's timed epochs. */
        public double plainImagesPerSecond(int imagesPerEpoch) {
            return imagesPerEpoch * plainSeconds.size() / sum(plainSeconds);
        }

        private static double sum(List<Double> xs) {
            return xs.stream().mapToDouble(Double::doubleValue).sum();
        }
    }

    /**
     * The sweep as the study runs it embedded (replicas in the driver, {@link Execution#TURNS}): for
     * each training master and P, images/s of one timed epoch after one warm-up epoch, against the
     * plain epochs of the same images and recipe just before and just after the run, trained in a JVM
     * of its own ({@link PlainEpochsProcess}): their mean, so that one slow plain epoch (a collection,
     * the machine's other work) moves a ratio half as much.
     *
     * <p>Before the first, both JVMs train {@link #SWEEP_WARMUP_EPOCHS} untimed epochs (the plain one,
     * and each training master at P=1 in this one), so that P=1 is not timed while the JIT compiler is
     * still at work: it takes about 300 steps, and one epoch of 3,072 images is 96.
     */
    public static SweepFigures sweep(ModelConfig model, int batch, Path data, List<Integer> partitions, String master,
                              Path work) throws IOException {
        Map<String, Map<String, Double>> imagesPerSecond = new LinkedHashMap<>();
        Map<String, Map<String, Double>> againstPlain = new LinkedHashMap<>();
        List<Double> plainImagesPerSecond = new ArrayList<>();
        try (PlainEpochsProcess plain = new PlainEpochsProcess(batch, data)) {
            int plainEpoch = 0;
            for (int i = 0; i < SWEEP_WARMUP_EPOCHS; i++) {
                plain.epoch(++plainEpoch);
            }
            for (TrainingMasterKind kind : TrainingMasterKind.values()) {
                Runs.execute(List.of(sweepRun(model, batch, data, work.resolve("warmup-" + kind), master, kind, 1,
                        SWEEP_WARMUP_EPOCHS)));
            }
            for (TrainingMasterKind kind : TrainingMasterKind.values()) {
                Map<String, Double> rates = new LinkedHashMap<>();
                Map<String, Double> ratios = new LinkedHashMap<>();
                double before = plain.epoch(++plainEpoch);
                for (int p : partitions) {
                    TrainConfig config = sweepRun(model, batch, data, work.resolve("sweep-" + kind + "-p" + p), master,
                            kind, p, 2);
                    RunResult run = Runs.execute(List.of(config)).get(0);
                    double after = plain.epoch(++plainEpoch);
                    double rate = run.trainImages() / run.epochs().get(1).fitSeconds();
                    double plainRate = 2 * run.trainImages() / (before + after);
                    plainImagesPerSecond.add(plainRate);
                    rates.put(String.valueOf(p), rate);
                    ratios.put(String.valueOf(p), rate / plainRate);
                    before = after;
                }
                imagesPerSecond.put(kind.toString(), rates);
                againstPlain.put(kind.toString(), ratios);
            }
        }
        return new SweepFigures(imagesPerSecond, againstPlain,
                plainImagesPerSecond.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN));
    }

    /** Untimed epochs each JVM of the sweep's figures trains before the first timed one. */
    static final int SWEEP_WARMUP_EPOCHS = 3;

    /** One embedded run of the sweep's figures: P replicas in turns, the given recipe, 100 test images. */
    private static TrainConfig sweepRun(ModelConfig model, int batch, Path data, Path out, String master,
                                        TrainingMasterKind kind, int partitions, int epochs) {
        return new TrainConfig(data.toString(), false, out.toString(), master, partitions, epochs, batch, 0, kind, 1,
                TrainConfig.DEFAULT_THRESHOLD, 100, TrainConfig.DEFAULT_EVAL_BATCH, LrScaling.NONE, 0, 0, model,
                Execution.TURNS);
    }

    /**
     * Images/s per training master and P; each against the plain epochs just before and after it; the plain
     * epochs' mean images/s.
     */
    public record SweepFigures(Map<String, Map<String, Double>> imagesPerSecond, Map<String, Map<String, Double>> againstPlain,
                        double plainImagesPerSecond) {
    }

    /**
     * Whole epochs of a plain single-JVM fit over the training images in {@code data}: the baseline
     * of the epochs through Spark. Each epoch is reshuffled and decoded minibatch by minibatch as a
     * replica's partition is ({@link CifarRdds#decode}), behind a prefetching iterator as DL4J puts
     * behind each replica's.
     */
    public static final class PlainEpochs {
        private final ModelConfig model;
        private final int batch;
        private final CifarImages train;
        private final ChannelStats stats;
        private final ComputationGraph net;

        public PlainEpochs(ModelConfig model, int batch, Path data) {
            this.model = model;
            this.batch = batch;
            this.train = CifarReader.readTrain(CifarLayout.resolve(data.toString(), new Configuration()), 0)
                    .shuffled(model.seed());
            this.stats = ChannelStats.of(train);
            this.net = SqueezeNetV11.build(model);
        }

        /** Trains epoch {@code epoch} (its shuffle); its seconds. */
        double epoch(int epoch) {
            Iterator<DataSet> minibatches = CifarRdds.decode(List.of(train).iterator(), 0, batch, stats,
                    model.seed() + epoch);
            long t = System.nanoTime();
            net.fit(new AsyncDataSetIterator(new ExistingDataSetIterator(minibatches), PREFETCH, true));
            return (System.nanoTime() - t) / 1e9;
        }
    }

    /**
     * {@link PlainEpochs} in a JVM of their own, started with this one's Java command, options and
     * class path ({@code bench --part plain-epochs}), training one epoch of the same images whenever
     * asked. The plain epochs and the epochs through Spark take turns: each side keeps its own heap,
     * collector and compiled code, as two separate runs would, and both meet the machine as it is in
     * the same minute. Runs made one after the other cannot be compared to within 10%: this machine's speed
     * drifts by 10-20% between them.
     */
    public static final class PlainEpochsProcess implements AutoCloseable {
        /** Reply to an epoch number on standard input: the epoch's seconds. */
        static final String EPOCH_REPLY = "plain-epoch-seconds ";
        /** Last line, once standard input ends: the process's peak RSS. */
        static final String RSS_REPLY = "plain-peak-rss-mb ";

        private final Process process;
        private final BufferedWriter requests;
        private final BufferedReader replies;

        PlainEpochsProcess(int batch, Path data) throws IOException {
            List<String> command = new ArrayList<>();
            command.add(ProcessHandle.current().info().command()
                    .orElseThrow(() -> new IOException("cannot tell this JVM's java command to start the plain epochs")));
            command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench",
                    "--part", "plain-epochs", "--batch", String.valueOf(batch), "--plain-data", data.toString()));
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            requests = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
            replies = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        /** Trains epoch {@code epoch} there; its seconds. */
        double epoch(int epoch) {
            try {
                requests.write(epoch + "\n");
                requests.flush();
                return Double.parseDouble(reply(EPOCH_REPLY));
            } catch (IOException e) {
                throw new UncheckedIOException("the plain epochs' JVM stopped answering", e);
            }
        }

        /** Ends the process; its peak RSS in MB. */
        double finish() {
            try {
                requests.close();
                return Double.parseDouble(reply(RSS_REPLY));
            } catch (IOException e) {
                throw new UncheckedIOException("the plain epochs' JVM stopped answering", e);
            }
        }

        private String reply(String prefix) throws IOException {
            for (String line; (line = replies.readLine()) != null; ) {
                if (line.startsWith(prefix)) {
                    return line.substring(prefix.length()).trim();
                }
                System.err.println(line);
            }
            throw new IOException("the plain epochs' JVM exited with no '" + prefix.trim() + "' line");
        }

        @Override
        public void close() {
            try {
                requests.close();
            } catch (IOException e) {
                // the process is gone already
            }
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }

        /**
         * The other side: reads epoch numbers from standard input, one per line, trains each and
         * answers with its seconds; at the end of input, answers with the peak RSS.
         */
        public static void serve(PlainEpochs plain, BufferedReader in, PrintWriter out) throws IOException {
            for (String line; (line = in.readLine()) != null; ) {
                if (!line.isBlank()) {
                    out.println(EPOCH_REPLY + plain.epoch(Integer.parseInt(line.trim())));
                    out.flush();
                }
            }
            out.println(RSS_REPLY + peakRssMb());
            out.flush();
        }
    }

    /** Peak resident set size of this process in MB (VmHWM), or -1 where /proc is absent. */
    public static double peakRssMb() {
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
    public static Path writeRandomCifar(Path dir, int images, long seed) {
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
