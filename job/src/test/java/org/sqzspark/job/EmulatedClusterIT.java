package org.sqzspark.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * submit/emulated-cluster.sh as a user runs it: two emulated nodes (network namespaces on a bridge,
 * links shaped by tbf, a CPU quota each, a Spark worker in each) and a head running the master, a
 * gradient-sharing run submitted to them from the head's namespace, and {@code down} leaving nothing
 * of the cluster behind. Needs root, ip and tc, and a cgroup cpu controller (CI runs as root); skipped
 * otherwise. A name and subnet of its own keep it clear of a user's emulated cluster.
 */
class EmulatedClusterIT {

    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    private static final Path SCRIPT = ROOT.resolve("submit").resolve("emulated-cluster.sh");
    private static final Path JAR = Path.of(System.getProperty("user.dir"), "target", "squeezenet-spark-job.jar");
    private static final String NAME = "sqzit";
    private static final String SUBNET = "10.232.0";
    private static final List<String> NODE_ADDRESSES = List.of(SUBNET + ".11", SUBNET + ".12");
    private static final String CPU = "0.5";
    /** The model (about 3 MB of parameters) and the data shares cross every node's link; the jar does not (local:). */
    private static final long SUBSTANTIAL_BYTES = 1_000_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    private record Result(int exit, String output) {
    }

    @BeforeAll
    static void requireRootAndTools() throws IOException {
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        assumeTrue(uid == 0, "the emulated cluster needs root (network namespaces, tc, cgroups); running as uid "
                + uid);
        for (String tool : List.of("ip", "tc", "curl", "setsid")) {
            assumeTrue(onPath(tool), "'" + tool + "' is not installed; the emulated cluster needs it");
        }
        boolean v1 = Files.isRegularFile(Path.of("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"));
        Path v2 = Path.of("/sys/fs/cgroup/cgroup.controllers");
        boolean cpuV2 = Files.isRegularFile(v2) && Files.readString(v2).matches("(?s).*\\bcpu\\b.*");
        assumeTrue(v1 || cpuV2, "no cgroup cpu controller (v1 /sys/fs/cgroup/cpu or cpu in cgroup v2)");
    }

    private static List<String> searchPath() {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.addAll(List.of("/usr/sbin", "/sbin"));
        return dirs;
    }

    private static boolean onPath(String tool) {
        return searchPath().stream().anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, tool)));
    }

    private static Path which(String tool) {
        return searchPath().stream().filter(d -> !d.isEmpty()).map(d -> Path.of(d, tool))
                .filter(Files::isExecutable).findFirst()
                .orElseThrow(() -> new AssertionError(tool + " not found on " + searchPath()));
    }

    private static Path state() {
        return tmp.resolve("state");
    }

    private static Result script(long timeoutSeconds, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString()));
        command.addAll(List.of(args));
        Path log = Files.createTempFile(tmp, "script-", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(tmp.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.remove("SPARK_MASTER_URL");
        env.remove("SPARK_CONF_DIR");
        env.put("NAME", NAME);
        env.put("SUBNET", SUBNET);
        env.put("STATE", state().toString());
        env.put("JOB_JAR", JAR.toString());
        env.put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        env.put("PATH", String.join(File.pathSeparator, searchPath()));
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
            throw new AssertionError("emulated-cluster.sh " + String.join(" ", args) + " did not finish within "
                    + timeoutSeconds + " s:\n" + StandaloneCluster.tail(log));
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }

    private static JsonNode counters() throws IOException, InterruptedException {
        Result r = script(30, "counters", "--json");
        assertEquals(0, r.exit(), r.output());
        return JSON.readTree(r.output());
    }

    /** Executor logs of the nodes (work/app-*&#47;N/stderr under the state folder), for a failure message. */
    private static String executorLogs() {
        StringBuilder text = new StringBuilder();
        try (Stream<Path> files = Files.walk(state())) {
            for (Path f : files.filter(p -> p.getFileName().toString().equals("stderr")).toList()) {
                text.append("\n==== ").append(state().relativize(f)).append('\n').append(StandaloneCluster.tail(f));
            }
        } catch (IOException e) {
            text.append("\n(no executor logs: ").append(e.getMessage()).append(')');
        }
        return text.toString();
    }

    @Test
    void twoShapedNodesTrainWithGradientSharingAndDownLeavesNothing() throws Exception {
        // a cluster of this name left by an aborted run would make `up` refuse
        assertEquals(0, script(120, "down").exit());
        Path data = SyntheticCifar.write(tmp.resolve("cifar"), 40, 8, 11);
        Path out = tmp.resolve("results");
        long start = System.nanoTime();
        try {
            Result up = script(240, "up", "2", "--cpu", CPU);
            assertEquals(0, up.exit(), up.output());
            assertTrue(up.output().contains("spark://" + SUBNET + ".1:7077"), up.output());

            // each node is capped at 0.5 cores, its links shaped both ways
            String quota = Files.isRegularFile(Path.of("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"))
                    ? Files.readString(Path.of("/sys/fs/cgroup/cpu", NAME + "-n1", "cpu.cfs_quota_us")).strip()
                    : Files.readString(Path.of("/sys/fs/cgroup", NAME + "-n1", "cpu.max")).strip();
            assertTrue(quota.equals("50000") || quota.equals("50000 100000"), "cpu quota of n1: " + quota);
            String sends = run("tc", "-n", NAME + "-n1", "qdisc", "show", "dev", "eth0");
            String receives = run("tc", "qdisc", "show", "dev", NAME + "-n1");
            assertTrue(sends.contains("tbf") && sends.contains("rate 1Gbit"), sends);
            assertTrue(receives.contains("tbf") && receives.contains("rate 1Gbit"), receives);

            Result status = script(30, "status");
            assertEquals(0, status.exit(), status.output());
            assertTrue(status.output().contains("2 of 2 worker(s) alive"), status.output());

            JsonNode before = counters();
            List<String> submit = new ArrayList<>(List.of("submit", "--", "train", "--data", data.toString(),
                    "--out", out.toString(), "--partitions", "2", "--training-master", "shared", "--epochs", "1",
                    "--batch", "8", "--loss-sample", "40"));
            submit.addAll(TestConfigs.RECIPE_OPTIONS);
            Result run = script(300, submit.toArray(String[]::new));
            assertEquals(0, run.exit(), run.output() + executorLogs());
            JsonNode after = counters();

            Path json;
            try (Stream<Path> files = Files.list(out)) {
                json = files.filter(f -> f.getFileName().toString().matches("run-.*\\.json")).findFirst()
                        .orElseThrow(() -> new AssertionError("no run JSON in " + out));
            }
            JsonNode result = JSON.readTree(json.toFile());
            assertEquals("spark://" + SUBNET + ".1:7077", result.path("environment").path("master").asText());
            Set<String> hosts = new TreeSet<>();
            for (JsonNode executor : result.path("trainingTasks")) {
                assertTrue(executor.path("tasks").asInt() >= 1, result.path("trainingTasks").toString());
                hosts.add(executor.path("host").asText());
            }
            assertEquals(new TreeSet<>(NODE_ADDRESSES), hosts,
                    "training tasks ran on both nodes: " + result.path("trainingTasks"));

            Map<String, String> traffic = new TreeMap<>();
            for (String node : List.of("head", "n1", "n2")) {
                for (String counter : List.of("tx_bytes", "rx_bytes")) {
                    long grew = after.path(node).path(counter).asLong() - before.path(node).path(counter).asLong();
                    traffic.put(node + " " + counter, String.format("%.1f MB", grew / 1e6));
                    assertTrue(grew > SUBSTANTIAL_BYTES, node + " eth0 " + counter + " grew by only " + grew
                            + " bytes: before " + before + ", after " + after);
                }
            }
            for (String node : List.of("n1", "n2")) {
                assertTrue(after.path(node).path("cpu_seconds").asDouble() > 0, after.toString());
            }
            // the job's own record of the epoch's traffic: each node's and the head's, measured at the
            // training tasks, with the link rate the script stated, within what the links' counters saw
            assertEquals(1000, result.path("environment").path("linkMbit").asDouble(), result.path("environment").toString());
            JsonNode epochTraffic = result.path("epochs").path(0).path("traffic");
            Map<String, JsonNode> byHost = new TreeMap<>();
            epochTraffic.forEach(t -> byHost.put(t.path("host").asText(), t));
            assertEquals(new TreeSet<>(List.of(SUBNET + ".1", NODE_ADDRESSES.get(0), NODE_ADDRESSES.get(1))),
                    byHost.keySet(), "traffic of the head and both nodes: " + epochTraffic);
            for (int i = 0; i < NODE_ADDRESSES.size(); i++) {
                JsonNode t = byHost.get(NODE_ADDRESSES.get(i));
                String node = "n" + (i + 1);
                long tx = after.path(node).path("tx_bytes").asLong() - before.path(node).path("tx_bytes").asLong();
                assertTrue(t.path("sentBytes").asLong() > 0 && t.path("sentBytes").asLong() <= tx,
                        node + ": the job recorded " + t + ", its link sent " + tx);
            }
            System.out.printf("emulated cluster: training tasks %s, traffic during the run %s, %.0f s%n",
                    result.path("trainingTasks"), traffic,
                    (System.nanoTime() - start) / 1e9);
        } finally {
            Result down = script(120, "down");
            assertEquals(0, down.exit(), down.output());
        }

        assertFalse(run("ip", "netns", "list").lines().anyMatch(l -> l.startsWith(NAME + "-")),
                "namespaces left: " + run("ip", "netns", "list"));
        assertFalse(run("ip", "-o", "link", "show").lines()
                .map(l -> l.split(": ")[1].replaceAll("@.*", ""))
                .anyMatch(n -> n.startsWith(NAME + "-") || n.equals(NAME + "br")), "links left: "
                + run("ip", "-o", "link", "show"));
        // cgroup v2 groups are in /sys/fs/cgroup, v1 groups one level down (cpu/, cpuacct/, ...)
        try (Stream<Path> roots = Files.list(Path.of("/sys/fs/cgroup"))) {
            List<Path> left = new ArrayList<>();
            List<Path> dirs = new ArrayList<>(List.of(Path.of("/sys/fs/cgroup")));
            dirs.addAll(roots.filter(Files::isDirectory).toList());
            for (Path root : dirs) {
                try (Stream<Path> groups = Files.list(root)) {
                    groups.filter(g -> g.getFileName().toString().startsWith(NAME + "-")).forEach(left::add);
                }
            }
            assertTrue(left.isEmpty(), "cgroups left: " + left);
        }
        String stateDir = state().toString();
        List<String> processes = ProcessHandle.allProcesses()
                .map(p -> p.info().commandLine().orElse(""))
                .filter(c -> c.contains(stateDir)).toList();
        assertTrue(processes.isEmpty(), "processes of the cluster left: " + processes);
        assertFalse(Files.exists(state()), "state folder left: " + stateDir);
    }

    /** Runs a command and returns its output; fails on a non-zero exit. */
    private static String run(String... command) throws IOException, InterruptedException {
        List<String> resolved = new ArrayList<>(List.of(command));
        resolved.set(0, which(command[0]).toString());
        Process p = new ProcessBuilder(resolved).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + output);
        return output;
    }
}
