package org.sqzspark.job.train;

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
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqzspark.data.CifarImages;
import org.sqzspark.data.PartitionPlan;
import org.sqzspark.job.cluster.NetworkTrafficPlugin;
import org.sqzspark.job.cluster.SparkSetup;
import org.sqzspark.job.cluster.TrainingTasks;
import org.sqzspark.job.results.Checkpoints;
import org.sqzspark.job.results.EpochMetrics;
import org.sqzspark.job.results.NodeTraffic;
import org.sqzspark.job.results.ResultStore;
import org.sqzspark.job.results.RunResult;
import org.sqzspark.job.train.turns.ReplicasInTurns;
import org.sqzspark.job.upstream.LossScorer;
import org.sqzspark.job.upstream.NativeThreadsPlugin;
import org.sqzspark.model.ModelConfig;
import org.sqzspark.model.NativeThreads;
import org.sqzspark.model.ShardedGraph;
import org.sqzspark.model.SqueezeNetV11;

/** Runs one training run at P partitions: for each epoch, fit, evaluate, record. */
public final class Trainer {

    private static final Logger log = LoggerFactory.getLogger(Trainer.class);
    private static final DateTimeFormatter RUN_ID_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS").withZone(ZoneOffset.UTC);

    private final JavaSparkContext sc;
    private final ResultStore store;
    private final IntConsumer afterEpoch;
    private final Progress progress;

    /**
     * {@code afterEpoch} is called on the driver with each epoch's number once its results and
     * checkpoint are written; its time counts in neither the epoch's fit nor its evaluation.
     * {@code progress} reports on each epoch while it trains.
     */
    public Trainer(JavaSparkContext sc, ResultStore store, IntConsumer afterEpoch, Progress progress) {
        this.sc = sc;
        this.store = store;
        this.afterEpoch = afterEpoch;
        this.progress = progress;
    }

    /**
     * Trains, evaluates after every epoch, and writes results and a checkpoint after every epoch.
     * With {@code resume}, a completed run of the same configuration in the results folder is kept
     * as it is, and an unfinished one continues from its checkpoint under its own run id. A run
     * whose training loss or parameters turn NaN or infinite stops after that epoch, recorded as
     * diverged ({@link Divergence}).
     */
    public RunResult run(TrainConfig config, TrainingData data, boolean resume) {
        double linkMbit = sc.getConf().getDouble(SparkSetup.LINK_MBIT, 0);
        Optional<RunResult> done = resume ? kept(config, linkMbit) : Optional.empty();
        if (done.isPresent()) {
            return done.get();
        }
        long runStart = System.nanoTime();
        Checkpoints.Restored restored = resume ? restored(config, linkMbit) : null;
        try (Session session = new Session(config, data, restored)) {
            RunProgress run = session.progress(restored, runStart);
            for (int epoch = run.nextEpoch(); epoch <= config.epochs(); epoch++) {
                long t = System.nanoTime();
                session.fit(epoch, run.runId());
                double fit = seconds(t);
                List<NodeTraffic> traffic = NetworkTrafficPlugin.epochTraffic();

                t = System.nanoTime();
                double loss = session.trainLoss();
                boolean diverged = Divergence.found(loss, session.network().params());
                // DL4J's evaluation refuses NaN predictions: an epoch that diverged has no test accuracy
                double accuracy = diverged ? Double.NaN : session.testAccuracy();
                EpochMetrics metrics = run.epoch(epoch, accuracy, loss, fit, seconds(t), traffic);

                if (diverged) {
                    return run.diverged(metrics);
                }
                run.record(metrics, session.network());
                afterEpoch.accept(epoch);
            }
            return run.completed(session.network(), data.stats());
        }
    }

    /** A completed run of {@code config} in the results folder, which {@code --resume} keeps. */
    private Optional<RunResult> kept(TrainConfig config, double linkMbit) {
        Optional<RunResult> done = Checkpoints.completed(store, config, linkMbit);
        done.ifPresent(run -> log.info("P={}: run {} is complete in {}; kept", config.partitions(), run.runId(),
                store.location()));
        return done;
    }

    /**
     * The latest checkpoint of {@code config}, or null; the JSON and CSV are made to match it, each
     * epoch once, as the checkpoint is never behind them.
     */
    private Checkpoints.Restored restored(TrainConfig config, double linkMbit) {
        Checkpoints.Restored restored = Checkpoints.latest(store, config, linkMbit).orElse(null);
        if (restored == null) {
            log.info("P={}: no checkpoint of this configuration in {}; starting afresh", config.partitions(),
                    store.location());
            return null;
        }
        store.writeRun(restored.run());
        store.rewriteRunRows(restored.run());
        log.info("Resuming run {} at epoch {}/{} from its checkpoint", restored.run().runId(),
                restored.run().epochs().size() + 1, config.epochs());
        return restored;
    }

    /**
     * What one run holds on Spark while it trains: the partitioned training data, the cached test and
     * loss-sample sets, the network and its training master, the task counter and the native thread
     * settings. Opening it is the run's partitioning and setup, timed; closing it releases them all.
     */
    private final class Session implements AutoCloseable {
        private final TrainConfig config;
        private final TrainingData data;
        private final PartitionPlan plan;
        private final int executors;
        private final ReplicaLayout layout;
        private final int steps;
        private final boolean inTurns;
        private final List<CifarRdds.Shares> broadcasts = new ArrayList<>();
        private final CifarRdds.Shares shares;
        private final JavaRDD<DataSet> test;
        private final JavaRDD<DataSet> lossSample;
        private final double partitionSeconds;
        private final TrainingMaster<?, ?> master;
        private final SparkComputationGraph sparkNet;
        private final ReplicasInTurns turns;
        private final double setupSeconds;
        private final TrainingTasks tasks;
        private final long slackBefore;
        private final Progress.Run progress;

        Session(TrainConfig config, TrainingData data, Checkpoints.Restored restored) {
            this.config = config;
            this.data = data;
            this.plan = PartitionPlan.of(data.train().size(), config.partitions());
            this.executors = SparkSetup.executors(sc);
            this.layout = ReplicaLayout.of(config.trainingMaster(), config.partitions(), executors);
            this.steps = stepsPerEpoch(plan, config.batchPerReplica());
            this.inTurns = config.execution() == Execution.TURNS;

            long t = System.nanoTime();
            this.shares = CifarRdds.partitioned(sc, data.train(), config.partitions());
            broadcasts.add(shares);
            this.test = evaluationSet(data.test(), config.evalBatch(), data, broadcasts);
            this.lossSample = evaluationSet(
                    data.train().slice(0, Math.min(config.lossSample(), data.train().size())), config.evalBatch(),
                    data, broadcasts);
            this.partitionSeconds = seconds(t);

            t = System.nanoTime();
            // in turns the training master only evaluates: parameter averaging's starts no transport
            this.master = inTurns ? TrainingMasters.evaluating(config)
                    : TrainingMasters.create(config, layout, sc.getConf(), sc.isLocal());
            ComputationGraph net = restored != null ? ShardedGraph.of(restored.net())
                    : SqueezeNetV11.build(config.replicaModelFor(steps));
            this.sparkNet = new SparkComputationGraph(sc, net, master);
            this.turns = inTurns ? TrainingMasters.inTurns(config, net) : null;
            this.setupSeconds = seconds(t);

            this.tasks = TrainingTasks.register(sc, config.trainingMaster() == TrainingMasterKind.SHARED);
            this.progress = Trainer.this.progress.start(sc, config, plan, config.batchPerReplica(), steps);
            // on the driver, gradient sharing's transport threads start from this thread: the timer slack task
            // threads get (NativeThreadsPlugin)
            this.slackBefore = NativeThreads.timerSlack(NativeThreadsPlugin.TIMER_SLACK_NS);
            // embedded, the replicas train in this JVM: cores shared among the replicas training at once (each
            // task then spreads libnd4j's elementwise ops over its replica's share: NativeThreadsPlugin)
            if (sc.isLocal() && !inTurns) {
                NativeThreads.shareProcessors(replicasAtOnce(config, layout, sc.defaultParallelism()));
            }
        }

        /** The run's bookkeeping, with what this session knows of it; logs what the run is. */
        RunProgress progress(Checkpoints.Restored restored, long runStart) {
            ModelConfig model = config.modelFor(steps);
            RunResult facts = RunResult.builder()
                    .config(config)
                    .environment(SparkSetup.environment(sc, executors))
                    .layout(layout)
                    .trainImages(data.train().size())
                    .testImages(data.test().size())
                    .imagesPerReplica(largestShare(plan))
                    .globalBatch(config.globalBatch())
                    .stepsPerEpoch(steps)
                    .dataSource(data.source())
                    .loadSeconds(data.loadSeconds())
                    .partitionSeconds(partitionSeconds)
                    .setupSeconds(setupSeconds)
                    .peakLearningRate(model.learningRate())
                    .warmupSteps(model.warmupSteps())
                    .build();
            RunProgress run = new RunProgress(store, facts, restored != null ? restored.run() : null,
                    tasks::snapshot, runStart, runId(Instant.now(), config));
            log.info("Run {}: P={} ({} executor(s) x {} replica(s)), {} training images, {} per replica,"
                            + " global batch {}, {} steps per epoch, {} epochs, {}", run.runId(), config.partitions(),
                    layout.executors(), layout.workersPerExecutor(), data.train().size(), facts.imagesPerReplica(),
                    config.globalBatch(), steps, config.epochs(),
                    config.trainingMaster().name().toLowerCase(Locale.ROOT));
            if (!config.arithmetic().isSynchronousSgd()) {
                log.warn("P={}: {} with {} is not synchronous SGD's arithmetic (one step on the mean gradient) but"
                                + " {}; for the study's arithmetic use --optimizer nesterov or sgd{}",
                        config.partitions(), config.model().optimizer(), config.trainingMaster(),
                        config.arithmetic().description(),
                        config.arithmetic() == Arithmetic.LOCAL_SGD ? " and --averaging-frequency 1" : "");
            }
            return run;
        }

        /**
         * One epoch of training: every replica over its partition's minibatches, in this epoch's order.
         *
         * @throws RunInterruptedException when gradient sharing lost an executor mid-epoch
         */
        void fit(int epoch, String runId) {
            long seed = config.model().seed() + epoch;
            Nd4j.getRandom().setSeed(seed);
            JavaRDD<DataSet> epochData = CifarRdds.minibatches(shares.rdd(), config.batchPerReplica(), data.stats(),
                    seed);
            int stepsBefore = (epoch - 1) * steps;
            NetworkTrafficPlugin.epochStart();
            progress.epochStart(epoch);
            String lost = null;
            if (inTurns) {
                tasks.inDriver(() -> fitInTurns(turns, data, config, seed, stepsBefore, progress));
            } else {
                lost = tasks.training(() -> fitEpoch(sparkNet, config, epochData, steps, stepsBefore, progress));
            }
            progress.epochEnd();
            if (lost != null) {
                throw new RunInterruptedException(lost + " was lost during epoch " + epoch + " of run " + runId
                        + "; gradient sharing cannot take in a replacement executor mid-epoch. "
                        + (epoch > 1 ? "Epochs 1.." + (epoch - 1) + " are saved" : "Nothing was trained yet")
                        + ": run the same command again with --resume to continue", null);
            }
        }

        double testAccuracy() {
            return sparkNet.evaluate(test).accuracy();
        }

        /** Mean loss on the fixed training sample, dropout off. */
        double trainLoss() {
            return LossScorer.meanLoss(sc, sparkNet.getNetwork(), lossSample);
        }

        ComputationGraph network() {
            return sparkNet.getNetwork();
        }

        @Override
        public void close() {
            if (slackBefore > 0) {
                NativeThreads.timerSlack(slackBefore);
            }
            if (sc.isLocal() && !inTurns) {
                NativeThreads.shareProcessors(0);
            }
            progress.close();
            tasks.close();
            test.unpersist(false);
            lossSample.unpersist(false);
            broadcasts.forEach(CifarRdds.Shares::close);
            master.deleteTempFiles(sc);
        }
    }

    /**
     * One pass over every partition's minibatches. Gradient sharing streams each partition into
     * its replica in one fit. Parameter averaging runs one fit per synchronous round, each replica
     * taking its next {@code averagingFrequency} minibatches: DL4J's own splitting of a whole epoch
     * rescans the RDD for every round, or (staging through files) left rounds with no data.
     */
    private static void fitEpoch(SparkComputationGraph sparkNet, TrainConfig config, JavaRDD<DataSet> epochData,
                                 int stepsPerEpoch, int stepsBefore, Progress.Run progress) {
        // this thread built or evaluated the network: embedded, its OpenMP workers would outnumber the cores
        // with the training thread's (see NativeThreadsPlugin)
        NativeThreads.releaseTeam();
        if (config.trainingMaster() == TrainingMasterKind.SHARED) {
            // the replicas start from the steps taken so far (SharedTrainingWithoutCount), also after --resume
            sparkNet.getNetwork().getConfiguration().setIterationCount(stepsBefore);
            sparkNet.fit(progress.counted(epochData));
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
                sparkNet.fit(progress.counted(CifarRdds.round(epochData, r, config.averagingFrequency())));
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
                                   int stepsBefore, Progress.Run progress) {
        NativeThreads.releaseTeam();
        turns.fitEpoch(progress.countedInDriver(CifarRdds.partitionsInDriver(data.train(), config.partitions(),
                config.batchPerReplica(), data.stats(), shuffleSeed)), stepsBefore);
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
    public static int stepsPerEpoch(PartitionPlan plan, int batchPerReplica) {
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
