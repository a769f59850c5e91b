package org.sqzspark.job.report;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.sqzspark.job.results.ResultStore;

/**
 * Writes the scaling report of a results folder: {@value #HTML_NAME}, self-contained, and each chart as a
 * PNG ({@code report-*.png}) beside it; the confusion matrices that {@code predict --data} wrote into the
 * folder are charts too. The runs are read and the output folder checked before anything
 * is drawn, everything is drawn before the first file is written, and every file is written to a
 * temporary name and renamed: bad input leaves the folders as they were.
 */
public final class Report {

    public static final String HTML_NAME = "report.html";
    /** Test accuracy of the time-to-target figures unless another is asked for. */
    public static final double DEFAULT_TARGET_ACCURACY = 0.5;

    /**
     * What was written.
     *
     * @param html    location of the report page
     * @param runs    runs read
     * @param recipes recipes found
     * @param charts  chart files written
     */
    public record Written(String html, int runs, int recipes, List<String> charts) {
    }

    private Report() {
    }

    /**
     * Reads the runs of {@code results} and writes the report into {@code out}.
     *
     * @param results        results folder: local path or Hadoop file system URI
     * @param out            folder for the report, created if missing; may be {@code results}
     * @param targetAccuracy test accuracy of the time-to-target figures, in (0, 1]
     * @param hadoopConf     Hadoop configuration for the file systems
     * @throws IllegalArgumentException naming the option when the target is out of range or {@code out}
     *                                  cannot be written
     * @throws org.sqzspark.data.DataInputException naming the folder or file when the results cannot be read
     */
    public static Written write(String results, String out, double targetAccuracy, Configuration hadoopConf) {
        if (!(targetAccuracy > 0 && targetAccuracy <= 1)) {
            throw new IllegalArgumentException("--target-accuracy must be in (0, 1], was " + targetAccuracy
                    + ": give a fraction of the test set, e.g. 0.5 for 50%");
        }
        List<RunRecord> runs = ResultsFolder.readRuns(results, hadoopConf);
        ResultStore store = ResultStore.open(out, hadoopConf);
        ScalingAnalysis analysis = ScalingAnalysis.of(runs, targetAccuracy);
        ClusterScaling.Analysis cluster = ClusterScaling.of(runs, 0, 0);
        List<ReportCharts.Chart> charts = new ArrayList<>(ReportCharts.draw(analysis));
        charts.addAll(ClusterScaling.charts(cluster));
        for (ResultsFolder.Confusion c : ResultsFolder.readConfusions(results, hadoopConf)) {
            charts.add(ConfusionChart.draw(c.file(), c.matrix()));
        }
        String html = ReportHtml.render(results, runs, analysis, cluster, charts,
                Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        for (ReportCharts.Chart c : charts) {
            store.write(c.file(), s -> s.write(c.png()));
        }
        store.write(HTML_NAME, s -> s.write(html.getBytes(StandardCharsets.UTF_8)));
        String folder = store.location();
        String location = (folder.endsWith("/") ? folder : folder + "/") + HTML_NAME;
        return new Written(location, runs.size(), analysis.recipes().size(),
                charts.stream().map(ReportCharts.Chart::file).toList());
    }
}
