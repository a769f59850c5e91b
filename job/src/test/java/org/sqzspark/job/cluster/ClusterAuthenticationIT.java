package org.sqzspark.job.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.io.ZStdCompressionCodec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqzspark.job.StandaloneCluster;
import org.sqzspark.job.SyntheticCifar;
import org.sqzspark.job.TestConfigs;
import org.sqzspark.job.cli.Main;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A standalone cluster with Spark's authentication on, as submit/start-cluster.sh runs it: the
 * master and two workers hold the cluster's secret, and the job is submitted with the secret file
 * as submit/submit.sh passes it, with another secret, or with none.
 */
class ClusterAuthenticationIT {

    private static final Path JAR = Path.of(System.getProperty("user.dir"), "target", "squeezenet-spark-job.jar");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Spark retries registering with a master that does not answer three times, 20 s each. */
    private static final long SPARK_REGISTRATION_SECONDS = 60;
    private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    @TempDir
    static Path tmp;
    static StandaloneCluster spark;
    static Path data;
    static Path secretFile;
    static String secret;

    @BeforeAll
    static void start() throws Exception {
        data = SyntheticCifar.write(tmp.resolve("cifar"), 200, 40, 11);
        secretFile = StandaloneCluster.writeSecret(tmp.resolve("spark-secret"));
        secret = Files.readString(secretFile).strip();
        spark = StandaloneCluster.start(JAR, tmp.resolve("spark"), List.of(StandaloneCluster.HOST,
                StandaloneCluster.HOST), 1, "3g", secretFile);
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.close();
        }
    }

    private static List<String> sparkArgs(int aeronPort, String... more) {
        List<String> args = new ArrayList<>(List.of("--executor-cores", "1", "--total-executor-cores", "2",
                "--conf", "spark.eventLog.dir=file:" + tmp.resolve("spark-events"),
                "--conf", "spark.executor.instances=2",
                "--conf", "spark.executorEnv.OMP_NUM_THREADS=1",
                "--conf", "spark.sqzspark.aeron.port=" + aeronPort));
        args.addAll(List.of(more));
        return args;
    }

    private static List<String> trainArgs(Path out, int epochs) {
        List<String> args = new ArrayList<>(List.of("train", "--data", data.toString(), "--out", out.toString(),
                "--partitions", "2", "--training-master", "shared", "--epochs", String.valueOf(epochs),
                "--batch", String.valueOf(TestConfigs.BATCH), "--loss-sample", "200"));
        args.addAll(TestConfigs.RECIPE_OPTIONS);
        return args;
    }

    @Test
    void aSubmissionWithTheClusterSecretTrainsAndNoLogResultReportOrEventLogHoldsTheSecret() throws Exception {
        Files.createDirectories(tmp.resolve("spark-events"));
        Path out = tmp.resolve("results");
        Path log = tmp.resolve("driver.log");
        int aeronPort = StandaloneCluster.freeUdpPorts(8);
        Process driver = spark.launchDriver(sparkArgs(aeronPort), trainArgs(out, 2), log);
        // while it trains: the UDP sockets of gradient sharing, and the command lines of every JVM
        Set<String> aeronAddresses = new TreeSet<>();
        List<String> commandLines = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(15);
        while (driver.isAlive()) {
            assertTrue(System.nanoTime() < deadline, "the run did not finish in 15 minutes:" + spark.diagnostics(log));
            aeronAddresses.addAll(udpAddresses(aeronPort, aeronPort + 8));
            Stream.concat(Stream.of(driver.toHandle()), Stream.concat(driver.descendants(),
                    spark.executors().stream())).forEach(p -> commandLines.add(String.join(" ",
                    p.info().arguments().orElse(new String[0]))));
            Thread.sleep(200);
        }
        assertEquals(0, driver.exitValue(), "the run with the cluster's secret failed:" + spark.diagnostics(log));
        assertTrue(Files.readString(log).contains("accepted this application's secret"), Files.readString(log));

        // DL4J's Aeron subscriptions bind the address gradient sharing is configured with (the
        // controller's, spark.driver.host here; the executors' within the network mask), not 0.0.0.0
        assertEquals(Set.of(StandaloneCluster.HOST), aeronAddresses,
                "local addresses of the UDP sockets on the gradient-sharing ports");

        assertTrue(commandLines.stream().anyMatch(c -> c.contains("CoarseGrainedExecutorBackend")),
                "the executors' command lines were read: " + commandLines.size());
        assertFalse(commandLines.stream().anyMatch(c -> c.contains(secret)), "the secret on a command line");

        assertEquals(0, Main.run("report", "--results", out.toString()), "the report of the run");
        assertTrue(Files.isRegularFile(out.resolve("report.html")));

        // every file the run left (driver and daemon logs, executor logs in the workers' folders,
        // results JSON and CSV, model, report, event log), compressed ones read as Spark reads them
        List<Path> scanned = new ArrayList<>();
        List<String> holding = new ArrayList<>();
        boolean redactedKey = false;
        try (Stream<Path> files = Files.walk(tmp)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String name = f.getFileName().toString();
                if (f.equals(secretFile) || name.endsWith(".jar") || f.startsWith(tmp.resolve("cifar"))) {
                    continue;
                }
                String text = read(f);
                scanned.add(f);
                if (text.contains(secret)) {
                    holding.add(tmp.relativize(f).toString());
                }
                redactedKey |= name.startsWith("events_") && text.contains("spark.authenticate.secret");
            }
        }
        assertEquals(List.of(), holding, "files holding the secret, of " + scanned.size() + " scanned");
        assertTrue(redactedKey, "the event log names spark.authenticate.secret (its value redacted): scanned "
                + scanned.stream().map(tmp::relativize).toList());
        assertTrue(scanned.stream().anyMatch(f -> f.getFileName().toString().startsWith("run-")), "run JSON scanned");
        assertTrue(scanned.stream().anyMatch(f -> f.getFileName().toString().equals("stderr")),
                "executor logs scanned");
        JsonNode run;
        try (Stream<Path> files = Files.list(out)) {
            Path json = files.filter(f -> f.getFileName().toString().matches("run-.*\\.json")).findFirst()
                    .orElseThrow();
            run = JSON.readTree(json.toFile());
        }
        System.out.printf("authenticated cluster: images/s per epoch %s; scanned %d files; Aeron bound to %s%n",
                run.path("epochs").findValues("imagesPerSecond"), scanned.size(), aeronAddresses);
    }

    @Test
    void aSubmissionWithAnotherSecretIsRefusedInOneLineWithinSeconds() throws Exception {
        Path other = StandaloneCluster.writeSecret(tmp.resolve("other-secret"));
        Path log = tmp.resolve("other-secret.log");
        long start = System.nanoTime();
        int exit = spark.submit(sparkArgs(StandaloneCluster.freeUdpPorts(8),
                "--conf", "spark.sqzspark.secretFile=" + other), trainArgs(tmp.resolve("refused-other"), 1), log, 5);
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        long asked = secondsSinceAsking(log);
        String error = oneErrorLine(log);
        assertEquals(Main.EXIT_USAGE, exit, Files.readString(log));
        assertTrue(error.startsWith("error: the Spark master at " + spark.masterUrl() + " refused this application:"
                + " its secret (" + other + ") is not the cluster's"), error);
        assertTrue(asked < SPARK_REGISTRATION_SECONDS / 3, "the driver ended " + asked + " s after asking the master");
        assertFalse(Files.exists(tmp.resolve("refused-other")), "nothing written");
        System.out.printf("another secret: exit %d %d s after asking the master (%d s with the JVM's start): %s%n",
                exit, asked, seconds, error);
    }

    @Test
    void aSubmissionWithoutASecretIsRefusedInOneLineWithinSeconds() throws Exception {
        Path log = tmp.resolve("no-secret.log");
        long start = System.nanoTime();
        int exit = spark.submit(sparkArgs(StandaloneCluster.freeUdpPorts(8), "--conf", "spark.authenticate=false"),
                trainArgs(tmp.resolve("refused-none"), 1), log, 5);
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        long asked = secondsSinceAsking(log);
        String error = oneErrorLine(log);
        assertEquals(Main.EXIT_USAGE, exit, Files.readString(log));
        assertTrue(error.startsWith("error: the Spark master at " + spark.masterUrl() + " refused this application:"
                + " the cluster requires authentication"), error);
        assertTrue(asked < SPARK_REGISTRATION_SECONDS / 3, "the driver ended " + asked + " s after asking the master");
        System.out.printf("no secret: exit %d %d s after asking the master (%d s with the JVM's start): %s%n",
                exit, asked, seconds, error);
    }

    /** Seconds from the driver's line saying it asks the master (its log time) to now, once it has ended. */
    private static long secondsSinceAsking(Path log) throws IOException {
        String line = Files.readString(log).lines().filter(l -> l.contains("whether it accepts this application"))
                .findFirst().orElseThrow(() -> new AssertionError("the driver did not ask the master"));
        return Duration.between(LocalDateTime.parse(line.substring(0, 19), LOG_TIME), LocalDateTime.now()).toSeconds();
    }

    /** The one line of the driver's output that starts with "error:", without a stack trace. */
    private static String oneErrorLine(Path log) throws IOException {
        String text = Files.readString(log);
        List<String> errors = text.lines().filter(l -> l.startsWith("error:")).toList();
        assertEquals(1, errors.size(), "one error line:\n" + text);
        assertFalse(text.contains("\tat "), "no stack trace:\n" + text);
        return errors.get(0);
    }

    /** A file's text; an event log compressed with zstd (Spark's codec) decompressed. */
    private static String read(Path f) throws IOException {
        if (f.getFileName().toString().endsWith(".zstd")) {
            try (InputStream in = new ZStdCompressionCodec(new SparkConf()).compressedInputStream(
                    Files.newInputStream(f))) {
                return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            }
        }
        return new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
    }

    /** Local addresses of the UDP sockets bound to ports {@code from} to {@code to} (/proc/net/udp). */
    private static Set<String> udpAddresses(int from, int to) throws IOException {
        Set<String> addresses = new TreeSet<>();
        List<String> lines = Files.readAllLines(Path.of("/proc/net/udp"));
        for (String line : lines.subList(1, lines.size())) {
            String[] local = line.strip().split("\\s+")[1].split(":");
            int port = Integer.parseInt(local[1], 16);
            if (port >= from && port <= to) {
                long a = Long.parseLong(local[0], 16);
                // little-endian IPv4
                addresses.add((a & 0xff) + "." + (a >> 8 & 0xff) + "." + (a >> 16 & 0xff) + "." + (a >> 24 & 0xff));
            }
        }
        return addresses;
    }
}
