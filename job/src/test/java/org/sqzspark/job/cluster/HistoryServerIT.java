package org.sqzspark.job.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqzspark.job.StandaloneCluster;
import org.sqzspark.job.SyntheticCifar;
import org.sqzspark.job.TestConfigs;
import org.sqzspark.job.cli.Main;

/**
 * An embedded run's event log, opened by Spark's history server as the README starts it: a JVM of
 * its own running {@code org.apache.spark.deploy.history.HistoryServer} from the job jar, with
 * {@code spark.history.fs.logDirectory} set to the run's folder, asked through its REST API.
 */
class HistoryServerIT {

    private static final Path JAR = Path.of(System.getProperty("user.dir"), "target", "squeezenet-spark-job.jar");
    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void anEmbeddedRunWritesItsEventLogIntoItsResultsFolderAndTheHistoryServerListsItCompleted() throws Exception {
        assertTrue(Files.isRegularFile(JAR), "the shaded job jar " + JAR + " is missing: run `mvn verify`");
        Path data = SyntheticCifar.write(tmp.resolve("cifar"), 40, 10, 3);
        Path out = tmp.resolve("results");
        int exit = Main.run("train", "--master", TestConfigs.MASTER, "--data", data.toString(), "--out",
                out.toString(), "--epochs", "1", "--batch", "16", "--loss-sample", "20");
        assertEquals(0, exit);

        Path events = out.resolve(SparkSetup.EMBEDDED_EVENT_LOGS);
        List<String> logs;
        try (Stream<Path> files = Files.list(events)) {
            logs = files.map(f -> f.getFileName().toString()).toList();
        }
        assertEquals(1, logs.size(), "one application's log in " + events + ": " + logs);
        assertTrue(logs.get(0).matches("local-\\d+\\.zstd"), "a finished, compressed log: " + logs);

        int port = StandaloneCluster.freeTcpPort();
        List<String> command = new ArrayList<>(List.of(JAVA));
        command.addAll(StandaloneCluster.JVM_FLAGS);
        command.addAll(List.of("-Dspark.history.fs.logDirectory=" + events, "-Dspark.history.ui.port=" + port,
                "-cp", JAR.toString(), "org.apache.spark.deploy.history.HistoryServer"));
        Path log = tmp.resolve("history-server.log");
        Process server = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            JsonNode app = completedApplication(URI.create("http://127.0.0.1:" + port + "/api/v1/applications"),
                    server, log);
            assertEquals(SparkSetup.APP_NAME, app.path("name").asText(), app.toString());
            assertEquals(logs.get(0).replace(".zstd", ""), app.path("id").asText(), app.toString());
        } finally {
            server.destroy();
            if (!server.waitFor(30, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor();
            }
        }
    }

    /** The first application the history server lists with a completed attempt, within 90 s. */
    private static JsonNode completedApplication(URI api, Process server, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            assertTrue(server.isAlive(), "the history server exited:\n" + StandaloneCluster.tail(log));
            try (InputStream in = api.toURL().openStream()) {
                JsonNode apps = JSON.readTree(in);
                last = apps.toString();
                for (JsonNode app : apps) {
                    if (app.path("attempts").path(0).path("completed").asBoolean()) {
                        return app;
                    }
                }
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(500);
        }
        return fail("the history server at " + api + " listed no completed application within 90 s (last: "
                + last + "):\n" + StandaloneCluster.tail(log));
    }
}
