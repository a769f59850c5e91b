package org.sqzspark.job.train;

/** The DL4J Spark training masters this job can use. */
public enum TrainingMasterKind {
    /**
     * Gradient sharing ({@code SharedTrainingMaster}): every replica applies its own and the other
     * replicas' threshold-encoded updates, exchanged over Aeron (Strom 2015).
     */
    SHARED,
    /**
     * Synchronous parameter averaging ({@code ParameterAveragingTrainingMaster}): replicas fit
     * {@code averagingFrequency} minibatches each, then parameters and updater state are averaged.
     * Averaging every minibatch is the closest match to synchronous MPI data parallelism.
     */
    AVERAGING;

    /** The name as used on the command line. */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
