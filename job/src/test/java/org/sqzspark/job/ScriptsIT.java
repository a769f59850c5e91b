package org.sqzspark.job;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqzspark.job.cli.Main;
import org.sqzspark.job.results.ResultStore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The submit/ scripts with the runnable jar the build produced, as a user runs them. */
class ScriptsIT {

    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

    @TempDir
    Path tmp;

    private record Result(int exit, String output) {
    }

    private Result run(List<String> command, String... env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(tmp.toFile()).redirectErrorStream(true);
        pb.environment().remove("SPARK_MASTER_URL");
        for (int i = 0; i < env.length; i += 2) {
            pb.environment().put(env[i], env[i + 1]);
        }
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "script did not finish");
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static List<String> script(String name, String... args) {
        List<String> cmd = new ArrayList<>(List.of("bash", ROOT.resolve("submit").resolve(name).toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    @Test
    void sweepScriptRunsTheJarEmbeddedAndWritesResults() throws Exception {
        Path data = SyntheticCifar.write(tmp.resolve("cifar"), 6, 2, 5);
        Path out = tmp.resolve("results");
        Result r = run(script("sweep.sh", "--data", data.toString(), "--out", out.toString(), "--partitions", "1,2",
                "--epochs", "1", "--batch", "8", "--loss-sample", "20"), "JAVA_OPTS", "-Xmx2g");
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("P=1 epoch 1/1"), "progress line per epoch: " + r.output());
        assertTrue(r.output().contains("P=2 epoch 1/1"), r.output());
        assertFalse(r.output().contains(" INFO org.apache.spark"), "Spark's INFO noise is off: " + r.output());
        List<String> csv = Files.readAllLines(out.resolve(ResultStore.CSV_NAME));
        assertEquals(3, csv.size(), String.join("\n", csv));
    }

    @Test
    void crashLoopScriptRunsGradientSharingAtPTwoAndCountsNoCrashWhenNoneHappens() throws Exception {
        Path data = SyntheticCifar.write(tmp.resolve("cifar"), 6, 2, 5);
        Path out = tmp.resolve("loop");
        Result r = run(script("crash-loop.sh", "--data", data.toString(), "--runs", "1", "--epochs", "1", "--batch",
                "8", "--out", out.toString()), "JAVA_OPTS", "-Xmx2g");
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("run 1/1: exit 0"), r.output());
        assertTrue(r.output().contains("0 crashes and 0 other failures in 1 runs (P=2, shared"), r.output());
        assertTrue(Files.readString(out.resolve("run-1").resolve("run.log")).contains("P=2 epoch 1/1"), r.output());
    }

    @Test
    void crashLoopScriptCountsAJvmThatDiesAsACrashAndKeepsItsReport() throws Exception {
        Path data = SyntheticCifar.write(tmp.resolve("cifar"), 6, 2, 5);
        Path out = tmp.resolve("loop");
        // a heap too small to start Spark in, and a JVM told to abort on running out of it: exit 134 and an hs_err file
        Result r = run(script("crash-loop.sh", "--data", data.toString(), "--runs", "1", "--epochs", "1", "--out",
                out.toString()), "JAVA_OPTS", "-Xmx16m -XX:+CrashOnOutOfMemoryError");
        assertEquals(1, r.exit(), r.output());
        assertTrue(r.output().contains("run 1/1: exit 134") && r.output().contains("CRASH"), r.output());
        assertTrue(r.output().contains("1 crashes and 0 other failures in 1 runs"), r.output());
        try (var files = Files.list(out.resolve("run-1"))) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().startsWith("hs_err_pid")), r.output());
        }
    }

    @Test
    void runLocalScriptGivesOneClearErrorForAWrongDataPath() throws Exception {
        Result r = run(script("run-local.sh", "train", "--data", tmp.resolve("nowhere").toString(), "--out",
                tmp.resolve("out").toString()));
        assertEquals(Main.EXIT_DATA, r.exit(), r.output());
        assertTrue(r.output().contains("error: ") && r.output().contains("nowhere"), r.output());
        assertFalse(r.output().contains("\tat "), "no stack trace: " + r.output());
    }

    @Test
    void submitScriptWithoutMasterPrintsUsage() throws Exception {
        Result r = run(script("submit.sh", "train"));
        assertEquals(2, r.exit(), r.output());
        assertTrue(r.output().contains("SPARK_MASTER_URL"), r.output());
    }

    @Test
    void runLocalScriptWithoutCommandPrintsUsage() throws Exception {
        Result r = run(script("run-local.sh"));
        assertEquals(2, r.exit(), r.output());
        assertTrue(r.output().contains("Usage"), r.output());
    }
}
