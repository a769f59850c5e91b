package org.sqzspark.job.train;

import org.sqzspark.model.Optimizer;

/**
 * What one synchronous step of a run computes, whichever way its replicas execute. Synchronous SGD
 * over P replicas of batch B is one step of batch P*B on the mean gradient: the study's arithmetic.
 */
public enum Arithmetic {
    /** Averaging every minibatch with SGD or momentum SGD: exactly one step on the mean gradient. */
    SYNCHRONOUS_SGD("synchronous SGD"),
    /**
     * Gradient sharing with SGD or momentum SGD at each replica's rate over P: the encoded updates
     * plus what the encoding holds back sum to the mean update.
     */
    SYNCHRONOUS_SGD_ENCODED("synchronous SGD, threshold-encoded"),
    /** Averaging every k > 1 minibatches: k local steps per replica between averagings (local SGD). */
    LOCAL_SGD("local SGD, averaged every k steps"),
    /** Adam at P > 1: the mean of P replicas' Adam steps, not Adam on the mean gradient. */
    MEAN_OF_ADAM_STEPS("mean of the replicas' Adam steps");

    private final String description;

    Arithmetic(String description) {
        this.description = description;
    }

    /** The arithmetic of a training master, averaging frequency, update rule and P. */
    static Arithmetic of(TrainingMasterKind master, int averagingFrequency, Optimizer optimizer, int partitions) {
        if (optimizer == Optimizer.ADAM && partitions > 1) {
            return MEAN_OF_ADAM_STEPS;
        }
        if (master == TrainingMasterKind.SHARED) {
            return SYNCHRONOUS_SGD_ENCODED;
        }
        return averagingFrequency == 1 || partitions == 1 ? SYNCHRONOUS_SGD : LOCAL_SGD;
    }

    /** True for the study's arithmetic: one step on the mean gradient of the global batch. */
    public boolean isSynchronousSgd() {
        return this == SYNCHRONOUS_SGD || this == SYNCHRONOUS_SGD_ENCODED;
    }

    /** In words, for logs and reports. */
    public String description() {
        return description;
    }

    /** The name as written to results. */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
