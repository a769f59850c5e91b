package org.sqzspark.job;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.sqzspark.job.cli.Main;
import org.sqzspark.job.report.Report;
import org.sqzspark.job.report.ReportFixture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * submit/report.sh with the runnable jar, as a user runs it. The report it writes from the fixture stays
 * in {@value #FIXTURE_DIR} for CI, which opens it in headless Chromium (.ci/report-check).
 */
class ReportScriptIT {

    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    /** Under the job module's target/: the fixture results folder and its report, left for CI. */
    static final String FIXTURE_DIR = "target/report-fixture";

    private record Result(int exit, String output) {
    }

    private static Result run(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", ROOT.resolve("submit/report.sh").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "script did not finish");
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    @Test
    void reportScriptWritesTheReportWithTheJar() throws Exception {
        Path results = Path.of(System.getProperty("user.dir")).resolve(FIXTURE_DIR);
        if (Files.exists(results)) {
            try (Stream<Path> old = Files.list(results)) {
                for (Path f : old.toList()) {
                    Files.delete(f);
                }
            }
        }
        ReportFixture.write(results);
        ReportFixture.writeConfusion(results);
        Result r = run(results.toString(), "--target-accuracy", "0.5");
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("Report of 8 runs in 2 recipes"), r.output());
        assertFalse(r.output().contains("\tat "), r.output());
        String html = Files.readString(results.resolve(Report.HTML_NAME));
        // the scaling report's nine, and the confusion matrix that predict --data wrote
        assertEquals(10, html.split("<img src=\"data:image/png;base64,", -1).length - 1, "ten charts embedded");
        assertTrue(html.contains("Confusion matrix: run-"), "the confusion matrix is a chart");
        assertTrue(Files.size(results.resolve("report-speedup.png")) > 1000);
    }

    @Test
    void reportScriptWithoutResultsFolderPrintsUsage() throws Exception {
        Result r = run();
        assertEquals(2, r.exit(), r.output());
        assertTrue(r.output().contains("Usage: submit/report.sh RESULTS_DIR"), r.output());
    }

    @Test
    void reportScriptGivesOneClearErrorForAMissingFolder() throws Exception {
        Result r = run("/nonexistent/results");
        assertEquals(Main.EXIT_DATA, r.exit(), r.output());
        assertTrue(r.output().contains("error: --results /nonexistent/results does not exist"), r.output());
        assertFalse(r.output().contains("\tat "), "no stack trace: " + r.output());
    }
}
