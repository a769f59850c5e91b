package org.sqzspark.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqzspark.job.SilentNamenode;
import org.sqzspark.job.cluster.HadoopTimeouts;
import org.sqzspark.job.report.Report;
import org.sqzspark.job.report.ReportCharts;
import org.sqzspark.job.report.ReportFixture;
import org.sqzspark.job.report.ResultsFolder;
import org.sqzspark.job.report.ScalingAnalysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report command on a results folder with known numbers (no training), and its answers to bad input. */
class ReportCommandTest {

    private static final Pattern IMG = Pattern.compile("<img src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\""
            + "[^>]*data-file=\"([^\"]+)\"");

    @TempDir
    Path tmp;
    /** The fixture's report, written once for the tests that only read it. */
    @TempDir
    static Path shared;
    static Path rendered;
    static String renderedOut;

    @BeforeAll
    static void renderFixture() throws Exception {
        rendered = ReportFixture.write(shared.resolve("results"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), "report", "--results",
                rendered.toString());
        assertEquals(0, exit, err.toString());
        renderedOut = out.toString();
    }

    private record Outcome(int exit, String out, String err) {
    }

    private Outcome run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Outcome(exit, out.toString(), err.toString());
    }

    private static Map<String, byte[]> snapshot(Path dir) throws Exception {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                files.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return files;
    }

    private static void assertSameFiles(Map<String, byte[]> before, Path dir) throws Exception {
        Map<String, byte[]> after = snapshot(dir);
        assertEquals(before.keySet(), after.keySet(), "no file added or removed");
        before.forEach((name, bytes) -> assertArrayEquals(bytes, after.get(name), name + " unchanged"));
    }

    @Test
    void writesTheReportAndItsChartsFromAResultsFolder() throws Exception {
        Path results = rendered;
        assertTrue(renderedOut.contains("Report of 8 runs in 2 recipes"), renderedOut);

        String html = Files.readString(results.resolve(Report.HTML_NAME));
        List<String> files = new ArrayList<>();
        Matcher m = IMG.matcher(html);
        while (m.find()) {
            byte[] embedded = Base64.getDecoder().decode(m.group(1));
            Path png = results.resolve(m.group(2));
            assertArrayEquals(Files.readAllBytes(png), embedded, "the page embeds " + png.getFileName());
            files.add(m.group(2));
        }
        assertEquals(List.of("report-time-per-epoch.png", "report-time-total.png", "report-speedup.png",
                "report-efficiency.png", "report-accuracy-final.png", "report-accuracy-epochs-1.png",
                "report-accuracy-epochs-2.png", "report-time-to-target.png", "report-throughput.png"), files);
        assertEquals(files.size(), html.split("<img ", -1).length - 1, "every image is a PNG data: URI");
    }

    @Test
    void everyChartIsAPngWithEachSeriesDrawn() throws Exception {
        Path results = rendered;
        try (Stream<Path> s = Files.list(results)) {
            List<Path> pngs = s.filter(p -> p.getFileName().toString().endsWith(".png")).sorted().toList();
            assertEquals(9, pngs.size(), pngs.toString());
            for (Path png : pngs) {
                BufferedImage image = ImageIO.read(png.toFile());
                assertNotNull(image, png + " decodes");
                assertEquals(ReportCharts.WIDTH, image.getWidth());
                assertEquals(ReportCharts.HEIGHT, image.getHeight());
                // two recipes per chart against P, four P per accuracy-per-epoch chart
                int series = png.getFileName().toString().startsWith("report-accuracy-epochs") ? 4 : 2;
                for (int i = 0; i < series; i++) {
                    Color c = ReportCharts.SERIES_COLORS.get(i);
                    int n = pixelsOf(image, c);
                    assertTrue(n > 300, png.getFileName() + ": series " + i + " drawn, " + n + " pixels of " + c);
                }
            }
        }
    }

    /** Pixels of a colour, legend excluded (it draws each series' colour too): only the plot's upper 80%. */
    private static int pixelsOf(BufferedImage image, Color c) {
        int n = 0;
        for (int y = 0; y < image.getHeight() * 8 / 10; y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                if (Math.abs(((rgb >> 16) & 0xff) - c.getRed()) < 8 && Math.abs(((rgb >> 8) & 0xff) - c.getGreen()) < 8
                        && Math.abs((rgb & 0xff) - c.getBlue()) < 8) {
                    n++;
                }
            }
        }
        return n;
    }

    @Test
    void tableShowsTheStudysColumnsWithExactSpeedupAndEfficiency() throws Exception {
        Path results = rendered;
        String html = Files.readString(results.resolve(Report.HTML_NAME));
        for (String column : List.of("<th>P</th>", "<th>images per replica</th>", "<th>global batch</th>",
                "<th>steps per epoch</th>", "<th>time (s)</th>", "<th>speedup</th>", "<th>efficiency</th>",
                "<th>test accuracy</th>")) {
            assertTrue(html.contains(column), column);
        }
        // plain recipe, P=4: 12,500 images per replica, global batch 128, 391 steps, 160 s, 400/160, /4, 45%
        assertTrue(html.contains("<tr><td>4</td><td>12,500</td><td>128</td><td>391</td><td>0.0001</td>"
                + "<td>160.0</td><td>2.50</td><td>0.63</td><td>45.00%</td><td>not reached</td><td>1250.0</td>"), html);
        assertTrue(html.contains("<td>8</td><td>6,250</td><td>256</td><td>196</td><td>0.0008</td><td>100.0</td>"
                + "<td>4.00</td><td>0.50</td><td>55.00%</td><td>100.0</td><td>2000.0</td>"), "remedied P=8 row");
        assertTrue(html.contains("<b>P=2</b>") && html.contains("<b>P=4</b>"), "scaling limits of both recipes");
        assertTrue(html.contains("spark://head:7077") && html.contains("aarch64") && html.contains("linux-arm64"),
                "environment");
        assertTrue(html.contains("speedup(P)</dt>") && html.contains("statistical scaling limit</dt>"), "definitions");
    }

    /**
     * The fixture with the plain recipe's P=4 run at chance level (10%, loss ln 10) and its P=8 run
     * diverged at epoch 2 of 4, written as the job writes one (NaN quoted, no later epochs).
     */
    private Path divergedAndChanceLevel() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("mixed"));
        for (ObjectNode run : ReportFixture.runs()) {
            String id = run.get("runId").asText();
            ArrayNode epochs = (ArrayNode) run.get("epochs");
            if (id.endsWith("-shared-p4")) {
                for (JsonNode e : epochs) {
                    ((ObjectNode) e).put("testAccuracy", 0.1).put("trainLoss", 2.3026);
                }
            } else if (id.endsWith("-shared-p8")) {
                epochs.remove(3);
                epochs.remove(2);
                ((ObjectNode) epochs.get(1)).put("testAccuracy", "NaN").put("trainLoss", "NaN");
                run.put("completed", false).put("diverged", true);
            }
            ReportFixture.writeRun(dir, run);
        }
        return dir;
    }

    @Test
    void aDivergedRunIsMarkedInTheTableAndLeftOutOfEveryChart() throws Exception {
        Path results = divergedAndChanceLevel();
        Outcome o = run("report", "--results", results.toString());
        assertEquals(0, o.exit(), o.err());
        String html = Files.readString(results.resolve(Report.HTML_NAME));
        assertTrue(html.contains("0 incomplete, 1 diverged"), "the summary counts it");
        Matcher row = Pattern.compile("<tr class=\"diverged\"><td>8</td>.*?</tr>").matcher(html);
        assertTrue(row.find(), "the P=8 row is marked diverged:\n" + html);
        assertTrue(row.group().contains("<td>diverged</td>") && row.group().contains("diverged at epoch 2 of 4:"
                + " training loss NaN"), row.group());
        assertFalse(row.group().contains("NaN%"), "no garbage figure in the row: " + row.group());
        assertFalse(row.find(), "one diverged row");

        ScalingAnalysis analysis = ScalingAnalysis.of(ResultsFolder.readRuns(results.toString(),
                new Configuration()), Report.DEFAULT_TARGET_ACCURACY);
        ScalingAnalysis.RecipeResult plain = analysis.recipes().get(0);
        assertEquals(List.of(1, 2, 4), plain.completeRows().stream().map(ScalingAnalysis.Row::partitions).toList(),
                "the diverged P=8 is not drawn");
        ReportCharts.Chart perEpoch = ReportCharts.draw(analysis).stream()
                .filter(c -> c.file().equals("report-accuracy-epochs-1.png")).findFirst().orElseThrow();
        assertEquals(3, perEpoch.series(), "accuracy per epoch of P=1, 2 and 4 only");
    }

    @Test
    void aRunAtChanceLevelIsNamedAsSuchAndIsNotDiverged() throws Exception {
        Path results = divergedAndChanceLevel();
        assertEquals(0, run("report", "--results", results.toString()).exit());
        String html = Files.readString(results.resolve(Report.HTML_NAME));
        Matcher row = Pattern.compile("<tr class=\"chance\"><td>4</td>.*?</tr>").matcher(html);
        assertTrue(row.find(), "the P=4 row is marked as chance level:\n" + html);
        assertTrue(row.group().contains("<td>10.00%</td>") && row.group().contains("did not learn (chance level)"),
                row.group());
        assertFalse(row.find(), "one run at chance level");
        assertEquals(1, html.split("did not learn \\(chance level\\)</td>", -1).length - 1,
                "only the run at chance level is named so; the fixture's P=8 at 10% with loss 1.7 is not");
        assertFalse(html.contains("<tr class=\"diverged\"><td>4</td>"), "a dead network is not diverged");
    }

    @Test
    void pageIsSelfContained() throws Exception {
        Path results = rendered;
        String html = Files.readString(results.resolve(Report.HTML_NAME));
        for (String external : List.of("http:", "https:", "<script", "<link rel=\"stylesheet\"", "@import",
                "url(", "src=\"report-")) {
            assertFalse(html.contains(external), "no " + external);
        }
    }

    @Test
    void targetAccuracyAndOutFolderAreHonoured() throws Exception {
        Path results = ReportFixture.write(tmp.resolve("results"));
        Map<String, byte[]> before = snapshot(results);
        Path out = tmp.resolve("elsewhere/report");
        Outcome o = run("report", "--results", results.toString(), "--target-accuracy", "0.4", "--out",
                out.toString());
        assertEquals(0, o.exit(), o.err());
        assertSameFiles(before, results);
        String html = Files.readString(out.resolve(Report.HTML_NAME));
        assertTrue(html.contains("time to 40.00% (s)"), "target in the table header");
        // plain P=4 reaches 40% after 3 epochs of 40 s
        assertTrue(html.contains("<td>45.00%</td><td>120.0</td>"), html);
    }

    @Test
    void missingFolderIsNamedAndNotCreated() {
        Path missing = tmp.resolve("no-such-results");
        Outcome o = run("report", "--results", missing.toString());
        assertEquals(Main.EXIT_DATA, o.exit(), o.err());
        assertTrue(o.err().contains(missing.toString()) && o.err().contains("does not exist"), o.err());
        assertFalse(o.err().contains("\tat "), "no stack trace: " + o.err());
        assertFalse(Files.exists(missing));
    }

    @Test
    void anUnreachableNamenodeIsNamedWithTheReason() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        String results = "hdfs://127.0.0.1:" + closedPort + "/results";
        Outcome o = run("report", "--results", results);
        assertEquals(Main.EXIT_DATA, o.exit(), o.err());
        assertTrue(o.err().contains("--results " + results) && o.err().contains("connection refused")
                && o.err().contains("HDFS"), o.err());
        assertFalse(o.err().contains("\tat ") || o.err().contains("Exception"), "one plain line: " + o.err());
    }

    @Test
    void givesUpOnANamenodeThatAcceptsTheConnectionButNeverAnswers() throws Exception {
        try (SilentNamenode namenode = new SilentNamenode()) {
            String results = namenode.uri("/results");
            long start = System.nanoTime();
            Outcome o = run("report", "--results", results);
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(namenode.connections() > 0, "the report connected to the namenode");
            // the same answer as for a namenode that does not accept the connection
            assertEquals(Main.EXIT_DATA, o.exit(), o.err());
            assertTrue(o.err().contains("--results " + results) && o.err().contains("no answer in time")
                    && o.err().contains("HDFS"), o.err());
            assertFalse(o.err().contains("\tat ") || o.err().contains("Exception"), "one plain line: " + o.err());
            assertTrue(seconds < HadoopTimeouts.RPC_TIMEOUT_MS / 1000.0 + 10, "gave up after " + seconds + " s");
        }
    }

    @Test
    void folderWithoutRunsIsNamedAndLeftAsItWas() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("results"));
        Files.writeString(dir.resolve("results.csv"), "run_id\n");
        Files.writeString(dir.resolve(".run-x.json.tmp-1"), "{");
        Map<String, byte[]> before = snapshot(dir);
        Outcome o = run("report", "--results", dir.toString());
        assertEquals(Main.EXIT_DATA, o.exit(), o.err());
        assertTrue(o.err().contains(dir.toString()) && o.err().contains("no run-<id>.json"), o.err());
        assertSameFiles(before, dir);
    }

    @Test
    void malformedRunFileIsNamedAndNothingIsWritten() throws Exception {
        Path results = ReportFixture.write(tmp.resolve("results"));
        Files.writeString(results.resolve(Report.HTML_NAME), "an earlier report");
        Files.writeString(results.resolve("run-broken.json"), "{\"runId\": \"broken\", \"config\": {");
        Map<String, byte[]> before = snapshot(results);
        Outcome o = run("report", "--results", results.toString());
        assertEquals(Main.EXIT_DATA, o.exit(), o.err());
        assertTrue(o.err().contains("run-broken.json") && o.err().contains("not valid JSON"), o.err());
        assertTrue(o.err().contains("line 1"), "says where: " + o.err());
        assertFalse(o.err().contains("\tat "), "no stack trace: " + o.err());
        assertSameFiles(before, results);
    }

    @Test
    void runFileWithoutARequiredFieldNamesTheField() throws Exception {
        Path results = ReportFixture.write(tmp.resolve("results"));
        Files.writeString(results.resolve("run-odd.json"), "{\"runId\": \"odd\", \"config\": {\"model\": {}}}");
        Outcome o = run("report", "--results", results.toString());
        assertEquals(Main.EXIT_DATA, o.exit(), o.err());
        assertTrue(o.err().contains("run-odd.json") && o.err().contains("config.partitions"), o.err());
    }

    @Test
    void targetAccuracyOutsideZeroToOneIsAUsageError() throws Exception {
        Path results = ReportFixture.write(tmp.resolve("results"));
        Outcome o = run("report", "--results", results.toString(), "--target-accuracy", "50");
        assertEquals(Main.EXIT_USAGE, o.exit(), o.err());
        assertTrue(o.err().contains("--target-accuracy") && o.err().contains("0.5"), o.err());
        assertFalse(Files.exists(results.resolve(Report.HTML_NAME)));
    }

    @Test
    void outThatIsAFileIsRefusedAndKept() throws Exception {
        Path results = ReportFixture.write(tmp.resolve("results"));
        Path file = tmp.resolve("report.txt");
        Files.writeString(file, "keep me");
        Outcome o = run("report", "--results", results.toString(), "--out", file.toString());
        assertEquals(Main.EXIT_USAGE, o.exit(), o.err());
        assertTrue(o.err().contains(file.toString()), o.err());
        assertEquals("keep me", Files.readString(file));
    }

    @Test
    void resultsOptionIsRequired() {
        Outcome o = run("report");
        assertEquals(Main.EXIT_USAGE, o.exit(), o.err());
        assertTrue(o.err().contains("--results"), o.err());
    }

    @Test
    void helpListsTheReportCommand() {
        Outcome o = run("--help");
        assertTrue(o.out().contains("report"), o.out());
        Outcome r = run("report", "--help");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("--target-accuracy") && r.out().contains("Default: 0.5"), r.out());
    }
}
