package org.sqzspark.job;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * submit/preflight.sh against real hosts: an OpenSSH server of its own (Debian's openssh-server, a
 * generated host key and client key) stands in for the worker Pis on two loopback addresses,
 * 127.0.0.2 and 127.0.0.3, which reach this machine; 127.0.0.4 is a host that is down (nothing
 * listens there) and 127.0.0.5 one that accepts connections and never answers. Needs root (CI runs as
 * root) and sshd, which it installs with apt-get when it is missing; skipped otherwise.
 */
class PreflightIT {

    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    private static final Path SCRIPT = ROOT.resolve("submit").resolve("preflight.sh");
    private static final Path SSHD = Path.of("/usr/sbin/sshd");
    private static final List<String> HEALTHY = List.of("127.0.0.2", "127.0.0.3");
    private static final String DOWN = "127.0.0.4";
    private static final String STALLED = "127.0.0.5";
    /** The script's per-host limit in these tests: well above a healthy host's checks (ssh + java -version). */
    private static final int HOST_TIMEOUT = 15;

    @TempDir
    static Path keys;

    @TempDir
    Path tmp;

    private static Process sshd;
    private static ServerSocket stalling;
    private static int port;
    private static final List<Socket> held = new CopyOnWriteArrayList<>();

    private record Result(int exit, String output, long seconds) {

        /** The line of a host: it starts with the host's name. */
        String line(String host) {
            return output.lines().filter(l -> l.startsWith(host + " ")).findFirst()
                    .orElseThrow(() -> new AssertionError("no line for " + host + ":\n" + output));
        }
    }

    /** Starts sshd on the healthy addresses and the stalling listener, once for the class. */
    private static synchronized void requireHosts() throws IOException, InterruptedException {
        if (sshd != null) {
            return;
        }
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        assumeTrue(uid == 0, "the test's sshd needs root (it lets root in with a key of its own); running as uid "
                + uid);
        if (!Files.isExecutable(SSHD) && Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
            Map<String, String> env = Map.of("DEBIAN_FRONTEND", "noninteractive");
            if (exec(env, "apt-get", "install", "-y", "-qq", "openssh-server") != 0) {
                exec(env, "apt-get", "update", "-qq");
                exec(env, "apt-get", "install", "-y", "-qq", "openssh-server");
            }
        }
        assumeTrue(Files.isExecutable(SSHD), SSHD + " is missing and apt-get could not install openssh-server");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/ssh-keygen")), "ssh-keygen (openssh-client) is missing");

        // the stalled host: accepts every connection, then says nothing
        stalling = new ServerSocket();
        stalling.bind(new InetSocketAddress(InetAddress.getByName(STALLED), 0));
        port = stalling.getLocalPort();
        Thread acceptor = new Thread(() -> {
            while (!stalling.isClosed()) {
                try {
                    held.add(stalling.accept());
                } catch (IOException closed) {
                    return;
                }
            }
        }, "preflight-stalled-host");
        acceptor.setDaemon(true);
        acceptor.start();

        Path hostKey = keys.resolve("host_ed25519");
        Path clientKey = keys.resolve("client_ed25519");
        for (Path key : List.of(hostKey, clientKey)) {
            assertEquals(0, exec(Map.of(), "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.toString()),
                    "ssh-keygen " + key);
        }
        Files.copy(keys.resolve("client_ed25519.pub"), keys.resolve("authorized_keys"));
        List<String> config = new ArrayList<>();
        for (String host : HEALTHY) {
            config.add("ListenAddress " + host + ":" + port);
        }
        config.addAll(List.of("HostKey " + hostKey, "PidFile " + keys.resolve("sshd.pid"),
                "AuthorizedKeysFile " + keys.resolve("authorized_keys"), "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                "UsePAM no", "StrictModes no", "LogLevel ERROR"));
        Path configFile = Files.write(keys.resolve("sshd_config"), config);
        // sshd's privilege separation folder; a system that never ran sshd has none
        Files.createDirectories(Path.of("/run/sshd"));
        Path log = keys.resolve("sshd.log");
        sshd = new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", configFile.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (String host : HEALTHY) {
            while (!listening(host)) {
                if (!sshd.isAlive() || System.nanoTime() > until) {
                    fail("sshd did not listen on " + host + ":" + port + ":\n" + Files.readString(log));
                }
                Thread.sleep(100);
            }
        }
    }

    private static boolean listening(String host) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int exec(Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    @AfterAll
    static void stopHosts() throws IOException, InterruptedException {
        if (sshd != null) {
            sshd.descendants().forEach(ProcessHandle::destroy);
            sshd.destroy();
            sshd.waitFor(10, TimeUnit.SECONDS);
        }
        if (stalling != null) {
            stalling.close();
        }
        for (Socket s : held) {
            s.close();
        }
    }

    /** This machine's name, as `uname -n` prints it on every stand-in host. */
    private static String hostName() throws IOException {
        return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
    }

    /** The first line of `getent DATABASE KEY`, split into its fields; empty when nothing resolves. */
    private static List<String> getent(String database, String key) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("getent", database, key).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out.lines().findFirst().map(l -> List.of(l.trim().split("\\s+"))).orElse(List.of());
    }

    /** The first IPv4 address of this machine's name, as the script's name check resolves it. */
    private static Optional<String> hostAddress() throws IOException, InterruptedException {
        return getent("ahostsv4", hostName()).stream().findFirst();
    }

    /** The java every stand-in host checks: this JVM's, which must be one the job runs on. */
    private static String clusterJava() {
        int feature = Runtime.version().feature();
        assumeTrue(feature == 17 || feature == 21, "the test's JVM is Java " + feature
                + "; the healthy hosts need Java 17 or 21, and they check this JVM's java");
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private Result preflight(List<String> workers, String... env) throws IOException, InterruptedException {
        Path workersFile = Files.write(tmp.resolve("workers"), workers);
        Path log = tmp.resolve("preflight.log");
        ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString()).directory(tmp.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> e = pb.environment();
        e.remove("SPARK_CONF_DIR");
        e.remove("SPARK_MASTER_HOST");
        e.remove("SKIP_CHECKS");
        e.put("SPARK_WORKERS", workersFile.toString());
        // ssh's own connect limit is far above the script's, so only the script's limit can end a stall
        e.put("SPARK_SSH_OPTS", "-F /dev/null -p " + port + " -i " + keys.resolve("client_ed25519")
                + " -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=120 -o StrictHostKeyChecking=no"
                + " -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR");
        e.put("HOST_TIMEOUT", String.valueOf(HOST_TIMEOUT));
        e.put("CLUSTER_JAVA", clusterJava());
        // budgets this machine meets whatever else runs on it; the checks themselves are unchanged
        e.put("EXECUTOR_MEMORY_MB", "1");
        e.put("EXECUTOR_OFFHEAP_MB", "1");
        e.put("DRIVER_MEMORY_MB", "1");
        for (String daemon : List.of("DRIVER_OFFHEAP_MB", "DATANODE_MB", "WORKER_DAEMON_MB", "NAMENODE_MB",
                "MASTER_DAEMON_MB")) {
            e.put(daemon, "0");
        }
        e.put("SHM_MIN_MB", "1");
        e.put("DISK_MIN_MB", "1");
        e.put("DISK_DIR", tmp.toString());
        for (int i = 0; i < env.length; i += 2) {
            e.put(env[i], env[i + 1]);
        }
        long start = System.nanoTime();
        Process p = pb.start();
        if (!p.waitFor(HOST_TIMEOUT + 60, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
            fail("preflight.sh did not finish within " + (HOST_TIMEOUT + 60) + " s:\n" + Files.readString(log));
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8), seconds);
    }

    /**
     * Where this machine's name does not resolve to a non-loopback address and back (a container's
     * /etc/hosts often maps it to 127.0.0.1), the names check fails on every host, as it should on a
     * Pi: the test skips that check there, and {@link #failsTheNamesOfAHostWhoseNameResolvesToLoopback()}
     * proves it fails.
     */
    private static String[] namesCheckHere() throws IOException, InterruptedException {
        Optional<String> address = hostAddress();
        String shortName = hostName().split("\\.")[0];
        boolean resolves = address.isPresent() && !address.get().startsWith("127.")
                && getent("hosts", address.get()).stream().skip(1)
                        .anyMatch(n -> n.split("\\.")[0].equals(shortName));
        return resolves ? new String[0] : new String[] {"SKIP_CHECKS", "names"};
    }

    private static void assertPasses(Result r, String host) {
        String line = r.line(host);
        assertTrue(line.matches("\\S+\\s+(\\(head\\)\\s+)?ok\\s.*"), "host passes: " + line + "\n" + r.output());
        for (String check : List.of("java ", "names ", "memory ", "shm ", "disk ", "clock ", "throttled ")) {
            assertTrue(line.contains(check), "line reports " + check + ": " + line);
        }
        assertFalse(line.contains("FAIL"), line);
    }

    @Test
    void failsTheDownAndTheStalledHostWithinTheTimeLimitAndPassesTheHealthyOnes() throws Exception {
        requireHosts();
        List<String> workers = List.of(HEALTHY.get(0), DOWN, STALLED, HEALTHY.get(1));
        Result r = preflight(workers, namesCheckHere());

        assertEquals(1, r.exit(), r.output());
        assertTrue(r.seconds() < HOST_TIMEOUT + 10, "returns within the per-host limit (" + HOST_TIMEOUT
                + " s), took " + r.seconds() + " s:\n" + r.output());
        assertPasses(r, hostName());
        for (String host : HEALTHY) {
            assertPasses(r, host);
            assertTrue(r.line(host).contains("java " + System.getProperty("java.version")), r.line(host));
        }
        // ssh's own message names the host and the refused connection
        assertTrue(r.line(DOWN).matches(DOWN.replace(".", "\\.") + "\\s+FAIL .*" + DOWN + ".*refused.*"),
                r.line(DOWN));
        assertTrue(r.line(STALLED).matches(STALLED.replace(".", "\\.") + "\\s+FAIL .*no answer within "
                + HOST_TIMEOUT + " s.*"), r.line(STALLED));
        assertTrue(r.output().contains("preflight: 2 of 5 hosts fail: " + DOWN + " " + STALLED), r.output());
        assertEquals(5 + 1, r.output().lines().filter(l -> !l.startsWith("error: ")).count(),
                "one line per host and a summary:\n" + r.output());
    }

    @Test
    void exitsZeroWhenEveryHostPasses() throws Exception {
        requireHosts();
        Result r = preflight(HEALTHY, namesCheckHere());

        assertEquals(0, r.exit(), r.output());
        assertPasses(r, hostName());
        for (String host : HEALTHY) {
            assertPasses(r, host);
            assertTrue(r.line(host).matches(".*clock [+-]0\\.\\d{3} s \\(round trip .*"),
                    "the same clock, measured over ssh: " + r.line(host));
        }
        assertTrue(r.output().contains("preflight: all 3 hosts pass (the head node and 2 workers)"), r.output());
    }

    @Test
    void failsAWorkerWhoseFreeMemoryIsBelowTheExecutorBudget() throws Exception {
        requireHosts();
        Result r = preflight(HEALTHY.subList(0, 1), concat(namesCheckHere(), "EXECUTOR_MEMORY_MB", "100000000"));

        assertEquals(1, r.exit(), r.output());
        assertPasses(r, hostName());
        String line = r.line(HEALTHY.get(0));
        assertTrue(line.matches("\\S+\\s+FAIL .*memory FAIL: \\d+ MB free, 100000001 MB needed.*"), line);
        assertTrue(r.output().contains("preflight: 1 of 2 hosts fail: " + HEALTHY.get(0)), r.output());
    }

    @Test
    void checksTheJavaThatSparkEnvPicksForTheDaemons() throws Exception {
        String arch = switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64" -> "arm64";
            default -> System.getProperty("os.arch");
        };
        Path debianJdk17 = Path.of("/usr/lib/jvm/java-17-openjdk-" + arch, "bin", "java");
        assumeTrue(Files.isExecutable(debianJdk17), "no Debian OpenJDK 17 at " + debianJdk17
                + ", the Java spark-conf/spark-env.sh picks first");
        requireHosts();
        // no CLUSTER_JAVA and, over ssh as for the daemons, no JAVA_HOME: spark-env.sh decides
        Result r = preflight(HEALTHY.subList(0, 1), concat(namesCheckHere(), "CLUSTER_JAVA", ""));

        assertTrue(r.line(HEALTHY.get(0)).matches("\\S+\\s+ok\\s+java 17\\..*"), r.output());
    }

    @Test
    void failsTheNamesOfAHostWhoseNameResolvesToLoopback() throws Exception {
        Optional<String> address = hostAddress();
        assumeTrue(address.isPresent() && address.get().startsWith("127."), "this machine's name resolves to "
                + address.orElse("nothing") + ", not to a loopback address");
        requireHosts();
        Result r = preflight(HEALTHY.subList(0, 1));

        assertEquals(1, r.exit(), r.output());
        for (String host : List.of(hostName(), HEALTHY.get(0))) {
            assertTrue(r.line(host).contains("names FAIL: " + hostName() + " is the loopback address "
                    + address.get()), r.line(host));
        }
    }

    @Test
    void helpPrintsTheHeaderUsageAndABadArgumentExitsTwo() throws Exception {
        ProcessBuilder help = new ProcessBuilder("bash", SCRIPT.toString(), "--help").redirectErrorStream(true);
        Process p = help.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("Usage: submit/preflight.sh [--help]") && out.contains("HOST_TIMEOUT")
                && out.contains("MAX_CLOCK_OFFSET"), out);
        assertFalse(out.contains("#!"), out);

        Process bad = new ProcessBuilder("bash", SCRIPT.toString(), "--bogus").redirectErrorStream(true).start();
        String badOut = new String(bad.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bad.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, bad.exitValue(), badOut);
        assertTrue(badOut.contains("Usage: submit/preflight.sh"), badOut);
    }

    @Test
    void rejectsATimeLimitThatIsNotAPositiveWholeNumber() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString()).redirectErrorStream(true);
        pb.environment().put("HOST_TIMEOUT", "0");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue(), out);
        assertTrue(out.contains("HOST_TIMEOUT=0"), out);
    }

    private static String[] concat(String[] first, String... more) {
        String[] all = new String[first.length + more.length];
        System.arraycopy(first, 0, all, 0, first.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all;
    }
}
