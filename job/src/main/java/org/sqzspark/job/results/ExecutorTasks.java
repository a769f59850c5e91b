package org.sqzspark.job.results;

/**
 * Training tasks one executor completed.
 *
 * @param executorId Spark's executor id ("driver" in local mode)
 * @param host       the executor's host
 * @param tasks      successful training tasks
 */
public record ExecutorTasks(String executorId, String host, int tasks) {
}
