package org.sqzspark.job.train;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.util.LongAccumulator;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqzspark.data.PartitionPlan;
import scala.Option;
import scala.Tuple4;
import scala.collection.JavaConverters;
import scala.collection.Seq;

/**
 * Progress lines on the driver while an epoch trains: steps done of the epoch's steps, images/s so
 * far in the epoch, the epoch's time left and the time left in the whole run or sweep; at most one
 * line every {@link #INTERVAL} per run, none between epochs, none with {@code --quiet}.
 *
 * <p>What is counted: minibatches as the replicas take them from their partitions. Through Spark
 * (both training masters) each task counts its partition's minibatches in a {@link LongAccumulator},
 * one add per minibatch on the executor and no message of its own: a running task's count reaches
 * the driver with its executor's heartbeats ({@code spark.executor.heartbeatInterval}; gradient
 * sharing's one long task per replica and epoch is seen that way), a finished task's with its result
 * (parameter averaging's tasks end every round). In turns (replicas in the driver) the driver counts
 * them itself. A replica takes a minibatch before it trains on it, up to its prefetch (2) ahead, so
 * the count can lead the finished steps by that much; it is exact once the epoch's tasks end. Steps
 * shown are the epoch's synchronous steps times the share of the epoch's minibatches taken.
 *
 * <p>Time left in the epoch: the epoch's images not yet taken at the rate measured so far in the
 * epoch. Time left in the run or sweep: the images still to train (the rest of this epoch, this
 * run's later epochs, and every later run's training images times its epochs) at the rate of this
 * run so far, measured over wall-clock time since its first epoch started, so the evaluations and
 * checkpoints of its finished epochs count in it. Later runs with another P train at other speeds,
 * their setup is not counted, and runs a {@code --resume} will skip are: it is an estimate, marked
 * {@code ~}.
 */
public final class Progress {

    /** Shortest time between two progress lines of one run, in seconds. */
    public static final int INTERVAL_SECONDS = 10;
    /** Shortest time between two progress lines of one run. */
    static final Duration INTERVAL = Duration.ofSeconds(INTERVAL_SECONDS);
    /** Prefix of the reporter thread's name; the thread lives from a run's start to its end. */
    static final String THREAD_NAME = "sqzspark-progress";
    private static final Logger log = LoggerFactory.getLogger(Progress.class);
    /** The interval in force; only tests change it, through {@link #interval(Duration)}. */
    private static volatile long intervalNanos = INTERVAL.toNanos();

    private final List<TrainConfig> runs;
    private final int trainImages;
    private final boolean quiet;

    /**
     * Progress of {@code runs}, trained in this order on {@code trainImages} training images each.
     *
     * @param quiet no progress lines (the epoch lines are the {@link Trainer}'s)
     */
    public Progress(List<TrainConfig> runs, int trainImages, boolean quiet) {
        this.runs = List.copyOf(runs);
        this.trainImages = trainImages;
        this.quiet = quiet;
    }

    /** Lowers (or restores) the interval between lines; for tests. */
    static void interval(Duration interval) {
        intervalNanos = interval.toNanos();
    }

    /**
     * Starts reporting on run {@code config}: its listener and its reporter thread, until
     * {@link Run#close()}.
     *
     * @param plan        the run's partitions
     * @param batch       minibatch of one replica
     * @param steps       synchronous steps per epoch
     */
    Run start(JavaSparkContext sc, TrainConfig config, PartitionPlan plan, int batch, int steps) {
        if (quiet) {
            return new Run(null, config, 0, steps, 0, "run");
        }
        long minibatches = 0;
        for (int p = 0; p < plan.parts(); p++) {
            minibatches += (plan.size(p) + batch - 1) / batch;
        }
        int index = runs.indexOf(config);
        long imagesOfLaterRuns = 0;
        for (TrainConfig later : index < 0 ? List.<TrainConfig>of() : runs.subList(index + 1, runs.size())) {
            imagesOfLaterRuns += (long) trainImages * later.epochs();
        }
        return new Run(sc, config, minibatches, steps, imagesOfLaterRuns,
                runs.size() > 1 ? "sweep" : "run");
    }

    /** One run's progress: the Trainer marks its epochs and hands it the data its replicas consume. */
    final class Run implements AutoCloseable {
        private final JavaSparkContext sc;
        private final TrainConfig config;
        private final long minibatches;
        private final int steps;
        private final long imagesOfLaterRuns;
        private final Counter counter;
        private final ScheduledExecutorService reporter;
        /** What the last estimate of a line covers: "run" or "sweep". */
        private final String scope;
        /** When the run's first epoch started ({@link System#nanoTime()}), once it has. */
        private long runStart;
        private boolean started;
        /** Epochs this run trained so far, not counting those restored from a checkpoint. */
        private int epochsTrained;
        /** The epoch training now, or 0 between epochs. */
        private int epoch;
        private long epochStart;
        private long lastLine;

        private Run(JavaSparkContext sc, TrainConfig config, long minibatches, int steps, long imagesOfLaterRuns,
                    String scope) {
            this.sc = sc;
            this.config = config;
            this.minibatches = minibatches;
            this.steps = steps;
            this.imagesOfLaterRuns = imagesOfLaterRuns;
            this.scope = scope;
            if (sc == null) {
                counter = null;
                reporter = null;
                return;
            }
            counter = new Counter();
            sc.sc().addSparkListener(counter);
            reporter = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, THREAD_NAME + "-p" + config.partitions());
                t.setDaemon(true);
                return t;
            });
            // ticks often, prints at most once an interval: the first line comes one interval into an epoch
            long tick = Math.max(1, Math.min(TimeUnit.SECONDS.toNanos(1), intervalNanos / 4));
            reporter.scheduleAtFixedRate(this::tick, tick, tick, TimeUnit.NANOSECONDS);
        }

        /** Epoch {@code epoch} starts training now. */
        synchronized void epochStart(int epoch) {
            if (counter == null) {
                return;
            }
            counter.reset(sc);
            this.epoch = epoch;
            epochStart = System.nanoTime();
            if (!started) {
                runStart = epochStart;
                started = true;
            }
        }

        /** The epoch has trained: no more lines until the next one starts. */
        synchronized void epochEnd() {
            if (epoch != 0) {
                epochsTrained++;
            }
            epoch = 0;
        }

        /** {@code minibatches}, each one counted on its executor as a replica takes it. */
        JavaRDD<DataSet> counted(JavaRDD<DataSet> minibatches) {
            if (counter == null) {
                return minibatches;
            }
            LongAccumulator taken = counter.accumulator;
            return minibatches.mapPartitions(batches -> new Counting(batches, taken), true);
        }

        /** {@code partitions}, each minibatch counted here in the driver as a replica takes it. */
        List<Iterator<DataSet>> countedInDriver(List<Iterator<DataSet>> partitions) {
            if (counter == null) {
                return partitions;
            }
            List<Iterator<DataSet>> counted = new ArrayList<>(partitions.size());
            for (Iterator<DataSet> p : partitions) {
                counted.add(new Counting(p, counter));
            }
            return counted;
        }

        private synchronized void tick() {
            long now = System.nanoTime();
            if (epoch == 0 || now - Math.max(epochStart, lastLine) < intervalNanos) {
                return;
            }
            lastLine = now;
            long taken = counter.taken();
            long seenAt = Math.max(epochStart, counter.changedAt());
            // logged while holding the lock, so that epochEnd() returns only after any line of the epoch
            log.info(line(new State(config.partitions(), epoch, config.epochs(), steps, taken, minibatches,
                    trainImages, seconds(seenAt - epochStart), seconds(now - seenAt),
                    (long) epochsTrained * trainImages, seconds(seenAt - runStart),
                    (long) (config.epochs() - epoch) * trainImages + imagesOfLaterRuns, scope)));
        }

        /** Stops the reporter thread and the counting; returns once the thread is gone. */
        @Override
        public void close() {
            if (counter == null) {
                return;
            }
            epochEnd();
            reporter.shutdownNow();
            try {
                reporter.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sc.sc().removeSparkListener(counter);
        }
    }

    /**
     * What a progress line says, from what was counted.
     *
     * @param taken            minibatches taken so far in the epoch
     * @param minibatches      minibatches in the epoch, over all replicas
     * @param epochSeconds     from the epoch's start to when {@code taken} was counted
     * @param sinceCount       from then to now
     * @param imagesEarlier    images this run trained in its epochs before this one
     * @param runSeconds       from the run's first epoch's start to when {@code taken} was counted
     * @param imagesAfterEpoch images to train after this epoch: this run's later epochs and later runs
     * @param scope            "run" or "sweep": what the last estimate covers
     */
    record State(int partitions, int epoch, int epochs, int steps, long taken, long minibatches, int trainImages,
                 double epochSeconds, double sinceCount, long imagesEarlier, double runSeconds,
                 long imagesAfterEpoch, String scope) {
    }

    /** The progress line of {@code s}. */
    static String line(State s) {
        long taken = Math.min(s.taken(), s.minibatches());
        double share = s.minibatches() == 0 ? 0 : (double) taken / s.minibatches();
        int step = (int) (s.steps() * share);
        String head = String.format(Locale.ROOT, "P=%d epoch %d/%d: step %d/%d (%d%%)", s.partitions(), s.epoch(),
                s.epochs(), step, s.steps(), (int) (100 * share));
        if (taken == 0 || s.epochSeconds() <= 0) {
            return head + ", images/s and time left once the first steps are counted";
        }
        double images = s.trainImages() * share;
        double rate = images / s.epochSeconds();
        double epochLeft = left(s.trainImages() - images, rate, s.epochSeconds(), s.sinceCount());
        double runSeconds = Math.max(s.runSeconds(), s.epochSeconds());
        double allLeft = Math.max(epochLeft, left(s.trainImages() - images + s.imagesAfterEpoch(),
                (s.imagesEarlier() + images) / runSeconds, runSeconds, s.sinceCount()));
        return head + String.format(Locale.ROOT, ", %.0f images/s, epoch %s left, %s ~%s left", rate,
                duration(epochLeft), s.scope(), duration(allLeft));
    }

    /**
     * Seconds to train {@code images} at {@code rate}, measured over {@code measured} seconds up to
     * the last count, {@code sinceCount} seconds ago: counting down from then, or, once that time is
     * past with no newer count, at the rate measured up to now instead of 0 s.
     */
    private static double left(double images, double rate, double measured, double sinceCount) {
        double left = images / rate - sinceCount;
        return left > 0 || images <= 0 ? Math.max(0, left) : images / (rate * measured / (measured + sinceCount));
    }

    /** "42 s", "4 min 05 s", "2 h 14 min". */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%d h %02d min", s / 3600, s % 3600 / 60);
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    /**
     * The epoch's minibatches taken so far: each Spark task's latest count, from heartbeats while it
     * runs and from its result when it ends, plus those the driver counted itself.
     */
    private static final class Counter extends SparkListener {
        /** This epoch's accumulator: a new one every epoch, so no late count of an earlier epoch's task mixes in. */
        private volatile LongAccumulator accumulator;
        private final Map<Long, Long> byTask = new ConcurrentHashMap<>();
        private long fromTasks;
        private long inDriver;
        private long changedAt;

        synchronized void reset(JavaSparkContext sc) {
            accumulator = sc.sc().longAccumulator("sqzspark.minibatchesTaken");
            byTask.clear();
            fromTasks = 0;
            inDriver = 0;
            changedAt = 0;
        }

        synchronized long taken() {
            return fromTasks + inDriver;
        }

        /** When the count last grew ({@link System#nanoTime()}), or 0. */
        synchronized long changedAt() {
            return changedAt;
        }

        synchronized void takenInDriver() {
            inDriver++;
            changedAt = System.nanoTime();
        }

        @Override
        public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
            LongAccumulator acc = accumulator;
            if (acc == null) {
                return;
            }
            for (Tuple4<Object, Object, Object, Seq<AccumulableInfo>> task
                    : JavaConverters.seqAsJavaList(update.accumUpdates())) {
                record((Long) task._1(), task._4(), acc.id());
            }
        }

        @Override
        public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
            LongAccumulator acc = accumulator;
            if (acc != null && taskEnd.taskInfo() != null) {
                record(taskEnd.taskInfo().taskId(), taskEnd.taskInfo().accumulables(), acc.id());
            }
        }

        /** A task's count only grows: a heartbeat sampled before its end may arrive after it. */
        private void record(long taskId, Seq<AccumulableInfo> infos, long accumulatorId) {
            for (AccumulableInfo info : JavaConverters.seqAsJavaList(infos)) {
                Option<Object> value = info.update();
                if (info.id() == accumulatorId && value.isDefined() && value.get() instanceof Long count) {
                    synchronized (this) {
                        long before = byTask.getOrDefault(taskId, 0L);
                        if (count > before) {
                            byTask.put(taskId, count);
                            fromTasks += count - before;
                            changedAt = System.nanoTime();
                        }
                    }
                }
            }
        }
    }

    /** Counts each minibatch as it is taken: into a task's accumulator, or the driver's counter. */
    private static final class Counting implements Iterator<DataSet> {
        private final Iterator<DataSet> batches;
        private final LongAccumulator taken;
        private final Counter inDriver;

        Counting(Iterator<DataSet> batches, LongAccumulator taken) {
            this.batches = batches;
            this.taken = taken;
            this.inDriver = null;
        }

        Counting(Iterator<DataSet> batches, Counter inDriver) {
            this.batches = batches;
            this.taken = null;
            this.inDriver = inDriver;
        }

        @Override
        public boolean hasNext() {
            return batches.hasNext();
        }

        @Override
        public DataSet next() {
            DataSet batch = batches.next();
            if (taken != null) {
                // a task's iterator may be drained by a prefetch thread while the heartbeat reads the value
                synchronized (taken) {
                    taken.add(1);
                }
            } else {
                inDriver.takenInDriver();
            }
            return batch;
        }
    }
}
