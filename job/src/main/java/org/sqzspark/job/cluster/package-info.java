/**
 * The job's side of Spark and Hadoop: the Spark configuration and context
 * ({@link org.sqzspark.job.cluster.SparkSetup}: master checks, event logs, plugins, executor
 * counts), the cluster's shared secret ({@link org.sqzspark.job.cluster.ClusterSecret}: read on the
 * driver, checked against the standalone master), Hadoop client time limits, and what is measured
 * on the executors (training tasks per executor, network traffic per node).
 */
package org.sqzspark.job.cluster;
