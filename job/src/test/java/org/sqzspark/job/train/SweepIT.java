package org.sqzspark.job.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqzspark.job.SyntheticCifar;
import org.sqzspark.job.TestConfigs;
import org.sqzspark.job.cli.Main;
import org.sqzspark.job.results.ResultStore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sweep command end to end: command line in, JSON and CSV results out. Parameter averaging,
 * so that P=1 (one replica, one minibatch per averaging round) is covered too.
 */
class SweepIT {

    /** Columns only a cluster run fills: its link rate and each node's network bytes per step. */
    private static final List<String> CLUSTER_ONLY =
            List.of("link_mbit", "net_sent_bytes_per_step", "net_received_bytes_per_step");

    @TempDir
    Path tmp;

    @Test
    void averagingSweepOverOneAndTwoPartitionsWritesCompleteResults() throws Exception {
        Path data = SyntheticCifar.write(tmp.resolve("cifar"), 40, 20, 3);
        Path out = tmp.resolve("results");
        int exit = Main.run("sweep", "--master", TestConfigs.MASTER, "--data", data.toString(), "--out", out.toString(),
                "--partitions", "1,2", "--epochs", "2", "--batch", "16", "--training-master", "averaging",
                "--loss-sample", "50");
        assertEquals(0, exit);

        List<Path> runs;
        try (var files = Files.list(out)) {
            runs = files.filter(f -> f.getFileName().toString().matches("run-.*\\.json")).sorted().toList();
        }
        assertEquals(2, runs.size(), "one JSON per run: " + runs);
        ObjectMapper json = new ObjectMapper();
        int p = 1;
        for (Path run : runs) {
            JsonNode node = json.readTree(run.toFile());
            assertNoEmptyField(node, run.getFileName().toString());
            assertTrue(node.get("epochs").get(0).path("traffic").isMissingNode(), "no traffic embedded: " + node);
            assertEquals(p, node.get("config").get("partitions").asInt());
            assertEquals(2, node.get("epochs").size());
            assertTrue(node.get("completed").asBoolean());
            assertEquals(200, node.get("trainImages").asInt());
            assertEquals(100, node.get("testImages").asInt());
            assertEquals(16 * p, node.get("globalBatch").asInt());
            assertEquals(System.getProperty("os.arch"), node.get("environment").get("osArch").asText());
            assertTrue(Files.exists(out.resolve(run.getFileName().toString().replace(".json", ".model.zip"))));
            p++;
        }

        List<String> csv = Files.readAllLines(out.resolve(ResultStore.CSV_NAME));
        assertEquals(String.join(",", ResultStore.CSV_HEADER), csv.get(0));
        assertEquals(1 + 2 * 2, csv.size(), "a row per (P, epoch): " + csv);
        for (String row : csv.subList(1, csv.size())) {
            String[] fields = row.split(",", -1);
            assertEquals(ResultStore.CSV_HEADER.size(), fields.length, row);
            for (int i = 0; i < fields.length; i++) {
                String column = ResultStore.CSV_HEADER.get(i);
                if (CLUSTER_ONLY.contains(column)) {
                    assertTrue(fields[i].isEmpty(), column + " is measured on clusters only, yet filled in " + row);
                } else {
                    assertFalse(fields[i].isBlank(), column + " is empty in " + row);
                }
            }
        }
        assertTrue(csv.get(1).contains(",1,1,"), "P=1 epoch 1 row first: " + csv.get(1));
        assertTrue(Files.readString(out.resolve("report.html")).contains("plain (averaging)"),
                "the sweep ends with the report of its folder");
    }

    private static void assertNoEmptyField(JsonNode node, String path) {
        if (node.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> f = fields.next();
                assertNoEmptyField(f.getValue(), path + "." + f.getKey());
            }
        } else if (node.isArray()) {
            assertFalse(node.isEmpty(), path + " is empty");
            for (int i = 0; i < node.size(); i++) {
                assertNoEmptyField(node.get(i), path + "[" + i + "]");
            }
        } else {
            assertFalse(node.isNull(), path + " is null");
            assertFalse(node.isTextual() && node.asText().isBlank(), path + " is blank");
            assertFalse(node.isNumber() && Double.isNaN(node.asDouble()), path + " is NaN");
        }
    }
}
