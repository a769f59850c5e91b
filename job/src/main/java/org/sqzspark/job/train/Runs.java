package org.sqzspark.job.train;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqzspark.job.cluster.ClusterSecret;
import org.sqzspark.job.cluster.SparkSetup;
import org.sqzspark.job.results.ResultStore;
import org.sqzspark.job.results.RunResult;

/** Runs a list of training configurations, in turn, on one Spark context: what train and sweep do. */
public final class Runs {

    private static final Logger log = LoggerFactory.getLogger(Runs.class);

    private Runs() {
    }

    /**
     * Checks the master, loads the data once and checks P against it, then the output folder (so bad
     * input fails fast, before Spark starts and before anything is written), then trains each
     * configuration in turn on one Spark context.
     */
    public static List<RunResult> execute(List<TrainConfig> configs) {
        return execute(configs, false);
    }

    /**
     * As {@link #execute(List)}; with {@code resume}, completed runs of the same configurations in
     * the results folder are kept and unfinished ones continue from their checkpoints.
     */
    public static List<RunResult> execute(List<TrainConfig> configs, boolean resume) {
        return execute(configs, resume, epoch -> { });
    }

    /** As {@link #execute(List, boolean)}, calling {@code afterEpoch} as {@link Trainer} says. */
    public static List<RunResult> execute(List<TrainConfig> configs, boolean resume, IntConsumer afterEpoch) {
        return execute(configs, resume, false, afterEpoch);
    }

    /**
     * As {@link #execute(List, boolean, IntConsumer)}; {@code quiet} leaves out the progress lines
     * while epochs train ({@link Progress}), keeping each epoch's line.
     */
    public static List<RunResult> execute(List<TrainConfig> configs, boolean resume, boolean quiet,
                                   IntConsumer afterEpoch) {
        TrainConfig first = configs.get(0);
        SparkSetup.checkMaster(first.master());
        SparkConf sparkConf = SparkSetup.conf(first.master());
        ClusterSecret.apply(sparkConf);
        Configuration hadoopConf = SparkHadoopUtil.get().newConfiguration(sparkConf);
        TrainingData data = TrainingData.load(first, hadoopConf);
        for (TrainConfig c : configs) {
            requireRecordPerPartition(c, data.train().size());
        }
        ResultStore store = ResultStore.open(first.out(), hadoopConf);
        SparkSetup.eventLog(sparkConf, store.location(), hadoopConf);
        JavaSparkContext sc = SparkSetup.start(sparkConf);
        try {
            Trainer trainer = new Trainer(sc, store, afterEpoch, new Progress(configs, data.train().size(), quiet));
            List<RunResult> results = new ArrayList<>();
            for (TrainConfig config : configs) {
                results.add(trainer.run(config, data, resume));
            }
            log.info("Results in {}", store.location());
            return results;
        } finally {
            sc.stop();
        }
    }

    /** Every replica needs at least one training record. */
    private static void requireRecordPerPartition(TrainConfig config, int records) {
        if (config.partitions() <= records) {
            return;
        }
        boolean limited = config.trainLimit() == records;
        throw new IllegalArgumentException("--partitions " + config.partitions() + " is more than the " + records
                + " training records" + (limited ? " --train-limit " + records + " keeps" : "")
                + ": lower --partitions to at most " + records + (limited ? ", or raise --train-limit" : ""));
    }
}
