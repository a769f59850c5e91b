package org.sqzspark.job.results;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import org.sqzspark.job.cluster.NetworkTrafficPlugin;

/**
 * What one epoch measured, gathered at the driver.
 *
 * @param epoch            1-based epoch number
 * @param testAccuracy     accuracy on the whole test set after the epoch, 0..1
 * @param trainLoss        mean cross-entropy on a fixed sample of the training set after the epoch
 *                         (dropout off)
 * @param fitSeconds       wall-clock of the distributed fit (training and its communication)
 * @param evalSeconds      wall-clock of the distributed test evaluation and loss scoring
 * @param imagesPerSecond  training images divided by fit seconds
 * @param elapsedSeconds   wall-clock since the start of training, after this epoch
 * @param traffic          each executor host's network bytes while it trained this epoch (clusters
 *                         only; empty embedded and in results written before it was measured, and
 *                         then left out of the JSON)
 */
public record EpochMetrics(int epoch, double testAccuracy, double trainLoss, double fitSeconds,
                           double evalSeconds, double imagesPerSecond, double elapsedSeconds,
                           @JsonInclude(JsonInclude.Include.NON_EMPTY) List<NodeTraffic> traffic) {

    public EpochMetrics {
        traffic = traffic == null ? List.of() : List.copyOf(traffic);
    }

    /** Mean over executor hosts of the bytes one sent per synchronous step, or NaN if not measured. */
    public double sentBytesPerStep(int stepsPerEpoch) {
        return executors().mapToLong(NodeTraffic::sentBytes).average().orElse(Double.NaN) / stepsPerEpoch;
    }

    /** Mean over executor hosts of the bytes one received per synchronous step, or NaN if not measured. */
    public double receivedBytesPerStep(int stepsPerEpoch) {
        return executors().mapToLong(NodeTraffic::receivedBytes).average().orElse(Double.NaN) / stepsPerEpoch;
    }

    private java.util.stream.Stream<NodeTraffic> executors() {
        return traffic.stream().filter(t -> !t.executorId().equals(NetworkTrafficPlugin.DRIVER));
    }
}
