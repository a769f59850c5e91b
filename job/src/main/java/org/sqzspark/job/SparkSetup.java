package org.sqzspark.job;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkExecutorInfo;
import org.apache.spark.api.java.JavaSparkContext;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the Spark context and describes the environment. Cluster and JVM settings come from
 * spark-submit and {@code spark-conf/}; the only default set here is the embedded master,
 * {@code local[*]}, used when the job runs without spark-submit.
 */
final class SparkSetup {

    static final String EMBEDDED_MASTER = "local[*]";
    static final String APP_NAME = "squeezenet-spark";
    /** Seconds to wait for executors to register before counting them. */
    static final String CONF_EXECUTOR_WAIT = "spark.sqzspark.executorWaitSeconds";
    private static final String AERON_UNBLOCK = "aeron.publication.unblock.timeout";
    private static final Logger log = LoggerFactory.getLogger(SparkSetup.class);

    private SparkSetup() {
    }

    /** The Spark configuration: {@code master}, or spark-submit's master, or embedded local[*]. */
    static SparkConf conf(String master) {
        SparkConf conf = new SparkConf().setAppName(APP_NAME);
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster(EMBEDDED_MASTER);
        }
        return conf;
    }

    /**
     * Starts the Spark context.
     *
     * @throws IllegalArgumentException naming the master when Spark cannot parse or reach it
     */
    static JavaSparkContext start(SparkConf conf) {
        String master = conf.get("spark.master");
        if (master.startsWith("local")) {
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

    /** Executor JVMs available for training: 1 in local mode, else the registered executors. */
    static int executors(JavaSparkContext sc) {
        if (sc.isLocal()) {
            return 1;
        }
        int expected = sc.getConf().getInt("spark.executor.instances", 0);
        long deadline = System.nanoTime() + sc.getConf().getLong(CONF_EXECUTOR_WAIT, 60) * 1_000_000_000L;
        int seen = registeredExecutors(sc);
        int stableFor = 0;
        while (System.nanoTime() < deadline && (seen == 0 || seen < expected || (expected == 0 && stableFor < 3))) {
            sleep(1000);
            int now = registeredExecutors(sc);
            stableFor = now == seen ? stableFor + 1 : 0;
            seen = now;
        }
        if (seen == 0) {
            throw new IllegalStateException("no executor registered with master " + sc.master() + " within "
                    + sc.getConf().getLong(CONF_EXECUTOR_WAIT, 60) + " s: check that workers are running"
                    + " (submit/start-cluster.sh) and have the memory and cores spark-conf asks for");
        }
        return seen;
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
    static RunEnvironment environment(JavaSparkContext sc, int executors) {
        Properties build = buildProperties();
        return new RunEnvironment(System.getProperty("java.version"), System.getProperty("os.arch"),
                System.getProperty("os.name"), Runtime.getRuntime().availableProcessors(), sc.version(),
                build.getProperty("dl4j.version", "unknown"), Nd4j.getBackend().getClass().getSimpleName(),
                build.getProperty("nd4j.classifier", "unknown"), sc.master(), executors, executorHosts(sc));
    }

    private static int registeredExecutors(JavaSparkContext sc) {
        return sc.sc().getExecutorIds().size();
    }

    static Properties buildProperties() {
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
