package org.sqzspark.job.train;

/**
 * How P model replicas map onto the cluster.
 *
 * <p>Gradient sharing runs one training wrapper per executor JVM with {@code workersPerExecutor}
 * replicas in it, so P must be a multiple of the executor count. In embedded local mode the
 * driver is the only executor and holds all P replicas. Parameter averaging runs one replica per
 * Spark task: P tasks per averaging round, spread over whatever cores the executors offer.
 *
 * @param partitions         P, the number of replicas and of training-data partitions
 * @param executors          executor JVMs taking part
 * @param workersPerExecutor replicas inside one executor JVM (gradient sharing)
 */
public record ReplicaLayout(int partitions, int executors, int workersPerExecutor) {

    public ReplicaLayout {
        if (partitions < 1 || executors < 1 || workersPerExecutor < 1) {
            throw new IllegalArgumentException("partitions, executors and workers per executor must be positive");
        }
    }

    /** The layout of P replicas over the given executors for a training master. */
    public static ReplicaLayout of(TrainingMasterKind kind, int partitions, int executors) {
        if (kind == TrainingMasterKind.AVERAGING) {
            return new ReplicaLayout(partitions, executors, 1);
        }
        if (partitions % executors != 0) {
            throw new IllegalArgumentException("--partitions " + partitions + " is not a multiple of the "
                    + executors + " executors: gradient sharing runs P / executors replicas in each executor JVM;"
                    + " choose P as a multiple of " + executors + " or change the executor count");
        }
        return new ReplicaLayout(partitions, executors, partitions / executors);
    }
}
