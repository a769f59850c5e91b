package org.sqzspark.job.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkExecutorInfo;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.Utils;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqzspark.job.cli.Main;
import org.sqzspark.job.results.RunEnvironment;
import org.sqzspark.job.upstream.NativeThreadsPlugin;

/**
 * Starts the Spark context and describes the environment. Cluster and JVM settings come from
 * spark-submit and {@code spark-conf/}; the only default set here is the embedded master,
 * {@code local[*]}, used when the job runs without spark-submit.
 */
public final class SparkSetup {

    public static final String EMBEDDED_MASTER = "local[*]";
    static final String APP_NAME = "squeezenet-spark";
    /** Seconds to wait for executors to register before counting them. */
    static final String CONF_EXECUTOR_WAIT = "spark.sqzspark.executorWaitSeconds";
    private static final String AERON_UNBLOCK = "aeron.publication.unblock.timeout";
    /** The master URLs Spark 3.5 parses (SparkContext.createTaskScheduler and its cluster managers). */
    private static final Pattern MASTER_URL = Pattern.compile(
            "local(\\[(\\*|\\d+)(\\s*,\\s*\\d+)?])?|local-cluster\\[.+]|spark://.+|yarn|k8s://.+|mesos://.+");
    private static final int MASTER_CONNECT_TIMEOUT_MS = 5_000;
    /**
     * Defaults, unless spark-conf or the user sets them.
     * <ul>
     *   <li>Hadoop's client: {@link HadoopTimeouts}, so that a namenode that does not answer fails the
     *   run in seconds.</li>
     *   <li>Task results up to 16 MB go to the driver with the task's status, not through the block
     *   manager (Spark's default: 1 MB). A gradient-sharing task returns Adam's state, 5.9 MB, at
     *   the end of every epoch; through the block manager the driver had it 24-270 ms after the task
     *   ended (median 29-126 ms in two runs of 7 epochs), directly 14-190 ms (median 15-39 ms).
     *   Spark caps it at {@code spark.rpc.message.maxSize} (128 MB).</li>
     * </ul>
     */
    private static final String[][] DEFAULTS = defaults();
    /** Spark's list of plugins; the job's own are added to whatever it holds. */
    public static final String PLUGINS = "spark.plugins";
    /** The job's plugins: {@link NativeThreadsPlugin}, {@link NetworkTrafficPlugin}. */
    public static final List<String> JOB_PLUGINS = List.of(NativeThreadsPlugin.class.getName(),
            NetworkTrafficPlugin.class.getName());
    /**
     * The nodes' link rate in Mbit/s, recorded with each run for the scaling model (set by
     * submit/emulated-cluster.sh; on a real cluster in spark-defaults.conf).
     */
    public static final String LINK_MBIT = "spark.sqzspark.linkMbit";
    static final String EVENT_LOG_ENABLED = "spark.eventLog.enabled";
    static final String EVENT_LOG_DIR = "spark.eventLog.dir";
    /** Spark's default {@link #EVENT_LOG_DIR} (EventLoggingListener), and its history server's folder. */
    private static final String SPARK_EVENT_LOG_DIR = "/tmp/spark-events";
    /** The folder of an embedded run's event logs, inside its results folder (--out). */
    static final String EMBEDDED_EVENT_LOGS = "spark-events";
    private static final Logger log = LoggerFactory.getLogger(SparkSetup.class);

    private SparkSetup() {
    }

    private static String[][] defaults() {
        List<String[]> d = new ArrayList<>();
        HadoopTimeouts.SETTINGS.forEach((key, value) -> d.add(new String[] {"spark.hadoop." + key, value}));
        d.add(new String[] {"spark.task.maxDirectResultSize", "16m"});
        return d.toArray(String[][]::new);
    }

    /** The Spark configuration: {@code master}, or spark-submit's master, or embedded local[*]. */
    public static SparkConf conf(String master) {
        SparkConf conf = new SparkConf().setAppName(APP_NAME);
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster(EMBEDDED_MASTER);
        }
        for (String[] setting : DEFAULTS) {
            conf.setIfMissing(setting[0], setting[1]);
        }
        List<String> plugins = new ArrayList<>();
        for (String p : conf.get(PLUGINS, "").trim().split("\\s*,\\s*")) {
            if (!p.isEmpty()) {
                plugins.add(p);
            }
        }
        for (String p : JOB_PLUGINS) {
            if (!plugins.contains(p)) {
                plugins.add(p);
            }
        }
        conf.set(PLUGINS, String.join(",", plugins));
        return conf;
    }

    /**
     * Checks the master URL before anything is read or written: that Spark knows its form and, for
     * a standalone master, that one of its addresses accepts connections. Spark itself would retry
     * registering with an absent master for a minute, then stop the context under the job.
     *
     * @throws IllegalArgumentException naming the master, why it cannot be used and what to give instead
     */
    public static void checkMaster(String master) {
        if (!MASTER_URL.matcher(master).matches()) {
            throw new IllegalArgumentException("--master " + master + " is not a Spark master URL: use local[*],"
                    + " local[N], spark://host:7077 (standalone), yarn or k8s://https://host:port");
        }
        if (!master.startsWith("spark://")) {
            return;
        }
        List<String> failures = new ArrayList<>();
        // a standalone master with standby masters is spark://host1:port1,host2:port2
        for (String hostPort : master.substring("spark://".length()).split(",")) {
            URI address = standaloneAddress(hostPort);
            if (address == null) {
                throw new IllegalArgumentException("--master " + master + ": '" + hostPort
                        + "' is not host:port; give the URL the master's log and web UI show, e.g. spark://head:7077");
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(address.getHost(), address.getPort()), MASTER_CONNECT_TIMEOUT_MS);
                return;
            } catch (UnknownHostException e) {
                failures.add("unknown host " + address.getHost());
            } catch (SocketTimeoutException e) {
                failures.add("no answer from " + hostPort + " within " + MASTER_CONNECT_TIMEOUT_MS / 1000 + " s");
            } catch (IOException e) {
                String why = e.getMessage() == null ? "cannot connect" : e.getMessage().toLowerCase(Locale.ROOT);
                failures.add(why + " at " + hostPort);
            }
        }
        throw new IllegalArgumentException("--master " + master + ": no Spark master is reachable ("
                + String.join("; ", failures) + "): start it (submit/start-cluster.sh), or give the URL the master's"
                + " log and web UI show, e.g. spark://head:7077");
    }

    /** True for an embedded master: local, local[N], local[*] and their variants. */
    public static boolean isEmbedded(String master) {
        return master.startsWith("local");
    }

    /**
     * Event logs, which Spark's history server shows once the run has ended. An embedded run logs
     * into {@value #EMBEDDED_EVENT_LOGS}/ of its results folder {@code out} (local or hdfs://),
     * beside the results it belongs to, compressed, unless the user's Spark settings (-Dspark.*)
     * say otherwise; under spark-submit, spark-conf/spark-defaults.conf decides. Whatever the
     * folder, it is created here when event logging is on, since Spark refuses to start without it.
     *
     * @throws IllegalArgumentException naming the folder and the fix when it cannot be created
     */
    public static void eventLog(SparkConf conf, String out, Configuration hadoopConf) {
        if (isEmbedded(conf.get("spark.master"))) {
            conf.setIfMissing(EVENT_LOG_ENABLED, "true");
            conf.setIfMissing(EVENT_LOG_DIR, out.replaceAll("/+$", "") + "/" + EMBEDDED_EVENT_LOGS);
            // about a tenth of the size (zstd, Spark's codec for event logs)
            conf.setIfMissing("spark.eventLog.compress", "true");
        }
        if (!conf.getBoolean(EVENT_LOG_ENABLED, false)) {
            return;
        }
        String dir = conf.get(EVENT_LOG_DIR, SPARK_EVENT_LOG_DIR);
        try {
            URI uri = Utils.resolveURI(dir);
            if ("file".equals(uri.getScheme())) {
                // java.nio, not Hadoop's local file system, which forks chmod for it (ResultStore)
                Files.createDirectories(java.nio.file.Path.of(uri));
            } else if (!FileSystem.get(uri, hadoopConf).mkdirs(new Path(uri))) {
                throw new IOException("mkdirs failed");
            }
        } catch (IOException | RuntimeException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new IllegalArgumentException("cannot create the event-log folder " + dir + " (" + EVENT_LOG_DIR
                    + "): " + why + "; make it writable, point " + EVENT_LOG_DIR + " at another folder, or set "
                    + EVENT_LOG_ENABLED + "=false", e);
        }
        log.info("Event log in {}; Spark's history server shows the run once it has ended", dir);
    }

    /**
     * Starts the Spark context.
     *
     * @throws IllegalArgumentException naming the master when Spark cannot parse or reach it
     */
    public static JavaSparkContext start(SparkConf conf) {
        String master = conf.get("spark.master");
        if (isEmbedded(master)) {
            // `java -jar` has no spark-conf/: the two settings spark-defaults.conf gives every JVM
            if (System.getProperty(AERON_UNBLOCK) == null) {
                // DL4J 1.0.0-M2's Aeron refuses its own default timeouts
                System.setProperty(AERON_UNBLOCK, "60000000000");
            }
            if (System.getProperty(Main.HELPERS_DISABLE_PROPERTY) == null) {
                // DL4J 1.0.0-M2 leaves its oneDNN layer helpers off by default
                System.setProperty(Main.HELPERS_DISABLE_PROPERTY, "false");
            }
        }
        try {
            JavaSparkContext sc = new JavaSparkContext(conf);
            log.info("Spark {} on {} (default parallelism {})", sc.version(), sc.master(), sc.defaultParallelism());
            return sc;
        } catch (Exception e) {
            // Spark throws its checked SparkException here too, undeclared
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new IllegalArgumentException("cannot start Spark on master '" + master + "' (" + why
                    + "): use local[*], local[N] or spark://host:7077 of a running master", e);
        }
    }

    /** {@code host:port} as a URI, or null when it is not one. */
    private static URI standaloneAddress(String hostPort) {
        try {
            URI address = new URI("spark://" + hostPort.trim());
            return address.getHost() == null || address.getPort() < 0 ? null : address;
        } catch (URISyntaxException e) {
            return null;
        }
    }

    /**
     * Executor JVMs available for training: 1 in local mode, else the registered executors, after
     * waiting up to {@link #CONF_EXECUTOR_WAIT} seconds for the {@code spark.executor.instances}
     * asked for (or, when none is asked for, for the count to hold still for 3 s).
     *
     * @throws ClusterUnavailableException when no executor, or fewer than asked for, registered in time
     */
    public static int executors(JavaSparkContext sc) {
        if (sc.isLocal()) {
            return 1;
        }
        int expected = sc.getConf().getInt("spark.executor.instances", 0);
        long waitSeconds = sc.getConf().getLong(CONF_EXECUTOR_WAIT, 60);
        long deadline = System.nanoTime() + waitSeconds * 1_000_000_000L;
        int seen = registeredExecutors(sc);
        int stableFor = 0;
        while (System.nanoTime() < deadline && (seen == 0 || seen < expected || (expected == 0 && stableFor < 3))) {
            sleep(1000);
            int now = registeredExecutors(sc);
            stableFor = now == seen ? stableFor + 1 : 0;
            seen = now;
        }
        if (seen == 0) {
            throw new ClusterUnavailableException("no executor registered with master " + sc.master() + " within "
                    + waitSeconds + " s: check that workers are running (submit/start-cluster.sh) and have the"
                    + " memory and cores spark-conf asks for");
        }
        if (seen < expected) {
            // a layout on fewer executors than planned would be another run than the one asked for
            throw new ClusterUnavailableException("only " + seen + " of the " + expected + " executors asked for"
                    + " (spark.executor.instances) registered with master " + sc.master() + " within " + waitSeconds
                    + " s: the cluster cannot host this run now; check the live workers and their free cores and"
                    + " memory in the master's web UI, or ask for fewer executors (EXECUTORS)");
        }
        return seen;
    }

    /** The cluster cannot host the run now: too few executors registered (exit code {@link Main#EXIT_CLUSTER}). */
    public static final class ClusterUnavailableException extends IllegalStateException {
        ClusterUnavailableException(String message) {
            super(message);
        }
    }

    /** Hosts running executors (the driver's host in local mode). */
    static List<String> executorHosts(JavaSparkContext sc) {
        String driverBlockManager = SparkEnv.get().blockManager().blockManagerId().hostPort();
        List<String> hosts = new ArrayList<>();
        for (SparkExecutorInfo info : sc.sc().statusTracker().getExecutorInfos()) {
            boolean driver = (info.host() + ":" + info.port()).equals(driverBlockManager);
            if ((sc.isLocal() || !driver) && !hosts.contains(info.host())) {
                hosts.add(info.host());
            }
        }
        return hosts;
    }

    /** The environment of this run, as recorded in every result. */
    public static RunEnvironment environment(JavaSparkContext sc, int executors) {
        Properties build = buildProperties();
        return new RunEnvironment(System.getProperty("java.version"), System.getProperty("os.arch"),
                System.getProperty("os.name"), Runtime.getRuntime().availableProcessors(), sc.version(),
                build.getProperty("dl4j.version", "unknown"), Nd4j.getBackend().getClass().getSimpleName(),
                build.getProperty("nd4j.classifier", "unknown"), sc.master(), executors, executorHosts(sc),
                sc.getConf().getDouble(LINK_MBIT, 0));
    }

    private static int registeredExecutors(JavaSparkContext sc) {
        return sc.sc().getExecutorIds().size();
    }

    public static Properties buildProperties() {
        Properties p = new Properties();
        try (InputStream in = SparkSetup.class.getResourceAsStream("/sqzspark-build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for executors", e);
        }
    }
}
