package org.sqzspark.job.cluster;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * How long Hadoop's client waits for a namenode, wherever the job reads or writes hdfs://: the
 * data, the results folder, checkpoints and models, the report. Each is a default that
 * spark-conf, {@code core-site.xml} or the user can override.
 *
 * <ul>
 *   <li>A namenode that does not accept the connection: 5 s connect timeout, 2 retries, so 15 s
 *   instead of Hadoop's 15 minutes (20 s, 45 retries). A refused connection fails at once.</li>
 *   <li>A namenode that accepts the connection but never answers a call (a hung or stopped
 *   process whose port is still open, a proxy): {@value #RPC_TIMEOUT_MS} ms. Hadoop 3.3's
 *   {@code ipc.client.rpc-timeout.ms} is 0, and the client then waits for the answer forever,
 *   pinging every 60 s. A namenode answers the job's calls (status, listing, open, create) in
 *   milliseconds; 20 s leaves room for a busy one's pauses, and the calls are not retried.</li>
 * </ul>
 */
public final class HadoopTimeouts {

    /** Connect timeout per attempt. */
    static final int CONNECT_TIMEOUT_MS = 5_000;
    /** Further connect attempts after one timed out. */
    static final int CONNECT_RETRIES_ON_TIMEOUT = 2;
    /** Longest wait for the answer to one call on an open connection. */
    public static final int RPC_TIMEOUT_MS = 20_000;

    /** The Hadoop settings, by Hadoop's key. */
    static final Map<String, String> SETTINGS = settings();

    private HadoopTimeouts() {
    }

    /** {@code conf} with each setting that no configuration file or caller set. */
    public static Configuration applyTo(Configuration conf) {
        SETTINGS.forEach((key, value) -> {
            String[] sources = conf.getPropertySources(key);
            boolean onlyDefault = sources == null || Arrays.stream(sources).allMatch("core-default.xml"::equals);
            if (onlyDefault) {
                conf.set(key, value);
            }
        });
        return conf;
    }

    private static Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("ipc.client.connect.timeout", String.valueOf(CONNECT_TIMEOUT_MS));
        s.put("ipc.client.connect.max.retries.on.timeouts", String.valueOf(CONNECT_RETRIES_ON_TIMEOUT));
        s.put("ipc.client.rpc-timeout.ms", String.valueOf(RPC_TIMEOUT_MS));
        return Collections.unmodifiableMap(s);
    }
}
