package org.sqzspark.job.cli;

import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqzspark.job.report.Report;
import org.sqzspark.job.report.ReportCharts;
import org.sqzspark.job.report.ReportFixture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report of a results folder that holds a confusion matrix of predict --data. */
class ConfusionReportTest {

    @TempDir
    Path tmp;

    private int report(Path results, StringWriter err) {
        return Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "report", "--results",
                results.toString());
    }

    @Test
    void confusionMatrixInTheResultsFolderIsDrawnAsAChart() throws Exception {
        Path results = ReportFixture.write(tmp.resolve("results"));
        Path csv = ReportFixture.writeConfusion(results);
        String model = csv.getFileName().toString().replace(".confusion.csv", "");

        StringWriter err = new StringWriter();
        assertEquals(0, report(results, err), err.toString());

        Path png = results.resolve("report-" + model + ".confusion.png");
        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image, "the chart decodes");
        assertEquals(ReportCharts.WIDTH, image.getWidth());
        assertEquals(ReportCharts.HEIGHT, image.getHeight());
        String html = Files.readString(results.resolve(Report.HTML_NAME));
        assertTrue(html.contains("data-file=\"report-" + model + ".confusion.png\""), "embedded");
        // the fixture's classes are right 600 + 10 * class times in 1,000: 64.50% in all
        assertTrue(html.contains("Confusion matrix: " + model + ", test accuracy 64.50%"), html);
    }

    @Test
    void folderWithoutConfusionMatrixHasNoSuchChart() throws Exception {
        Path results = ReportFixture.write(tmp.resolve("results"));

        assertEquals(0, report(results, new StringWriter()));

        assertFalse(Files.readString(results.resolve(Report.HTML_NAME)).contains("Confusion matrix"));
    }

    @Test
    void malformedConfusionMatrixIsNamed() throws Exception {
        Path results = ReportFixture.write(tmp.resolve("results"));
        Files.writeString(results.resolve("run-bad.confusion.csv"), "actual/predicted,cat\n");

        StringWriter err = new StringWriter();
        assertEquals(Main.EXIT_DATA, report(results, err));

        assertTrue(err.toString().startsWith("error: run-bad.confusion.csv in " + results + " has 1 rows"),
                err.toString());
        assertTrue(err.toString().contains("write it again with predict --data, or move it out"), err.toString());
    }
}
