package org.sqzspark.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Spark standalone cluster on 127.0.0.1 made of real processes: Spark's own Master and Worker
 * classes, each in a JVM of its own, run from the job's shaded jar (which carries Spark) as a
 * Spark installation runs them from its jars folder. Workers launch executor JVMs the same way.
 */
public final class StandaloneCluster implements AutoCloseable {

    public static final String HOST = "127.0.0.1";
    /** The JVM flags of spark-conf/spark-defaults.conf, for every JVM of the cluster. */
    public static final List<String> JVM_FLAGS = List.of(
            "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED", "-Daeron.publication.unblock.timeout=60000000000",
            "-Dorg.eclipse.deeplearning4j.helpers.disable=false");

    /** The project's Spark configuration, as the submit/ scripts pass it. */
    static final Path SPARK_CONF = Path.of(System.getProperty("user.dir")).getParent().resolve("spark-conf");

    private final Path jar;
    private final Path dir;
    private final List<Process> processes = new ArrayList<>();
    private final List<Path> logs = new ArrayList<>();
    private final int masterPort;
    private final int webUiPort;
    /** The cluster's shared secret (spark.authenticate), or null for a cluster without authentication. */
    private final Path secretFile;

    private StandaloneCluster(Path jar, Path dir, int masterPort, int webUiPort, Path secretFile) {
        this.jar = jar;
        this.dir = dir;
        this.masterPort = masterPort;
        this.webUiPort = webUiPort;
        this.secretFile = secretFile;
    }

    /** Starts a master and {@code workers} workers with {@code cores} cores and {@code memory} each. */
    public static StandaloneCluster start(Path jar, Path dir, int workers, int cores, String memory)
            throws IOException, InterruptedException {
        return start(jar, dir, Collections.nCopies(workers, HOST), cores, memory);
    }

    /**
     * Starts a master on {@link #HOST} and one worker on each of {@code workerHosts} (loopback
     * addresses, so that workers count as hosts of their own), with {@code cores} cores and
     * {@code memory} each.
     */
    public static StandaloneCluster start(Path jar, Path dir, List<String> workerHosts, int cores, String memory)
            throws IOException, InterruptedException {
        return start(jar, dir, workerHosts, cores, memory, null);
    }

    /**
     * As {@link #start(Path, Path, List, int, String)}, with Spark's authentication on when
     * {@code secretFile} is not null: the master and workers take the secret as spark-conf/spark-env.sh
     * gives it to them (spark.authenticate=true, the secret in _SPARK_AUTH_SECRET), and
     * {@link #launchDriver} passes the file as submit/submit.sh does.
     */
    public static StandaloneCluster start(Path jar, Path dir, List<String> workerHosts, int cores, String memory,
            Path secretFile) throws IOException, InterruptedException {
        int workers = workerHosts.size();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("the shaded job jar " + jar + " is missing: run `mvn verify` (package"
                    + " builds it before the integration tests)");
        }
        StandaloneCluster cluster = new StandaloneCluster(jar, dir, freeTcpPort(), freeTcpPort(), secretFile);
        try {
            Path sparkHome = Files.createDirectories(dir.resolve("spark-home"));
            // a worker adds <SPARK_HOME>/jars/* to executor class paths; the job jar comes in through
            // spark.executor.extraClassPath instead, as an application's dependencies do
            Files.createDirectories(sparkHome.resolve("jars"));
            cluster.launch("master", List.of("org.apache.spark.deploy.master.Master", "--host", HOST, "--port",
                    String.valueOf(cluster.masterPort), "--webui-port", String.valueOf(cluster.webUiPort)), Map.of());
            cluster.awaitPort(cluster.masterPort, "master");
            for (int w = 1; w <= workers; w++) {
                Path work = Files.createDirectories(dir.resolve("worker-" + w));
                cluster.launch("worker-" + w, List.of("org.apache.spark.deploy.worker.Worker", "--host",
                        workerHosts.get(w - 1),
                        "--cores", String.valueOf(cores), "--memory", memory, "--webui-port",
                        String.valueOf(freeTcpPort()), "--work-dir", work.toString(), cluster.masterUrl()),
                        Map.of("SPARK_HOME", sparkHome.toString(), "SPARK_SCALA_VERSION", "2.12",
                                "JAVA_HOME", System.getProperty("java.home")));
            }
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    public String masterUrl() {
        return "spark://" + HOST + ":" + masterPort;
    }

    /** The file of the cluster's shared secret, or null when it runs without authentication. */
    public Path secretFile() {
        return secretFile;
    }

    /** The port of the master's web UI, whose JSON view lists the workers. */
    int webUiPort() {
        return webUiPort;
    }

    /**
     * Runs {@code org.apache.spark.deploy.SparkSubmit} (what spark-submit runs) in a JVM of its own
     * with the job jar, in client mode, reading the project's spark-conf/ as spark-submit does;
     * returns its exit code, its output in {@code log}.
     */
    public int submit(List<String> sparkArgs, List<String> jobArgs, Path log, long timeoutMinutes)
            throws IOException, InterruptedException {
        Process driver = launchDriver(sparkArgs, jobArgs, log);
        if (!driver.waitFor(timeoutMinutes, TimeUnit.MINUTES)) {
            driver.descendants().forEach(ProcessHandle::destroyForcibly);
            driver.destroyForcibly().waitFor();
            throw new IllegalStateException("the submitted job did not finish within " + timeoutMinutes
                    + " minutes:\n" + tail(log));
        }
        return driver.exitValue();
    }

    /** Starts the driver as {@link #submit} does, without waiting for it. */
    public Process launchDriver(List<String> sparkArgs, List<String> jobArgs, Path log) throws IOException {
        List<String> args = new ArrayList<>(List.of("org.apache.spark.deploy.SparkSubmit", "--master", masterUrl(),
                "--deploy-mode", "client", "--class", "org.sqzspark.job.cli.Main",
                "--conf", "spark.driver.host=" + HOST,
                "--conf", "spark.executor.extraClassPath=" + jar,
                "--conf", "spark.ui.enabled=false"));
        if (secretFile != null) {
            args.addAll(List.of("--conf", "spark.authenticate=true",
                    "--conf", "spark.sqzspark.secretFile=" + secretFile));
        }
        args.addAll(sparkArgs);
        args.add(jar.toString());
        args.addAll(jobArgs);
        return process(args, log, Map.of("SPARK_CONF_DIR", SPARK_CONF.toString()));
    }

    /** The executor JVMs the workers are running now. */
    public List<ProcessHandle> executors() {
        return processes.stream().flatMap(Process::descendants)
                .filter(p -> p.info().arguments().map(a -> String.join(" ", a)).orElse("")
                        .contains("CoarseGrainedExecutorBackend"))
                .toList();
    }

    /** The last lines of every daemon's log and of {@code extra}, for a failure message. */
    public String diagnostics(Path... extra) {
        StringBuilder text = new StringBuilder();
        List<Path> all = new ArrayList<>(logs);
        all.addAll(List.of(extra));
        for (Path log : all) {
            text.append("\n==== ").append(log.getFileName()).append('\n').append(tail(log));
        }
        try (var files = Files.walk(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().equals("stderr")).toList()) {
                text.append("\n==== ").append(dir.relativize(f)).append('\n').append(tail(f));
            }
        } catch (IOException e) {
            text.append("\n(cannot list executor logs: ").append(e.getMessage()).append(')');
        }
        return text.toString();
    }

    public static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private void launch(String name, List<String> args, Map<String, String> env) throws IOException {
        Path log = dir.resolve(name + ".log");
        logs.add(log);
        Map<String, String> daemonEnv = new HashMap<>(env);
        List<String> flags = new ArrayList<>();
        if (secretFile != null) {
            daemonEnv.put("_SPARK_AUTH_SECRET", Files.readString(secretFile).strip());
            flags.add("-Dspark.authenticate=true");
        }
        processes.add(process(flags, args, log, daemonEnv));
    }

    private Process process(List<String> args, Path log, Map<String, String> env) throws IOException {
        return process(List.of(), args, log, env);
    }

    private Process process(List<String> flags, List<String> args, Path log, Map<String, String> env)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx1g");
        command.addAll(JVM_FLAGS);
        command.addAll(flags);
        command.add("-cp");
        command.add(jar.toString());
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().remove("SPARK_MASTER_URL");
        pb.environment().remove("SPARK_CONF_DIR");
        pb.environment().remove("_SPARK_AUTH_SECRET");
        pb.environment().putAll(env);
        return pb.start();
    }

    private void awaitPort(int port, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket(InetAddress.getByName(HOST), port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(250);
            }
        }
        throw new IllegalStateException("the " + what + " did not open port " + port + " within 60 s:"
                + diagnostics());
    }

    /** A secret as submit/start-cluster.sh makes one: 32 random bytes in base64, mode 600, in {@code file}. */
    public static Path writeSecret(Path file) throws IOException {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Files.writeString(file, Base64.getEncoder().encodeToString(key) + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    public static int freeTcpPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return s.getLocalPort();
        }
    }

    /** A UDP port with the next {@code following} ports free too (the Aeron base and executor ports). */
    public static int freeUdpPorts(int following) throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base;
            try (DatagramSocket s = new DatagramSocket(0, InetAddress.getByName(HOST))) {
                base = s.getLocalPort();
            }
            if (base + following > 65535) {
                continue;
            }
            boolean free = true;
            for (int p = base + 1; p <= base + following && free; p++) {
                try (DatagramSocket s = new DatagramSocket(p, InetAddress.getByName(HOST))) {
                    free = true;
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new IllegalStateException("no run of free UDP ports found on " + HOST);
    }

    @Override
    public void close() {
        for (int i = processes.size() - 1; i >= 0; i--) {
            processes.get(i).descendants().forEach(ProcessHandle::destroyForcibly);
            processes.get(i).destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
