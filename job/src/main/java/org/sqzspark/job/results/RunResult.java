package org.sqzspark.job.results;

import java.util.List;
import org.sqzspark.job.train.ReplicaLayout;
import org.sqzspark.job.train.TrainConfig;

/**
 * Everything one run produced: enough to reproduce it and to plot it. Built by name, with {@link
 * #builder()} or {@link #toBuilder()}: a reader never counts positional arguments.
 *
 * @param runId            unique name of the run, also the result file's name
 * @param startedAt        ISO-8601 UTC start time
 * @param config           resolved configuration
 * @param environment      where it ran
 * @param layout           replicas over executors
 * @param trainImages      training images used
 * @param testImages       test images evaluated
 * @param imagesPerReplica training images in one replica's partition (the largest)
 * @param globalBatch      images per synchronous step over all replicas
 * @param stepsPerEpoch    synchronous steps per epoch, ceil(images per replica / batch per replica)
 * @param dataSource       where the data was read from
 * @param loadSeconds      reading, validating and normalizing the data
 * @param partitionSeconds distributing the training data into P partitions
 * @param setupSeconds     building the network and the training master
 * @param trainSeconds     sum of the epochs' fit time
 * @param evalSeconds      sum of the epochs' evaluation time
 * @param totalSeconds     wall-clock of the whole run, loading included
 * @param completed        true once every epoch has finished
 * @param diverged         true when the run stopped after its last epoch because its training loss or
 *                         its parameters turned NaN or infinite (never together with {@code completed})
 * @param peakLearningRate the learning rate after scaling (reached after the warm-up)
 * @param warmupSteps      steps of the linear learning-rate warm-up (0: none)
 * @param trainingTasks    successful training tasks per executor, from Spark's scheduler events
 * @param epochs           per-epoch metrics, in order
 */
public record RunResult(String runId, String startedAt, TrainConfig config, RunEnvironment environment,
                        ReplicaLayout layout, int trainImages, int testImages, int imagesPerReplica,
                        int globalBatch, int stepsPerEpoch, String dataSource, double loadSeconds,
                        double partitionSeconds, double setupSeconds, double trainSeconds, double evalSeconds,
                        double totalSeconds, boolean completed, boolean diverged, double peakLearningRate,
                        int warmupSteps, List<ExecutorTasks> trainingTasks, List<EpochMetrics> epochs) {

    /** An empty builder; every field not set is zero, false or null. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding every field of this run, to change some by name. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.runId = runId;
        b.startedAt = startedAt;
        b.config = config;
        b.environment = environment;
        b.layout = layout;
        b.trainImages = trainImages;
        b.testImages = testImages;
        b.imagesPerReplica = imagesPerReplica;
        b.globalBatch = globalBatch;
        b.stepsPerEpoch = stepsPerEpoch;
        b.dataSource = dataSource;
        b.loadSeconds = loadSeconds;
        b.partitionSeconds = partitionSeconds;
        b.setupSeconds = setupSeconds;
        b.trainSeconds = trainSeconds;
        b.evalSeconds = evalSeconds;
        b.totalSeconds = totalSeconds;
        b.completed = completed;
        b.diverged = diverged;
        b.peakLearningRate = peakLearningRate;
        b.warmupSteps = warmupSteps;
        b.trainingTasks = trainingTasks;
        b.epochs = epochs;
        return b;
    }

    /** The same run, marked as having finished every epoch and written its model. */
    public RunResult asCompleted() {
        return toBuilder().completed(true).build();
    }

    /** The same run, marked as stopped after its last epoch because it went numerically wrong. */
    public RunResult asDiverged() {
        return toBuilder().diverged(true).build();
    }

    /** Test accuracy after the last finished epoch, or NaN before the first. */
    public double finalTestAccuracy() {
        return epochs.isEmpty() ? Double.NaN : epochs.get(epochs.size() - 1).testAccuracy();
    }

    /** Builds a {@link RunResult} field by field; see the record's parameters for each field's meaning. */
    public static final class Builder {
        private String runId;
        private String startedAt;
        private TrainConfig config;
        private RunEnvironment environment;
        private ReplicaLayout layout;
        private int trainImages;
        private int testImages;
        private int imagesPerReplica;
        private int globalBatch;
        private int stepsPerEpoch;
        private String dataSource;
        private double loadSeconds;
        private double partitionSeconds;
        private double setupSeconds;
        private double trainSeconds;
        private double evalSeconds;
        private double totalSeconds;
        private boolean completed;
        private boolean diverged;
        private double peakLearningRate;
        private int warmupSteps;
        private List<ExecutorTasks> trainingTasks = List.of();
        private List<EpochMetrics> epochs = List.of();

        private Builder() {
        }

        public Builder runId(String runId) {
            this.runId = runId;
            return this;
        }

        public Builder startedAt(String startedAt) {
            this.startedAt = startedAt;
            return this;
        }

        public Builder config(TrainConfig config) {
            this.config = config;
            return this;
        }

        public Builder environment(RunEnvironment environment) {
            this.environment = environment;
            return this;
        }

        public Builder layout(ReplicaLayout layout) {
            this.layout = layout;
            return this;
        }

        public Builder trainImages(int trainImages) {
            this.trainImages = trainImages;
            return this;
        }

        public Builder testImages(int testImages) {
            this.testImages = testImages;
            return this;
        }

        public Builder imagesPerReplica(int imagesPerReplica) {
            this.imagesPerReplica = imagesPerReplica;
            return this;
        }

        public Builder globalBatch(int globalBatch) {
            this.globalBatch = globalBatch;
            return this;
        }

        public Builder stepsPerEpoch(int stepsPerEpoch) {
            this.stepsPerEpoch = stepsPerEpoch;
            return this;
        }

        public Builder dataSource(String dataSource) {
            this.dataSource = dataSource;
            return this;
        }

        public Builder loadSeconds(double loadSeconds) {
            this.loadSeconds = loadSeconds;
            return this;
        }

        public Builder partitionSeconds(double partitionSeconds) {
            this.partitionSeconds = partitionSeconds;
            return this;
        }

        public Builder setupSeconds(double setupSeconds) {
            this.setupSeconds = setupSeconds;
            return this;
        }

        public Builder trainSeconds(double trainSeconds) {
            this.trainSeconds = trainSeconds;
            return this;
        }

        public Builder evalSeconds(double evalSeconds) {
            this.evalSeconds = evalSeconds;
            return this;
        }

        public Builder totalSeconds(double totalSeconds) {
            this.totalSeconds = totalSeconds;
            return this;
        }

        public Builder completed(boolean completed) {
            this.completed = completed;
            return this;
        }

        public Builder diverged(boolean diverged) {
            this.diverged = diverged;
            return this;
        }

        public Builder peakLearningRate(double peakLearningRate) {
            this.peakLearningRate = peakLearningRate;
            return this;
        }

        public Builder warmupSteps(int warmupSteps) {
            this.warmupSteps = warmupSteps;
            return this;
        }

        public Builder trainingTasks(List<ExecutorTasks> trainingTasks) {
            this.trainingTasks = trainingTasks;
            return this;
        }

        public Builder epochs(List<EpochMetrics> epochs) {
            this.epochs = epochs;
            return this;
        }

        public RunResult build() {
            return new RunResult(runId, startedAt, config, environment, layout, trainImages, testImages,
                    imagesPerReplica, globalBatch, stepsPerEpoch, dataSource, loadSeconds, partitionSeconds,
                    setupSeconds, trainSeconds, evalSeconds, totalSeconds, completed, diverged, peakLearningRate,
                    warmupSteps, trainingTasks, epochs);
        }
    }
}
