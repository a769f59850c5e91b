package org.sqzspark.job.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqzspark.data.ChannelStats;
import org.sqzspark.job.predict.TrainedModel;
import org.sqzspark.job.results.Checkpoints;
import org.sqzspark.job.results.EpochMetrics;
import org.sqzspark.job.results.ExecutorTasks;
import org.sqzspark.job.results.NodeTraffic;
import org.sqzspark.job.results.ResultStore;
import org.sqzspark.job.results.RunResult;

/**
 * The bookkeeping of one run beside its epoch loop: its id and start, the epochs finished so far (a
 * resumed run's included), the time they took, and what is written after each: the checkpoint, the
 * JSON result and the CSV row, in that order, so the checkpoint is never behind the results.
 */
final class RunProgress {

    /** The epoch lines are the training loop's: they log under its name, as users and scripts read them. */
    private static final Logger log = LoggerFactory.getLogger(Trainer.class);

    private final ResultStore store;
    private final RunResult facts;
    private final Supplier<List<ExecutorTasks>> trainingTasks;
    private final long startNanos;
    private final double earlierSeconds;
    private final List<EpochMetrics> epochs;
    private double trainSeconds;
    private double evalSeconds;
    private RunResult current;

    /**
     * @param store         the results folder
     * @param facts         what the run is and where it runs: every field but its id, start, times,
     *                      training tasks and epochs
     * @param restored      the run so far, read from its checkpoint, or null for a new run
     * @param trainingTasks the training tasks per executor so far
     * @param startNanos    {@link System#nanoTime()} when this session of the run started
     * @param runId         the id of a new run (a resumed run keeps its own)
     */
    RunProgress(ResultStore store, RunResult facts, RunResult restored, Supplier<List<ExecutorTasks>> trainingTasks,
                long startNanos, String runId) {
        this.store = store;
        this.trainingTasks = trainingTasks;
        this.startNanos = startNanos;
        this.current = restored;
        this.epochs = new ArrayList<>(restored != null ? restored.epochs() : List.of());
        this.trainSeconds = epochs.stream().mapToDouble(EpochMetrics::fitSeconds).sum();
        this.evalSeconds = epochs.stream().mapToDouble(EpochMetrics::evalSeconds).sum();
        this.earlierSeconds = restored != null ? restored.totalSeconds() : 0;
        this.facts = facts.toBuilder()
                .runId(restored != null ? restored.runId() : runId)
                .startedAt(restored != null ? restored.startedAt() : java.time.Instant.now().toString())
                .build();
    }

    String runId() {
        return facts.runId();
    }

    /** The epoch to run next, 1-based. */
    int nextEpoch() {
        return epochs.size() + 1;
    }

    /** The epoch's metrics; its elapsed time counts the epochs before it. */
    EpochMetrics epoch(int epoch, double testAccuracy, double trainLoss, double fitSeconds, double evalSeconds,
                       List<NodeTraffic> traffic) {
        return new EpochMetrics(epoch, testAccuracy, trainLoss, fitSeconds, evalSeconds,
                facts.trainImages() / fitSeconds, trainSeconds + this.evalSeconds + fitSeconds + evalSeconds, traffic);
    }

    /** Records a finished epoch: checkpoint, JSON result, CSV row and a log line. */
    void record(EpochMetrics metrics, ComputationGraph net) {
        current = withEpoch(metrics);
        Checkpoints.save(store, current, net);
        store.writeRun(current);
        store.appendEpoch(current, metrics);
        TrainConfig c = current.config();
        log.info(String.format(Locale.ROOT,
                "P=%d epoch %d/%d: test accuracy %.2f%%, train loss %.4f, %.1f s, %.0f images/s",
                c.partitions(), metrics.epoch(), c.epochs(), 100 * metrics.testAccuracy(), metrics.trainLoss(),
                metrics.fitSeconds(), metrics.imagesPerSecond()));
    }

    /**
     * Records the epoch that went numerically wrong and ends the run there, marked as diverged: no
     * checkpoint to resume from (a resumed run would start from the same numbers) and no model.
     */
    RunResult diverged(EpochMetrics metrics) {
        current = withEpoch(metrics).asDiverged();
        store.writeRun(current);
        store.appendEpoch(current, metrics);
        store.delete(Checkpoints.name(runId()));
        log.error(Divergence.message(current));
        return current;
    }

    /**
     * Ends a run whose every epoch finished: writes its model with the channel statistics its inputs
     * were normalized with (predict needs both), marks it completed, drops its checkpoint.
     */
    RunResult completed(ComputationGraph trained, ChannelStats stats) {
        store.write(ResultStore.modelName(runId()), out -> TrainedModel.write(trained, stats, out));
        current = current.asCompleted();
        store.writeRun(current);
        store.delete(Checkpoints.name(runId()));
        return current;
    }

    private RunResult withEpoch(EpochMetrics metrics) {
        epochs.add(metrics);
        trainSeconds += metrics.fitSeconds();
        evalSeconds += metrics.evalSeconds();
        return facts.toBuilder()
                .trainSeconds(trainSeconds)
                .evalSeconds(evalSeconds)
                .totalSeconds(earlierSeconds + facts.loadSeconds() + (System.nanoTime() - startNanos) / 1e9)
                .trainingTasks(trainingTasks.get())
                .epochs(List.copyOf(epochs))
                .build();
    }
}
