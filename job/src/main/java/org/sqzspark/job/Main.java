package org.sqzspark.job;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqzspark.data.DataInputException;
import org.sqzspark.data.PartitionPlan;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Command line of the job: {@code train} (one run at P partitions) and {@code sweep} (a list of P).
 * Runs embedded ({@code java -jar}, local[*]) or under spark-submit.
 */
@Command(name = "squeezenet-spark", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Trains SqueezeNet v1.1 on CIFAR-10 data-parallel on Spark and measures accuracy and"
                + " wall-clock against the number of partitions (model replicas).",
        subcommands = {Main.Train.class, Main.Sweep.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Exit code of a user's mistake in an option. */
    static final int EXIT_USAGE = 2;
    /** Exit code of missing or malformed data. */
    static final int EXIT_DATA = 3;
    private static final Logger log = LoggerFactory.getLogger(Main.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code. */
    static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs the command line with the given output and error streams. */
    static int run(PrintWriter out, PrintWriter err, String... args) {
        return new CommandLine(new Main())
                .setOut(out)
                .setErr(err)
                .setExecutionExceptionHandler(Main::handleFailure)
                .execute(args);
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
        log.error("Run failed", e);
        err.println("error: " + e);
        return 1;
    }

    /** One run at P partitions. */
    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Train once with P replicas, each on 1/P of the training data.")
    static final class Train implements Callable<Integer> {
        @Option(names = {"-p", "--partitions"}, paramLabel = "P", defaultValue = "1",
                description = "Model replicas training at once. Default: ${DEFAULT-VALUE}.")
        int partitions;

        @Mixin
        RunOptions options;

        @Override
        public Integer call() {
            TrainConfig config = options.toConfig(partitions);
            execute(List.of(config));
            return 0;
        }
    }

    /** Runs over a list of P. */
    @Command(name = "sweep", mixinStandardHelpOptions = true,
            description = "Train once per partition count P, same data and settings, one result per P.")
    static final class Sweep implements Callable<Integer> {
        /** The study's 2..48 processes plus the single-replica baseline. */
        static final String DEFAULT_PARTITIONS = "1,2,4,8,16,24,32,48";

        @Option(names = {"-p", "--partitions"}, paramLabel = "P,P,...", split = ",",
                defaultValue = DEFAULT_PARTITIONS,
                description = "Partition counts, in order. Default: ${DEFAULT-VALUE}.")
        List<Integer> partitions;

        @Mixin
        RunOptions options;

        @Override
        public Integer call() {
            List<TrainConfig> configs = new ArrayList<>();
            for (int p : partitions) {
                configs.add(options.toConfig(p));
            }
            execute(configs);
            return 0;
        }
    }

    /**
     * Checks the output folder and loads the data once (before Spark starts, so bad input fails
     * fast), then trains each configuration in turn on one Spark context.
     */
    static List<RunResult> execute(List<TrainConfig> configs) {
        TrainConfig first = configs.get(0);
        SparkConf sparkConf = SparkSetup.conf(first.master());
        Configuration hadoopConf = SparkHadoopUtil.get().newConfiguration(sparkConf);
        ResultStore store = ResultStore.open(first.out(), hadoopConf);
        TrainingData data = TrainingData.load(first, hadoopConf);
        for (TrainConfig c : configs) {
            PartitionPlan.of(data.train().size(), c.partitions());
        }
        JavaSparkContext sc = SparkSetup.start(sparkConf);
        try {
            Trainer trainer = new Trainer(sc, store);
            List<RunResult> results = new ArrayList<>();
            for (TrainConfig config : configs) {
                results.add(trainer.run(config, data));
            }
            log.info("Results in {}", store.location());
            return results;
        } finally {
            sc.stop();
        }
    }

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
