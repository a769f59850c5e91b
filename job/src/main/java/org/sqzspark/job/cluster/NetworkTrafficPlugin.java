package org.sqzspark.job.cluster;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.TaskFailedReason;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqzspark.job.results.NodeTraffic;

/**
 * Measures each executor host's network traffic while it trains (registered in
 * {@code spark.plugins} by {@link SparkSetup}, active on clusters only). At the start and at the
 * end of every training task an executor reads its host's interface counters and tells the driver,
 * which keeps them per executor until {@link #epochStart()}; {@link #epochTraffic()} then gives each
 * executor's bytes from its first training task's start to its last one's end, and the driver's
 * own ({@value #DRIVER}: the head node's link) over the whole epoch.
 *
 * <p>The end sample is taken before the task's result goes back to the driver: with parameter
 * averaging the last round's returned parameters of an epoch fall outside it, one round of
 * {@code stepsPerEpoch} (the first round's data in is inside it).
 */
public final class NetworkTrafficPlugin implements SparkPlugin {

    /** Interface counters file of Linux. */
    static final Path PROC_NET_DEV = Path.of("/proc/net/dev");
    private static final Logger log = LoggerFactory.getLogger(NetworkTrafficPlugin.class);

    /** Executor id of the driver's own traffic: the head node's link. */
    public static final String DRIVER = "driver";

    /** Samples per executor since the current epoch started, oldest first; driver side. */
    private static final Map<String, List<Sample>> SAMPLES = new LinkedHashMap<>();
    /** The driver's host, when this driver runs on a cluster and can read its counters; else null. */
    private static String driverHost;

    /** One reading of a host's counters, sent from an executor to the driver. */
    record Sample(String executorId, String host, boolean end, long sentBytes, long receivedBytes)
            implements Serializable {
    }

    /** Forgets the samples so far: the next ones belong to a new epoch, which starts now at the driver. */
    public static synchronized void epochStart() {
        SAMPLES.clear();
        sampleDriver();
    }

    /**
     * Each executor's bytes since {@link #epochStart()}: its last sample minus its first, taken at
     * training tasks' start and end; empty where no executor sent two (embedded runs, or no
     * network counters).
     */
    public static synchronized List<NodeTraffic> epochTraffic() {
        sampleDriver();
        List<NodeTraffic> traffic = new ArrayList<>();
        for (List<Sample> samples : SAMPLES.values()) {
            if (samples.size() >= 2) {
                Sample first = samples.get(0);
                Sample last = samples.get(samples.size() - 1);
                traffic.add(new NodeTraffic(first.executorId(), first.host(), last.sentBytes() - first.sentBytes(),
                        last.receivedBytes() - first.receivedBytes()));
            }
        }
        return traffic;
    }

    private static void sampleDriver() {
        if (driverHost != null) {
            try {
                long[] c = countersOf(Files.readString(PROC_NET_DEV, StandardCharsets.US_ASCII));
                record(new Sample(DRIVER, driverHost, true, c[0], c[1]));
            } catch (IOException | RuntimeException e) {
                log.warn("the driver's network counters not sampled: {}", e.toString());
            }
        }
    }

    static synchronized void record(Sample sample) {
        SAMPLES.computeIfAbsent(sample.executorId(), id -> new ArrayList<>()).add(sample);
    }

    /**
     * Bytes sent and received over every interface but loopback, from the text of
     * {@code /proc/net/dev}: {@code [sent, received]}.
     */
    static long[] countersOf(String procNetDev) {
        long sent = 0;
        long received = 0;
        for (String line : procNetDev.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String iface = line.substring(0, colon).trim();
            String[] f = line.substring(colon + 1).trim().split("\\s+");
            if (iface.equals("lo") || f.length < 9) {
                continue;
            }
            // receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes ...
            received += Long.parseLong(f[0]);
            sent += Long.parseLong(f[8]);
        }
        return new long[] {sent, received};
    }

    @Override
    public DriverPlugin driverPlugin() {
        return new DriverPlugin() {
            @Override
            public Map<String, String> init(SparkContext sc, PluginContext ctx) {
                synchronized (NetworkTrafficPlugin.class) {
                    driverHost = sc.isLocal() || !Files.isReadable(PROC_NET_DEV) ? null
                            : sc.getConf().get("spark.driver.host", "driver");
                    SAMPLES.clear();
                }
                return Map.of();
            }

            @Override
            public void shutdown() {
                synchronized (NetworkTrafficPlugin.class) {
                    driverHost = null;
                    SAMPLES.clear();
                }
            }

            @Override
            public Object receive(Object message) {
                if (message instanceof Sample sample) {
                    record(sample);
                }
                return Boolean.TRUE;
            }
        };
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new ExecutorPlugin() {
            private PluginContext ctx;
            private final ThreadLocal<Boolean> training = ThreadLocal.withInitial(() -> false);

            @Override
            public void init(PluginContext ctx, Map<String, String> extraConf) {
                // embedded, the driver is the only executor: its host's counters say nothing of training
                boolean embedded = DRIVER.equals(ctx.executorID());
                this.ctx = embedded || !Files.isReadable(PROC_NET_DEV) ? null : ctx;
                if (this.ctx != null) {
                    log.info("executor {}: sampling {} at every training task's start and end", ctx.executorID(),
                            PROC_NET_DEV);
                }
            }

            @Override
            public void onTaskStart() {
                TaskContext task = TaskContext.get();
                boolean train = ctx != null && task != null
                        && TrainingTasks.TRAIN_PHASE.equals(task.getLocalProperty(TrainingTasks.PHASE_PROPERTY));
                training.set(train);
                if (train) {
                    sample(false);
                }
            }

            @Override
            public void onTaskSucceeded() {
                if (training.get()) {
                    sample(true);
                }
                training.set(false);
            }

            @Override
            public void onTaskFailed(TaskFailedReason failureReason) {
                training.set(false);
            }

            /** The executor's host: PluginContext.hostname() fails on executors, whose RpcEnv has no address. */
            private String host() {
                return SparkEnv.get().blockManager().blockManagerId().host();
            }

            private void sample(boolean end) {
                try {
                    long[] c = countersOf(Files.readString(PROC_NET_DEV, StandardCharsets.US_ASCII));
                    // asked, not sent: the driver holds the sample before it learns the task ended
                    ctx.ask(new Sample(ctx.executorID(), host(), end, c[0], c[1]));
                } catch (Exception e) {
                    // PluginContext.ask declares Exception; a lost sample loses a figure, not the training
                    log.warn("network counters not sampled: {}", e.toString());
                }
            }
        };
    }
}
