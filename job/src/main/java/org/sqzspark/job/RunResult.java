package org.sqzspark.job;

import java.util.List;

/**
 * Everything one run produced: enough to reproduce it and to plot it.
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
 * @param peakLearningRate the learning rate after scaling (reached after the warm-up)
 * @param warmupSteps      steps of the linear learning-rate warm-up (0: none)
 * @param trainingTasks    successful training tasks per executor, from Spark's scheduler events
 * @param epochs           per-epoch metrics, in order
 */
public record RunResult(String runId, String startedAt, TrainConfig config, RunEnvironment environment,
                        ReplicaLayout layout, int trainImages, int testImages, int imagesPerReplica,
                        int globalBatch, int stepsPerEpoch, String dataSource, double loadSeconds,
                        double partitionSeconds, double setupSeconds, double trainSeconds, double evalSeconds,
                        double totalSeconds, boolean completed, double peakLearningRate, int warmupSteps,
                        List<ExecutorTasks> trainingTasks,
                        List<EpochMetrics> epochs) {

    /** The same run, marked as having finished every epoch and written its model. */
    public RunResult asCompleted() {
        return new RunResult(runId, startedAt, config, environment, layout, trainImages, testImages, imagesPerReplica,
                globalBatch, stepsPerEpoch, dataSource, loadSeconds, partitionSeconds, setupSeconds, trainSeconds,
                evalSeconds, totalSeconds, true, peakLearningRate, warmupSteps, trainingTasks, epochs);
    }

    /** Test accuracy after the last finished epoch, or NaN before the first. */
    public double finalTestAccuracy() {
        return epochs.isEmpty() ? Double.NaN : epochs.get(epochs.size() - 1).testAccuracy();
    }
}
