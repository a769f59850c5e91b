package org.sqzspark.job;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqzspark.data.CifarImages;
import org.sqzspark.data.PartitionPlan;
import org.sqzspark.model.ModelConfig;
import org.sqzspark.model.SqueezeNetV11;

/** Runs one training run at P partitions: for each epoch, fit, evaluate, record. */
final class Trainer {

    private static final Logger log = LoggerFactory.getLogger(Trainer.class);
    private static final DateTimeFormatter RUN_ID_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS").withZone(ZoneOffset.UTC);

    private final JavaSparkContext sc;
    private final ResultStore store;

    Trainer(JavaSparkContext sc, ResultStore store) {
        this.sc = sc;
        this.store = store;
    }

    /** Trains, evaluates after every epoch, and writes results after every epoch. */
    RunResult run(TrainConfig config, TrainingData data) {
        long runStart = System.nanoTime();
        Instant startedAt = Instant.now();
        PartitionPlan plan = PartitionPlan.of(data.train().size(), config.partitions());
        int executors = SparkSetup.executors(sc);
        ReplicaLayout layout = ReplicaLayout.of(config.trainingMaster(), config.partitions(), executors);
        String runId = runId(startedAt, config);

        long t = System.nanoTime();
        JavaRDD<CifarImages> shares = CifarRdds.partitioned(sc, data.train(), config.partitions())
                .persist(StorageLevel.MEMORY_ONLY());
        shares.count();
        JavaRDD<DataSet> test = evaluationSet(data.test(), config.evalBatch(), data);
        JavaRDD<DataSet> lossSample = evaluationSet(
                data.train().slice(0, Math.min(config.lossSample(), data.train().size())), config.evalBatch(), data);
        double partitionSeconds = seconds(t);

        int largestShare = largestShare(plan);
        int steps = stepsPerEpoch(plan, config.batchPerReplica());

        t = System.nanoTime();
        TrainingMaster<?, ?> master = TrainingMasters.create(config, layout, sc.getConf(), sc.isLocal());
        ModelConfig model = config.modelFor(steps);
        ComputationGraph net = SqueezeNetV11.build(model);
        SparkComputationGraph sparkNet = new SparkComputationGraph(sc, net, master);
        double setupSeconds = seconds(t);

        RunEnvironment env = SparkSetup.environment(sc, executors);
        List<EpochMetrics> epochs = new ArrayList<>();
        double trainSeconds = 0;
        double evalSeconds = 0;
        log.info("Run {}: P={} ({} executor(s) x {} replica(s)), {} training images, {} per replica, global batch {},"
                        + " {} steps per epoch, {} epochs, {}", runId, config.partitions(), layout.executors(),
                layout.workersPerExecutor(), data.train().size(), largestShare, config.globalBatch(), steps,
                config.epochs(), config.trainingMaster().name().toLowerCase(Locale.ROOT));
        RunResult result = null;
        TrainingTasks tasks = TrainingTasks.register(sc);
        try {
            for (int epoch = 1; epoch <= config.epochs(); epoch++) {
                t = System.nanoTime();
                JavaRDD<DataSet> epochData = CifarRdds.minibatches(shares, config.batchPerReplica(), data.stats(),
                        config.model().seed() + epoch);
                int stepsBefore = (epoch - 1) * steps;
                tasks.training(() -> fitEpoch(sparkNet, config, epochData, steps, stepsBefore));
                double fit = seconds(t);

                t = System.nanoTime();
                double accuracy = sparkNet.evaluate(test).accuracy();
                double loss = LossScorer.meanLoss(sc, sparkNet.getNetwork(), lossSample);
                double eval = seconds(t);

                trainSeconds += fit;
                evalSeconds += eval;
                EpochMetrics metrics = new EpochMetrics(epoch, accuracy, loss, fit, eval,
                        data.train().size() / fit, trainSeconds + evalSeconds);
                epochs.add(metrics);
                result = new RunResult(runId, startedAt.toString(), config, env, layout, data.train().size(),
                        data.test().size(), largestShare, config.globalBatch(), steps, data.source(),
                        data.loadSeconds(), partitionSeconds, setupSeconds, trainSeconds, evalSeconds,
                        data.loadSeconds() + seconds(runStart), epoch == config.epochs(), model.learningRate(),
                        model.warmupSteps(), tasks.snapshot(), List.copyOf(epochs));
                store.appendEpoch(result, metrics);
                store.writeRun(result);
                log.info(String.format(Locale.ROOT,
                        "P=%d epoch %d/%d: test accuracy %.2f%%, train loss %.4f, %.1f s, %.0f images/s",
                        config.partitions(), epoch, config.epochs(), 100 * accuracy, loss, fit,
                        metrics.imagesPerSecond()));
            }
            ComputationGraph trained = sparkNet.getNetwork();
            store.write(ResultStore.modelName(runId), out -> ModelSerializer.writeModel(trained, out, true));
        } finally {
            tasks.close();
            shares.unpersist(false);
            test.unpersist(false);
            lossSample.unpersist(false);
            master.deleteTempFiles(sc);
        }
        return result;
    }

    /**
     * One pass over every partition's minibatches. Gradient sharing streams each partition into
     * its replica in one fit. Parameter averaging runs one fit per synchronous round, each replica
     * taking its next {@code averagingFrequency} minibatches: DL4J's own splitting of a whole epoch
     * rescans the RDD for every round, or (staging through files) left rounds with no data.
     */
    private static void fitEpoch(SparkComputationGraph sparkNet, TrainConfig config, JavaRDD<DataSet> epochData,
                                 int stepsPerEpoch, int stepsBefore) {
        if (config.trainingMaster() == TrainingMasterKind.SHARED) {
            sparkNet.fit(epochData);
            return;
        }
        epochData.persist(StorageLevel.MEMORY_ONLY());
        try {
            int rounds = (stepsPerEpoch + config.averagingFrequency() - 1) / config.averagingFrequency();
            for (int r = 0; r < rounds; r++) {
                // the replicas start each round from the driver's network: give it the steps taken so far,
                // which the learning-rate schedule and Adam's bias correction count from
                sparkNet.getNetwork().getConfiguration()
                        .setIterationCount(stepsBefore + r * config.averagingFrequency());
                sparkNet.fit(CifarRdds.round(epochData, r, config.averagingFrequency()));
            }
        } finally {
            epochData.unpersist(false);
        }
    }

    private JavaRDD<DataSet> evaluationSet(CifarImages images, int batch, TrainingData data) {
        int parts = Math.max(1, Math.min(sc.defaultParallelism(), images.size()));
        JavaRDD<DataSet> set = CifarRdds.minibatches(CifarRdds.partitioned(sc, images, parts), batch, data.stats(), -1)
                .persist(StorageLevel.MEMORY_ONLY());
        set.count();
        return set;
    }

    /** Images in the largest replica's share (Spark's split formula puts the larger shares last). */
    static int largestShare(PartitionPlan plan) {
        int largest = 0;
        for (int p = 0; p < plan.parts(); p++) {
            largest = Math.max(largest, plan.size(p));
        }
        return largest;
    }

    /** Synchronous steps per epoch: minibatches in the largest share. */
    static int stepsPerEpoch(PartitionPlan plan, int batchPerReplica) {
        return (largestShare(plan) + batchPerReplica - 1) / batchPerReplica;
    }

    static String runId(Instant startedAt, TrainConfig config) {
        return RUN_ID_TIME.format(startedAt) + "-" + config.trainingMaster().name().toLowerCase(Locale.ROOT)
                + "-p" + config.partitions();
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
