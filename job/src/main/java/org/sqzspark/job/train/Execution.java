package org.sqzspark.job.train;

/** How the P replicas of a run execute. */
public enum Execution {
    /**
     * Embedded only: one network in the driver, the replicas taking turns on its cores and combined
     * as the training master combines them ({@link org.sqzspark.job.train.turns.ReplicasInTurns}).
     */
    TURNS,
    /** DL4J's Spark training: the replicas as Spark tasks (averaging) or executor threads (sharing). */
    SPARK;

    /** The name as used on the command line. */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
