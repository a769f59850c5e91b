package org.sqzspark.job.results;

/**
 * Bytes one executor's host sent and received over its network interfaces while it trained one
 * epoch: from the first training task's start to the last one's end on that executor, read from
 * the kernel's interface counters ({@code /proc/net/dev}, loopback left out). On a cluster of one
 * executor per node these are the node's link's bytes, training and everything else it carried
 * meanwhile (the data shares are cached before the first epoch).
 *
 * @param executorId    Spark's executor id, or "driver" for the driver's host
 * @param host          the executor's host
 * @param sentBytes     bytes sent
 * @param receivedBytes bytes received
 */
public record NodeTraffic(String executorId, String host, long sentBytes, long receivedBytes) {
}
