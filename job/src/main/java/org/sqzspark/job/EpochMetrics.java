package org.sqzspark.job;

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
 */
public record EpochMetrics(int epoch, double testAccuracy, double trainLoss, double fitSeconds,
                           double evalSeconds, double imagesPerSecond, double elapsedSeconds) {
}
