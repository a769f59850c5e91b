package org.sqzspark.job;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.IntConsumer;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqzspark.data.CifarImages;
import org.sqzspark.data.PartitionPlan;
import org.sqzspark.model.ModelConfig;
import org.sqzspark.model.NativeThreads;
import org.sqzspark.model.SqueezeNetV11;
import org.sqzspark.job.turns.ReplicasInTurns;

/** Runs one training run at P partitions: for each epoch, fit, evaluate, record. */
final class Trainer {

    private static final Logger log = LoggerFactory.getLogger(Trainer.class);
    private static final DateTimeFormatter RUN_ID_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS").withZone(ZoneOffset.UTC);

    private final JavaSparkContext sc;
    private final ResultStore store;
    private final IntConsumer afterEpoch;

    /**
     * {@code afterEpoch} is called on the driver with each epoch's number once its results and
     * checkpoint are written; its time counts in neither the epoch's fit nor its evaluation.
     */
    Trainer(JavaSparkContext sc, ResultStore store, IntConsumer afterEpoch) {
        this.sc = sc;
        this.store = store;
        this.afterEpoch = afterEpoch;
    }

    /**
     * Trains, evaluates after every epoch, and writes results and a checkpoint after every epoch.
     * With {@code resume}, a completed run of the same configuration in the results folder is kept
     * as it is, and an unfinished one continues from its checkpoint under its own run id.
     */
    RunResult run(TrainConfig config, TrainingData data, boolean resume) {
        double linkMbit = sc.getConf().getDouble(SparkSetup.LINK_MBIT, 0);
        if (resume) {
            Optional<RunResult> done = Checkpoints.completed(store, config, linkMbit);
            if (done.isPresent()) {
                log.info("P={}: run {} is complete in {}; kept", config.partitions(), done.get().runId(),
                        store.location());
                return done.get();
            }
        }
        long runStart = System.nanoTime();
        PartitionPlan plan = PartitionPlan.of(data.train().size(), config.partitions());
        int executors = SparkSetup.executors(sc);
        ReplicaLayout layout = ReplicaLayout.of(config.trainingMaster(), config.partitions(), executors);
        int largestShare = largestShare(plan);
        int steps = stepsPerEpoch(plan, config.batchPerReplica());
        ModelConfig model = config.modelFor(steps);
        Checkpoints.Restored restored = resume ? Checkpoints.latest(store, config, linkMbit).orElse(null) : null;
        String runId = restored != null ? restored.run().runId() : runId(Instant.now(), config);
        String startedAt = restored != null ? restored.run().startedAt() : Instant.now().toString();
        List<EpochMetrics> epochs = new ArrayList<>(restored != null ? restored.run().epochs() : List.of());
        double trainSeconds = epochs.stream().mapToDouble(EpochMetrics::fitSeconds).sum();
        double evalSeconds = epochs.stream().mapToDouble(EpochMetrics::evalSeconds).sum();
        double earlierSeconds = restored != null ? restored.run().totalSeconds() : 0;
        if (restored != null) {
            // the checkpoint is never behind the JSON and CSV: make those match it, each epoch once
            store.writeRun(restored.run());
            store.rewriteRunRows(restored.run());
            log.info("Resuming run {} at epoch {}/{} from its checkpoint", runId, epochs.size() + 1, config.epochs());
        } else if (resume) {
            log.info("P={}: no checkpoint of this configuration in {}; starting afresh", config.partitions(),
                    store.location());
        }

        long t = System.nanoTime();
        List<CifarRdds.Shares> broadcasts = new ArrayList<>();
        CifarRdds.Shares shares = CifarRdds.partitioned(sc, data.train(), config.partitions());
        broadcasts.add(shares);
        JavaRDD<DataSet> test = evaluationSet(data.test(), config.evalBatch(), data, broadcasts);
        JavaRDD<DataSet> lossSample = evaluationSet(
                data.train().slice(0, Math.min(config.lossSample(), data.train().size())), config.evalBatch(), data,
                broadcasts);
        double partitionSeconds = seconds(t);

        t = System.nanoTime();
        boolean inTurns = config.execution() == Execution.TURNS;
        // in turns the training master only evaluates: parameter averaging's starts no transport
        TrainingMaster<?, ?> master = inTurns ? TrainingMasters.evaluating(config)
                : TrainingMasters.create(config, layout, sc.getConf(), sc.isLocal());
        ComputationGraph net = restored != null ? restored.net() : SqueezeNetV11.build(config.replicaModelFor(steps));
        SparkComputationGraph sparkNet = new SparkComputationGraph(sc, net, master);
        ReplicasInTurns turns = inTurns ? TrainingMasters.inTurns(config, net) : null;
        double setupSeconds = seconds(t);

        RunEnvironment env = SparkSetup.environment(sc, executors);
        log.info("Run {}: P={} ({} executor(s) x {} replica(s)), {} training images, {} per replica, global batch {},"
                        + " {} steps per epoch, {} epochs, {}", runId, config.partitions(), layout.executors(),
                layout.workersPerExecutor(), data.train().size(), largestShare, config.globalBatch(), steps,
                config.epochs(), config.trainingMaster().name().toLowerCase(Locale.ROOT));
        if (!config.arithmetic().isSynchronousSgd()) {
            log.warn("P={}: {} with {} is not synchronous SGD's arithmetic (one step on the mean gradient) but {};"
                            + " for the study's arithmetic use --optimizer nesterov or sgd{}", config.partitions(),
                    config.model().optimizer(), config.trainingMaster(), config.arithmetic().description(),
                    config.arithmetic() == Arithmetic.LOCAL_SGD ? " and --averaging-frequency 1" : "");
        }
        RunResult result = restored != null ? restored.run() : null;
        TrainingTasks tasks = TrainingTasks.register(sc, config.trainingMaster() == TrainingMasterKind.SHARED);
        // on the driver, gradient sharing's transport threads start from this thread: the timer slack task
        // threads get (NativeThreadsPlugin)
        long slackBefore = NativeThreads.timerSlack(NativeThreadsPlugin.TIMER_SLACK_NS);
        // embedded, the replicas train in this JVM: cores shared among the replicas training at once (each
        // task then spreads libnd4j's elementwise ops over its replica's share: NativeThreadsPlugin)
        if (sc.isLocal() && !inTurns) {
            NativeThreads.shareProcessors(replicasAtOnce(config, layout, sc.defaultParallelism()));
        }
        try {
            for (int epoch = epochs.size() + 1; epoch <= config.epochs(); epoch++) {
                t = System.nanoTime();
                Nd4j.getRandom().setSeed(config.model().seed() + epoch);
                JavaRDD<DataSet> epochData = CifarRdds.minibatches(shares.rdd(), config.batchPerReplica(), data.stats(),
                        config.model().seed() + epoch);
                int stepsBefore = (epoch - 1) * steps;
                long shuffleSeed = config.model().seed() + epoch;
                String lost = null;
                NetworkTrafficPlugin.epochStart();
                if (inTurns) {
                    tasks.inDriver(() -> fitInTurns(turns, data, config, shuffleSeed, stepsBefore));
                } else {
                    lost = tasks.training(() -> fitEpoch(sparkNet, config, epochData, steps, stepsBefore));
                }
                if (lost != null) {
                    throw new RunInterruptedException(lost + " was lost during epoch " + epoch + " of run " + runId
                            + "; gradient sharing cannot take in a replacement executor mid-epoch. "
                            + (epoch > 1 ? "Epochs 1.." + (epoch - 1) + " are saved" : "Nothing was trained yet")
                            + ": run the same command again with --resume to continue", null);
                }
                double fit = seconds(t);
                List<NodeTraffic> traffic = NetworkTrafficPlugin.epochTraffic();

                t = System.nanoTime();
                double accuracy = sparkNet.evaluate(test).accuracy();
                double loss = LossScorer.meanLoss(sc, sparkNet.getNetwork(), lossSample);
                double eval = seconds(t);

                trainSeconds += fit;
                evalSeconds += eval;
                EpochMetrics metrics = new EpochMetrics(epoch, accuracy, loss, fit, eval,
                        data.train().size() / fit, trainSeconds + evalSeconds, traffic);
                epochs.add(metrics);
                result = new RunResult(runId, startedAt, config, env, layout, data.train().size(),
                        data.test().size(), largestShare, config.globalBatch(), steps, data.source(),
                        data.loadSeconds(), partitionSeconds, setupSeconds, trainSeconds, evalSeconds,
                        earlierSeconds + data.loadSeconds() + seconds(runStart), false, model.learningRate(),
                        model.warmupSteps(), tasks.snapshot(), List.copyOf(epochs));
                Checkpoints.save(store, result, sparkNet.getNetwork());
                store.writeRun(result);
                store.appendEpoch(result, metrics);
                log.info(String.format(Locale.ROOT,
                        "P=%d epoch %d/%d: test accuracy %.2f%%, train loss %.4f, %.1f s, %.0f images/s",
                        config.partitions(), epoch, config.epochs(), 100 * accuracy, loss, fit,
                        metrics.imagesPerSecond()));
                afterEpoch.accept(epoch);
            }
            ComputationGraph trained = sparkNet.getNetwork();
            store.write(ResultStore.modelName(runId), out -> ModelSerializer.writeModel(trained, out, true));
            result = result.asCompleted();
            store.writeRun(result);
            store.delete(Checkpoints.name(runId));
        } finally {
            if (slackBefore > 0) {
                NativeThreads.timerSlack(slackBefore);
            }
            if (sc.isLocal() && !inTurns) {
                NativeThreads.shareProcessors(0);
            }
            tasks.close();
            test.unpersist(false);
            lossSample.unpersist(false);
            broadcasts.forEach(CifarRdds.Shares::close);
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
        // this thread built or evaluated the network: embedded, its OpenMP workers would outnumber the cores
        // with the training thread's (see NativeThreadsPlugin)
        NativeThreads.releaseTeam();
        if (config.trainingMaster() == TrainingMasterKind.SHARED) {
            // the replicas start from the steps taken so far (SharedTrainingWithoutCount), also after --resume
            sparkNet.getNetwork().getConfiguration().setIterationCount(stepsBefore);
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

    /**
     * One epoch of the replicas in turns, each on its partition's minibatches of this epoch, the same
     * minibatches in the same order as DL4J's path decodes from the RDD.
     */
    private static void fitInTurns(ReplicasInTurns turns, TrainingData data, TrainConfig config, long shuffleSeed,
                                   int stepsBefore) {
        NativeThreads.releaseTeam();
        turns.fitEpoch(CifarRdds.partitionsInDriver(data.train(), config.partitions(), config.batchPerReplica(),
                data.stats(), shuffleSeed), stepsBefore);
    }

    /** Minibatches of {@code images}, cached; their broadcasts are added to {@code broadcasts}. */
    private JavaRDD<DataSet> evaluationSet(CifarImages images, int batch, TrainingData data,
                                           List<CifarRdds.Shares> broadcasts) {
        int parts = Math.max(1, Math.min(sc.defaultParallelism(), images.size()));
        CifarRdds.Shares shares = CifarRdds.partitioned(sc, images, parts);
        broadcasts.add(shares);
        JavaRDD<DataSet> set = CifarRdds.minibatches(shares.rdd(), batch, data.stats(), -1)
                .persist(StorageLevel.MEMORY_ONLY());
        set.count();
        return set;
    }

    /**
     * Replicas training at once in the embedded JVM: gradient sharing runs all P side by side;
     * parameter averaging runs them as Spark tasks, as many at once as local mode has slots.
     */
    static int replicasAtOnce(TrainConfig config, ReplicaLayout layout, int localSlots) {
        return config.trainingMaster() == TrainingMasterKind.SHARED ? layout.workersPerExecutor()
                : Math.max(1, Math.min(config.partitions(), localSlots));
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
