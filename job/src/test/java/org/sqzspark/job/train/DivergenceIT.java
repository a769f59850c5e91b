package org.sqzspark.job.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqzspark.job.SyntheticCifar;
import org.sqzspark.job.TestConfigs;
import org.sqzspark.job.cli.Main;
import org.sqzspark.job.results.Checkpoints;
import org.sqzspark.job.results.ResultStore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs that go numerically wrong, trained for real: SGD at a learning rate of 10 on the synthetic
 * data drives the parameters to NaN or infinity within the first epoch. Each run stops at the end of
 * that epoch with one error line, is recorded as diverged in its JSON and in the CSV, and the sweep
 * goes on with the next P, writes its report and exits with {@link Main#EXIT_DIVERGED}.
 */
class DivergenceIT {

    private static final int EPOCHS = 3;
    private static final Pattern LINE = Pattern.compile(
            "error: run (\\S+-p(\\d)) diverged at epoch (\\d) of " + EPOCHS + ": [^\\n]*");

    @TempDir
    Path tmp;

    @Test
    void aSweepWhoseRunsDivergeStopsEachAtThatEpochRecordsItAndGoesOnWithTheNextP() throws Exception {
        Path data = SyntheticCifar.write(tmp.resolve("cifar"), 40, 10, 3);
        Path out = tmp.resolve("results");
        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();
        int exit = Main.run(new PrintWriter(stdout, true), new PrintWriter(stderr, true), "sweep", "--master",
                TestConfigs.MASTER, "--data", data.toString(), "--out", out.toString(), "--partitions", "1,2",
                "--epochs", String.valueOf(EPOCHS), "--batch", "16", "--training-master", "averaging",
                "--optimizer", "sgd", "--lr", "10", "--loss-sample", "50");
        String err = stderr.toString();
        assertEquals(Main.EXIT_DIVERGED, exit, "exit code of a sweep in which a run diverged:\n" + err);

        Matcher m = LINE.matcher(err);
        ObjectMapper json = new ObjectMapper();
        List<String> csv = Files.readAllLines(out.resolve(ResultStore.CSV_NAME));
        assertEquals(String.join(",", ResultStore.CSV_HEADER), csv.get(0));
        int diverged = ResultStore.CSV_HEADER.indexOf("diverged");
        for (int p = 1; p <= 2; p++) {
            assertTrue(m.find(), "one error line per diverged run, P=" + p + " in turn:\n" + err);
            String line = m.group();
            String runId = m.group(1);
            int epoch = Integer.parseInt(m.group(3));
            assertEquals(p, Integer.parseInt(m.group(2)), line);
            assertTrue(line.contains("sgd, learning rate 10, batch 16 per replica (global " + 16 * p + "), averaging"),
                    "the line names the recipe: " + line);
            assertTrue(line.contains("--lr 1"), "the line says what to try: " + line);
            assertFalse(line.contains("--optimizer sgd"), "no advice to switch to the optimizer in use: " + line);

            JsonNode run = json.readTree(out.resolve(ResultStore.jsonName(runId)).toFile());
            assertTrue(run.path("diverged").asBoolean(), run.toString());
            assertFalse(run.path("completed").asBoolean(), run.toString());
            assertEquals(epoch, run.path("epochs").size(), "it stopped at the epoch that went wrong: " + run);
            assertTrue(epoch < EPOCHS, "a run that diverges stops before its last epoch: " + line);
            assertFalse(Files.exists(out.resolve(ResultStore.modelName(runId))), "no model of a diverged run");
            assertFalse(Files.exists(out.resolve(Checkpoints.name(runId))), "no checkpoint of a diverged run");

            List<String[]> rows = csv.stream().filter(r -> r.startsWith(runId + ","))
                    .map(r -> r.split(",", -1)).toList();
            assertEquals(epoch, rows.size(), "a CSV row per epoch it ran");
            for (int i = 0; i < rows.size(); i++) {
                assertEquals(ResultStore.CSV_HEADER.size(), rows.get(i).length);
                assertEquals(String.valueOf(i == rows.size() - 1), rows.get(i)[diverged],
                        "diverged on the last epoch's row only, epoch " + (i + 1) + " of " + runId);
            }
        }
        assertFalse(m.find(), "one line per run:\n" + err);

        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("0 incomplete, 2 diverged"), "the report counts them");
        assertEquals(2, html.split("<tr class=\"diverged\">", -1).length - 1, "both rows marked diverged");
        assertTrue(html.contains("diverged at epoch"), html);
        assertFalse(Files.exists(out.resolve("report-accuracy-final.png")), "no chart of a diverged run's numbers");
    }
}
