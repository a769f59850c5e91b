package org.sqzspark.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.IntConsumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqzspark.data.DataInputException;
import org.sqzspark.job.bench.Throughput;
import org.sqzspark.job.cluster.SparkSetup;
import org.sqzspark.job.results.ResultStore;
import org.sqzspark.job.results.RunResult;
import org.sqzspark.job.train.Divergence;
import org.sqzspark.job.train.Progress;
import org.sqzspark.job.train.RunInterruptedException;
import org.sqzspark.job.train.Runs;
import org.sqzspark.job.train.TrainConfig;
import org.sqzspark.job.train.Trainer;
import org.sqzspark.job.train.TrainingData;
import org.sqzspark.model.ModelConfig;
import org.sqzspark.model.NativeThreads;
import org.sqzspark.model.SqueezeNetV11;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * Command line of the job: {@code train} (one run at P partitions), {@code sweep} (a list of P, then its
 * report), {@code report} (charts and tables of a results folder) and {@code predict} (a trained model
 * on images or the test set).
 * Runs embedded ({@code java -jar}, local[*]) or under spark-submit.
 */
@Command(name = "squeezenet-spark", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Trains SqueezeNet v1.1 on CIFAR-10 data-parallel on Spark and measures accuracy and"
                + " wall-clock against the number of partitions (model replicas).",
        subcommands = {Main.Train.class, Main.Sweep.class, Main.Bench.class, ReportCommand.class, ScalingCommand.class,
                PredictCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Exit code of a user's mistake in an option. */
    public static final int EXIT_USAGE = 2;
    /** Exit code of missing or malformed data. */
    public static final int EXIT_DATA = 3;
    /** Exit code of a run stopped by its cluster; --resume continues it. */
    public static final int EXIT_INTERRUPTED = 4;
    /**
     * Exit code of a run the cluster cannot host now: fewer executors registered than asked for, or
     * none. submit/cluster-sweep.sh skips such a P and goes on; the same command runs once the
     * workers are up.
     */
    public static final int EXIT_CLUSTER = 5;
    /**
     * Exit code of a train or sweep in which a run diverged: its training loss or parameters turned
     * NaN or infinite and it stopped at the end of that epoch, recorded as diverged. A sweep goes on
     * with the next P and writes its report first.
     */
    public static final int EXIT_DIVERGED = 6;
    /** The exit codes of train and sweep, listed in their --help. */
    private static final Map<String, String> RUN_EXIT_CODES = exitCodes();

    private static Map<String, String> exitCodes() {
        Map<String, String> codes = new LinkedHashMap<>();
        codes.put("0", "every run completed (one that did not learn, at chance level, is a result too)");
        codes.put("1", "an unexpected failure");
        codes.put("" + EXIT_USAGE, "an invalid option");
        codes.put("" + EXIT_DATA, "missing or malformed data");
        codes.put("" + EXIT_INTERRUPTED, "stopped by the cluster; the same command with --resume continues");
        codes.put("" + EXIT_CLUSTER, "the cluster cannot host P now");
        codes.put("" + EXIT_DIVERGED, "a run diverged (training loss or parameters NaN or infinite): it stopped"
                + " after that epoch, recorded as diverged, and an error line names it and what to try;"
                + " a sweep still ran every P and wrote its report");
        return codes;
    }
    private static final Logger log = LoggerFactory.getLogger(Main.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        if (System.getProperty(PHYSICAL_BYTES_PROPERTY) == null) {
            // before JavaCPP loads: its resident-memory cap reads /proc/self/statm on every native
            // allocation, 12% of the training time (spark-conf/spark-defaults.conf sets the same)
            System.setProperty(PHYSICAL_BYTES_PROPERTY, "0");
        }
        System.exit(run(args));
    }

    /** JavaCPP's cap on the process's resident memory; 0 turns it off. */
    static final String PHYSICAL_BYTES_PROPERTY = "org.bytedeco.javacpp.maxphysicalbytes";

    /** Runs the command line and returns its exit code. */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs the command line with the given output and error streams. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cmd = new CommandLine(new Main())
                .setOut(out)
                .setErr(err)
                .setParameterExceptionHandler(Main::handleBadOption)
                .setExecutionExceptionHandler(Main::handleFailure);
        for (String run : List.of("train", "sweep")) {
            cmd.getSubcommands().get(run).getCommandSpec().usageMessage()
                    .exitCodeListHeading("%nExit codes:%n")
                    .exitCodeList(RUN_EXIT_CODES);
        }
        return cmd.execute(args);
    }

    /** A mistake on the command line: the message and where to look, not the whole help. */
    private static int handleBadOption(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("error: " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("See '" + cmd.getCommandSpec().qualifiedName() + " --help' for the options.");
        return EXIT_USAGE;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    private static int handleFailure(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        PrintWriter err = cmd.getErr();
        if (e instanceof DataInputException) {
            err.println("error: " + e.getMessage());
            return EXIT_DATA;
        }
        if (e instanceof IllegalArgumentException) {
            err.println("error: " + e.getMessage());
            return EXIT_USAGE;
        }
        if (e instanceof RunInterruptedException) {
            err.println("error: " + e.getMessage());
            return EXIT_INTERRUPTED;
        }
        if (e instanceof SparkSetup.ClusterUnavailableException) {
            err.println("error: " + e.getMessage());
            return EXIT_CLUSTER;
        }
        log.error("Run failed", e);
        err.println("error: " + e);
        return 1;
    }

    /** One run at P partitions. */
    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Train once with P replicas, each on 1/P of the training data.")
    public static final class Train implements Callable<Integer> {
        @Option(names = {"-p", "--partitions"}, paramLabel = "P", defaultValue = "1",
                description = "Model replicas training at once. Default: ${DEFAULT-VALUE}.")
        int partitions;

        @Mixin
        RunOptions options;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            TrainConfig config = options.toConfig(partitions);
            return exitCode(Runs.execute(List.of(config), options.resume, options.quiet, epoch -> { }), spec);
        }
    }

    /** Runs over a list of P. */
    @Command(name = "sweep", mixinStandardHelpOptions = true,
            description = "Train once per partition count P, same data and settings, one result per P;"
                    + " then write the report of the --out folder (see report). A run that diverges stops"
                    + " there and the sweep goes on with the next P.")
    static final class Sweep implements Callable<Integer> {
        /** The study's 2..48 processes plus the single-replica baseline. */
        static final String DEFAULT_PARTITIONS = "1,2,4,8,16,24,32,48";

        @Option(names = {"-p", "--partitions"}, paramLabel = "P,P,...", split = ",",
                defaultValue = DEFAULT_PARTITIONS,
                description = "Partition counts, in order. Default: ${DEFAULT-VALUE}.")
        List<Integer> partitions;

        @Mixin
        RunOptions options;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            List<TrainConfig> configs = new ArrayList<>();
            for (int p : partitions) {
                configs.add(options.toConfig(p));
            }
            List<RunResult> runs = Runs.execute(configs, options.resume, options.quiet, epoch -> { });
            ReportCommand.afterSweep(configs.get(0).out());
            return exitCode(runs, spec);
        }
    }

    /**
     * 0, or {@link #EXIT_DIVERGED} with one error line per diverged run (its id, epoch, recipe and what
     * to try) after every run has ended.
     */
    private static int exitCode(List<RunResult> runs, CommandLine.Model.CommandSpec spec) {
        PrintWriter err = spec.commandLine().getErr();
        List<RunResult> diverged = runs.stream().filter(RunResult::diverged).toList();
        diverged.forEach(run -> err.println("error: " + Divergence.message(run)));
        err.flush();
        return diverged.isEmpty() ? 0 : EXIT_DIVERGED;
    }

    /** Throughput of the network, plain and through Spark local mode; prints one JSON line. */
    @Command(name = "bench", mixinStandardHelpOptions = true,
            description = "Measure training and inference images/s of the network in one JVM, and of whole"
                    + " epochs, plain and through Spark local mode with each training master at P=1 and P=2."
                    + " Threads: set OMP_NUM_THREADS (submit/bench.sh does).")
    static final class Bench implements Callable<Integer> {
        @Option(names = "--batch", defaultValue = "64", description = "Minibatch. Default: ${DEFAULT-VALUE}.")
        int batch;

        @Option(names = "--iters", defaultValue = "600", description = "Timed steps. Default: ${DEFAULT-VALUE}.")
        int iters;

        @Option(names = "--warmup", defaultValue = "500", description = "Untimed steps first. Default: ${DEFAULT-VALUE}.")
        int warmup;

        @Option(names = "--spark-images", defaultValue = "8192",
                description = "Training images per epoch (0 skips the epochs). Default: ${DEFAULT-VALUE}.")
        int sparkImages;

        @Option(names = "--spark-epochs", defaultValue = "5",
                description = "Timed epochs, plain and through Spark, after " + Throughput.WARMUP_EPOCHS
                        + " warm-up epochs. Default: ${DEFAULT-VALUE}.")
        int sparkEpochs;

        @Option(names = "--sweep-images", defaultValue = "3072",
                description = "Training images per epoch of --part sweep. Default: ${DEFAULT-VALUE}.")
        int sweepImages;

        @Option(names = "--sweep-partitions", defaultValue = Sweep.DEFAULT_PARTITIONS, split = ",",
                description = "The P of --part sweep. Default: ${DEFAULT-VALUE}.")
        List<Integer> sweepPartitions;

        @Option(names = "--master", defaultValue = SparkSetup.EMBEDDED_MASTER,
                description = "Spark master of the Spark part. Default: ${DEFAULT-VALUE}.")
        String master;

        @Option(names = "--part", defaultValue = "all",
                description = "What to measure: steps (training loop and inference), spark (the four Spark runs;"
                        + " the first takes turns with plain epochs in a JVM it starts), sweep (images/s per"
                        + " training master and P as the study runs embedded, each against a plain epoch of the same"
                        + " recipe in a JVM it starts) or all in this JVM."
                        + " submit/bench.sh runs each part in a JVM of its own, so neither starts from the heap"
                        + " the other left. plain-epochs: that other JVM's side, one plain epoch for each epoch"
                        + " number read from standard input. Default: ${DEFAULT-VALUE}.")
        String part;

        @Option(names = "--plain-data", hidden = true,
                description = "With --part plain-epochs: the CIFAR-10 folder of the Spark runs' images.")
        Path plainData;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (batch < 1 || iters < 1 || warmup < 0 || sparkImages < 0 || sparkEpochs < 1) {
                throw new IllegalArgumentException("--batch, --iters and --spark-epochs must be at least 1,"
                        + " --warmup and --spark-images at least 0");
            }
            if (!List.of("all", "steps", "spark", "sweep", "plain-epochs").contains(part)) {
                throw new IllegalArgumentException("--part " + part + ": give steps, spark, sweep, plain-epochs or all");
            }
            if (sweepImages < 0 || sweepImages > 0 && sweepPartitions.stream().anyMatch(p -> p < 1 || p > sweepImages)) {
                throw new IllegalArgumentException("--sweep-images must be at least 0 (0 skips the sweep) and every"
                        + " --sweep-partitions P from 1 to --sweep-images, were " + sweepImages + " and " + sweepPartitions);
            }
            boolean all = part.equals("all");
            ModelConfig model = ModelConfig.defaults();
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("model", "squeezenet-spark SqueezeNetV11");
            result.put("params", SqueezeNetV11.PARAMETERS);
            result.put("batch", batch);
            result.put("threads", System.getenv().getOrDefault("OMP_NUM_THREADS", "default"));
            result.put("nd4j_platform", SparkSetup.buildProperties().getProperty("nd4j.classifier", "unknown"));
            result.put("helpers_disabled", System.getProperty(HELPERS_DISABLE_PROPERTY, "true"));
            // every native op on the threads asked for (OMP_NUM_THREADS), as the peer runs: libnd4j's
            // elementwise ops too, which otherwise take all cores (as training through Spark sets)
            NativeThreads.masterThreads(NativeThreads.teamSize());
            if (part.equals("plain-epochs")) {
                return servePlainEpochs(model);
            }
            double train = 0;
            double plainPeakRssMb = -1;
            if (all || part.equals("steps")) {
                train = Throughput.plainTraining(model, batch, warmup, iters);
                result.put("train_img_per_s", round(train));
                result.put("infer_img_per_s", round(Throughput.plainInference(model, batch, warmup, iters)));
            }
            if (sparkImages > 0 && (all || part.equals("spark"))) {
                Path work = Files.createTempDirectory("sqzspark-bench");
                try {
                    Path data = Throughput.writeRandomCifar(work.resolve("cifar"), sparkImages, model.seed());
                    if (all || part.equals("spark")) {
                        Throughput.SparkFigures spark = Throughput.spark(model, batch, data, sparkEpochs, master, work);
                        spark.imagesPerSecond().forEach((k, v) -> result.put("spark_" + k + "_img_per_s", round(v)));
                        // like for like: whole epochs of the same images, plain and through Spark, taken in turn
                        result.put("plain_epoch_img_per_s", round(spark.plainImagesPerSecond(sparkImages)));
                        result.put("spark_vs_plain", ratio(spark.sparkVsPlain()));
                        result.put("spark_vs_plain_by_epoch", spark.sparkVsPlainByEpoch().stream().map(Bench::ratio).toList());
                        plainPeakRssMb = spark.plainPeakRssMb();
                    }
                    if (all) {
                        // against the training loop on one minibatch above, as the peer measures
                        result.put("spark_vs_plain_steps",
                                ratio((Double) result.get("spark_shared_p1_img_per_s") / train));
                    }
                } finally {
                    deleteRecursively(work);
                }
            }
            if (sweepImages > 0 && (all || part.equals("sweep"))) {
                Path work = Files.createTempDirectory("sqzspark-bench-sweep");
                try {
                    Path data = Throughput.writeRandomCifar(work.resolve("cifar"), sweepImages, model.seed());
                    Throughput.SweepFigures sweep = Throughput.sweep(model, TrainConfig.DEFAULT_BATCH, data,
                            sweepPartitions, master, work);
                    result.put("sweep_img_per_s", roundAll(sweep.imagesPerSecond(), Bench::round));
                    result.put("sweep_vs_plain", roundAll(sweep.againstPlain(), Bench::ratio));
                    result.put("sweep_plain_img_per_s", round(sweep.plainImagesPerSecond()));
                } finally {
                    deleteRecursively(work);
                }
            }
            // the largest process: this one, or the plain epochs' JVM it started
            result.put("peak_rss_mb", round(Math.max(Throughput.peakRssMb(), plainPeakRssMb)));
            spec.commandLine().getOut().println(new ObjectMapper().writeValueAsString(result));
            spec.commandLine().getOut().flush();
            return 0;
        }

        /** The plain epochs' side of {@code --part spark}: see {@link Throughput.PlainEpochsProcess}. */
        private int servePlainEpochs(ModelConfig model) throws IOException {
            if (plainData == null) {
                throw new IllegalArgumentException("--part plain-epochs trains on the images of --plain-data DIR,"
                        + " which --part spark gives it: run --part spark or all");
            }
            Throughput.PlainEpochsProcess.serve(new Throughput.PlainEpochs(model, batch, plainData),
                    new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)),
                    spec.commandLine().getOut());
            return 0;
        }

        private static Map<String, Map<String, Double>> roundAll(Map<String, Map<String, Double>> figures,
                                                                java.util.function.DoubleUnaryOperator rounding) {
            Map<String, Map<String, Double>> out = new LinkedHashMap<>();
            figures.forEach((master, byP) -> {
                Map<String, Double> rounded = new LinkedHashMap<>();
                byP.forEach((p, v) -> rounded.put(p, rounding.applyAsDouble(v)));
                out.put(master, rounded);
            });
            return out;
        }

        private static double round(double v) {
            return Math.round(v * 10) / 10.0;
        }

        private static double ratio(double r) {
            return Math.round(r * 1000) / 1000.0;
        }

        private static void deleteRecursively(Path dir) throws IOException {
            try (var paths = Files.walk(dir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** DL4J 1.0.0-M2 leaves its oneDNN layer helpers off unless this system property is false. */
    public static final String HELPERS_DISABLE_PROPERTY = "org.eclipse.deeplearning4j.helpers.disable";

    /** Version from the build. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            var p = SparkSetup.buildProperties();
            return new String[] {"squeezenet-spark " + p.getProperty("project.version", "?") + " (Spark "
                    + p.getProperty("spark.version", "?") + ", DL4J " + p.getProperty("dl4j.version", "?") + ", "
                    + p.getProperty("nd4j.classifier", "?") + ")"};
        }
    }
}
