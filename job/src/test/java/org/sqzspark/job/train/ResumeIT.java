package org.sqzspark.job.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqzspark.job.StandaloneCluster;
import org.sqzspark.job.SyntheticCifar;
import org.sqzspark.job.results.Checkpoints;
import org.sqzspark.job.results.ResultStore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A driver killed mid-run, then the same command with --resume: nothing lost, nothing twice. */
class ResumeIT {

    private static final Path JAR = Path.of(System.getProperty("user.dir"), "target", "squeezenet-spark-job.jar");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int EPOCHS = 3;

    @TempDir
    Path tmp;

    private Process sweep(Path data, Path out, Path log, boolean resume) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx3g"));
        cmd.addAll(StandaloneCluster.JVM_FLAGS);
        cmd.addAll(List.of("-jar", JAR.toString(), "sweep", "--master", "local[2]", "--data", data.toString(),
                "--out", out.toString(), "--partitions", "1,2", "--epochs", String.valueOf(EPOCHS), "--batch", "16",
                "--loss-sample", "100"));
        if (resume) {
            cmd.add("--resume");
        }
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static Optional<JsonNode> run(Path out, String suffix) throws IOException {
        if (!Files.isDirectory(out)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(out)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (n.startsWith("run-") && n.endsWith(suffix + ".json")) {
                    return Optional.of(JSON.readTree(f.toFile()));
                }
            }
        }
        return Optional.empty();
    }

    @Test
    void aSweepWhoseDriverIsKilledResumesAtTheUnfinishedRunAndKeepsTheFinishedOne() throws Exception {
        Path data = SyntheticCifar.write(tmp.resolve("cifar"), 40, 10, 3);
        Path out = tmp.resolve("results");
        Path log = tmp.resolve("first.log");
        Process first = sweep(data, out, log, false);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        // kill the driver once P=2 has finished an epoch (P=1 is complete by then)
        while (run(out, "-p2").map(r -> r.path("epochs").size()).orElse(0) < 1) {
            assertTrue(first.isAlive(), "the sweep ended before it could be killed:\n" + StandaloneCluster.tail(log));
            assertTrue(System.nanoTime() < deadline, "P=2 did not finish an epoch:\n" + StandaloneCluster.tail(log));
            Thread.sleep(200);
        }
        first.descendants().forEach(ProcessHandle::destroyForcibly);
        first.destroyForcibly().waitFor();

        JsonNode p1 = run(out, "-p1").orElseThrow();
        assertTrue(p1.path("completed").asBoolean(), "P=1 finished before the kill: " + p1);
        Path p1File;
        try (Stream<Path> files = Files.list(out)) {
            p1File = files.filter(f -> f.getFileName().toString().endsWith("-p1.json")).findFirst().orElseThrow();
        }
        byte[] p1Before = Files.readAllBytes(p1File);
        JsonNode p2Before = run(out, "-p2").orElseThrow();
        assertFalse(p2Before.path("completed").asBoolean(), p2Before.toString());
        String p2Id = p2Before.path("runId").asText();
        assertTrue(Files.exists(out.resolve(Checkpoints.name(p2Id))), "the unfinished run has a checkpoint");

        Path log2 = tmp.resolve("resumed.log");
        Process resumed = sweep(data, out, log2, true);
        assertTrue(resumed.waitFor(10, TimeUnit.MINUTES), "the resumed sweep did not finish");
        assertEquals(0, resumed.exitValue(), StandaloneCluster.tail(log2));

        assertArrayEquals(p1Before, Files.readAllBytes(p1File), "the finished P=1 run is kept as it was");
        JsonNode p2 = run(out, "-p2").orElseThrow();
        assertEquals(p2Id, p2.path("runId").asText(), "P=2 continued under its own run id");
        assertTrue(p2.path("completed").asBoolean(), p2.toString());
        List<Integer> epochs = new ArrayList<>();
        p2.path("epochs").forEach(e -> epochs.add(e.path("epoch").asInt()));
        assertEquals(List.of(1, 2, 3), epochs, "every epoch recorded once");
        String resumedLog = Files.readString(log2);
        assertTrue(resumedLog.contains("Resuming run " + p2Id + " at epoch"), resumedLog);
        assertTrue(resumedLog.contains("is complete in") && resumedLog.contains("kept"), resumedLog);

        List<String> csv = Files.readAllLines(out.resolve(ResultStore.CSV_NAME));
        assertEquals(String.join(",", ResultStore.CSV_HEADER), csv.get(0));
        for (JsonNode run : List.of(p1, p2)) {
            String id = run.path("runId").asText();
            List<String> rows = csv.stream().filter(l -> l.startsWith(id + ",")).toList();
            assertEquals(EPOCHS, rows.size(), "one CSV row per epoch of " + id + ":\n" + String.join("\n", csv));
        }
        assertEquals(1 + 2 * EPOCHS, csv.size(), String.join("\n", csv));
        assertTrue(Files.exists(out.resolve(ResultStore.modelName(p2Id))), "the resumed run wrote its model");
        assertFalse(Files.exists(out.resolve(Checkpoints.name(p2Id))), "a completed run leaves no checkpoint");
    }
}
