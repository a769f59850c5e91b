package org.sqzspark.job.train;

/**
 * How the learning rate grows with the global batch (Goyal et al. 2017): a global batch k times
 * the one-replica batch takes k times the rate (linear) or sqrt(k) times (square root).
 */
public enum LrScaling {
    /** The given rate at every P. */
    NONE,
    /** Rate times k. */
    LINEAR,
    /** Rate times sqrt(k). */
    SQRT;

    /** The rate for a global batch {@code k} times the one-replica batch. */
    double scale(double rate, double k) {
        return switch (this) {
            case NONE -> rate;
            case LINEAR -> rate * k;
            case SQRT -> rate * Math.sqrt(k);
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
