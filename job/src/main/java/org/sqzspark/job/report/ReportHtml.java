package org.sqzspark.job.report;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.stream.Collectors;

/**
 * The report as one self-contained HTML page: charts embedded as {@code data:} URIs, the style
 * inline, no script and no reference to anything outside the file, so it opens offline.
 */
public final class ReportHtml {

    private static final String STYLE = """
            body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
                   margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; line-height: 1.45; }
            h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
            table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem; }
            th, td { border: 1px solid #ccc; padding: 0.25rem 0.55rem; text-align: right; vertical-align: top; }
            th { background: #f2f2f2; } td.text, th.text { text-align: left; }
            tr.incomplete td { color: #888; font-style: italic; }
            tr.diverged td { color: #a40000; } tr.chance td { color: #7a5c00; }
            figure { margin: 1.5rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
            figcaption { font-size: 0.9rem; color: #555; }
            .meta, .note { color: #555; font-size: 0.92rem; }
            code { font-size: 0.9em; } dt { font-weight: 600; margin-top: 0.6rem; } dd { margin-left: 1.5rem; }
            """;

    private ReportHtml() {
    }

    /**
     * The page.
     *
     * @param results   the results folder, as given
     * @param runs      every run read from it
     * @param analysis  the figures
     * @param charts    the charts, embedded in order
     * @param writtenAt when the report was written (ISO-8601)
     */
    public static String render(String results, List<RunRecord> runs, ScalingAnalysis analysis,
                                List<ReportCharts.Chart> charts, String writtenAt) {
        return render(results, runs, analysis, ClusterScaling.of(List.of(), 0, 0), charts, writtenAt);
    }

    /** The page, with the cluster's measured and modelled scaling where {@code cluster} has runs. */
    public static String render(String results, List<RunRecord> runs, ScalingAnalysis analysis,
                                ClusterScaling.Analysis cluster, List<ReportCharts.Chart> charts, String writtenAt) {
        StringBuilder h = new StringBuilder(1 << 16);
        String target = Numbers.percent(analysis.targetAccuracy());
        long incomplete = analysis.usedRuns().stream().filter(r -> !r.completed() && !r.diverged()).count();
        long diverged = analysis.usedRuns().stream().filter(RunRecord::diverged).count();
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<link rel=\"icon\" href=\"data:,\">\n")
                .append("<title>Scaling report: SqueezeNet v1.1 on CIFAR-10 against P</title>\n")
                .append("<style>\n").append(STYLE).append("</style>\n</head>\n<body>\n")
                .append("<h1>SqueezeNet v1.1 on CIFAR-10: test accuracy and wall-clock against P</h1>\n")
                .append("<p class=\"meta\">Results folder <code>").append(esc(results)).append("</code>: ")
                .append(runs.size()).append(runs.size() == 1 ? " run, " : " runs, ")
                .append(analysis.recipes().size()).append(analysis.recipes().size() == 1 ? " recipe" : " recipes")
                .append("; ").append(analysis.supersededRuns().size()).append(" superseded by a later run, ")
                .append(incomplete).append(" incomplete, ").append(diverged).append(" diverged. Target accuracy ")
                .append(target)
                .append(". Written ").append(esc(writtenAt)).append(".</p>\n");

        scalingLimits(h, analysis);
        h.append("<h2>Charts</h2>\n");
        if (charts.isEmpty()) {
            h.append("<p class=\"note\">No completed run: nothing to draw.</p>\n");
        }
        for (ReportCharts.Chart c : charts) {
            h.append("<figure>\n<img src=\"data:image/png;base64,")
                    .append(Base64.getEncoder().encodeToString(c.png())).append("\" alt=\"").append(esc(c.title()))
                    .append("\" width=\"").append(ReportCharts.WIDTH).append("\" height=\"")
                    .append(ReportCharts.HEIGHT).append("\" data-file=\"").append(esc(c.file())).append("\">\n")
                    .append("<figcaption>").append(esc(c.caption())).append(" (<code>").append(esc(c.file()))
                    .append("</code>)</figcaption>\n</figure>\n");
        }
        if (charts.stream().noneMatch(c -> c.file().equals("report-time-to-target.png")) && !charts.isEmpty()) {
            h.append("<p class=\"note\">No completed run reached ").append(target)
                    .append(" test accuracy: no time-to-target chart. Choose another with"
                            + " <code>report --target-accuracy</code>.</p>\n");
        }
        tables(h, analysis, target);
        clusterModel(h, cluster);
        definitions(h, target);
        environments(h, analysis.usedRuns());
        superseded(h, analysis);
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    private static void scalingLimits(StringBuilder h, ScalingAnalysis analysis) {
        h.append("<h2>Statistical scaling limit</h2>\n<p>Per recipe, the largest P whose final test accuracy is at"
                + " least the reference P=1 run's less 2 points (0.02). Only completed runs count.</p>\n")
                .append("<table>\n<tr><th class=\"text\">recipe</th><th class=\"text\">reference P=1 run</th>"
                        + "<th>its accuracy</th><th>threshold</th><th>scaling limit</th>"
                        + "<th class=\"text\">P below the threshold</th></tr>\n");
        for (ScalingAnalysis.RecipeResult r : analysis.recipes()) {
            h.append("<tr><td class=\"text\">").append(esc(r.name())).append("</td>");
            if (r.reference().isEmpty()) {
                h.append("<td class=\"text\">none: no completed P=1 run of this recipe or of its plain recipe</td>"
                        + "<td></td><td></td><td>n/a</td><td></td></tr>\n");
                continue;
            }
            RunRecord ref = r.reference().get();
            double threshold = r.accuracyThreshold();
            List<String> below = new ArrayList<>();
            for (ScalingAnalysis.Row row : r.completeRows()) {
                if (!ScalingAnalysis.holdsAccuracy(row.finalAccuracy(), ref.finalTestAccuracy())) {
                    below.add(Integer.toString(row.partitions()));
                }
            }
            h.append("<td class=\"text\">").append(r.ownReference() ? "own: " : "plain recipe's: ")
                    .append("<code>").append(esc(ref.runId())).append("</code></td><td>")
                    .append(Numbers.percent(ref.finalTestAccuracy())).append("</td><td>")
                    .append(Numbers.percent(threshold)).append("</td><td><b>")
                    .append(r.scalingLimit().isPresent() ? "P=" + r.scalingLimit().getAsInt() : "none")
                    .append("</b></td><td class=\"text\">").append(below.isEmpty() ? "none" : String.join(", ", below))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    /** Each cluster run against the cost model's prediction of its step, where the model is calibrated. */
    private static void clusterModel(StringBuilder h, ClusterScaling.Analysis cluster) {
        if (cluster.checks().isEmpty()) {
            return;
        }
        h.append("<h2>Cluster scaling: measured against the cost model</h2>\n<p>Calibrated on the 1- and 2-node runs at ")
                .append(Numbers.compact(cluster.calibrationMbit())).append(" Mbit/s (marked); every other run is a"
                        + " prediction. Bytes are a node's link's, per synchronous step.</p>\n<table>\n<thead><tr>"
                        + "<th>training master</th><th>link Mbit/s</th><th>nodes</th><th>P</th>"
                        + "<th>node sent MB/step</th><th>node received MB/step</th><th>step s, measured</th>"
                        + "<th>step s, model</th><th>error</th></tr></thead>\n<tbody>\n");
        for (ClusterModel.Check c : cluster.checks()) {
            ClusterModel.Measured m = c.run();
            h.append("<tr><td>").append(esc(ClusterModel.label(m.master()))).append(c.fitted() ? " (calibration)" : "")
                    .append("</td><td>").append(Numbers.compact(m.linkMbit())).append("</td><td>").append(m.nodes())
                    .append("</td><td>").append(m.nodes() * m.replicasPerNode()).append("</td><td>")
                    .append(String.format(java.util.Locale.ROOT, "%.2f", m.nodeSent() / 1e6)).append("</td><td>")
                    .append(String.format(java.util.Locale.ROOT, "%.2f", m.nodeReceived() / 1e6)).append("</td><td>")
                    .append(ClusterModel.format(m.stepSeconds())).append("</td><td>")
                    .append(ClusterModel.format(c.predicted())).append("</td><td>")
                    .append(String.format(java.util.Locale.ROOT, "%+.0f%%", 100 * c.error())).append("</td></tr>\n");
        }
        h.append("</tbody>\n</table>\n");
    }

    private static void tables(StringBuilder h, ScalingAnalysis analysis, String target) {
        h.append("<h2>Runs per recipe</h2>\n<p>One row per P: the latest completed run of the recipe at that P, or,"
                + " if none completed, its latest run, in grey (red if it diverged) and left out of speedup,"
                + " efficiency, scaling limit and charts.</p>\n");
        for (ScalingAnalysis.RecipeResult r : analysis.recipes()) {
            h.append("<h3>").append(esc(r.name())).append("</h3>\n<p class=\"note\">")
                    .append(esc(r.recipe().description())).append(".</p>\n")
                    .append("<table class=\"runs\">\n<tr><th>P</th><th>images per replica</th><th>global batch</th>"
                            + "<th>steps per epoch</th><th>peak lr</th><th>time (s)</th><th>speedup</th>"
                            + "<th>efficiency</th><th>test accuracy</th><th>time to ")
                    .append(target).append(" (s)</th><th>images/s</th><th class=\"text\">run</th></tr>\n");
            for (ScalingAnalysis.Row row : r.rows()) {
                RunRecord run = row.run();
                h.append(row.diverged() ? "<tr class=\"diverged\">" : row.atChanceLevel() ? "<tr class=\"chance\">"
                                : row.complete() ? "<tr>" : "<tr class=\"incomplete\">")
                        .append(td(Integer.toString(row.partitions())))
                        .append(td(Numbers.grouped(run.imagesPerReplica())))
                        .append(td(Integer.toString(run.globalBatch())))
                        .append(td(Integer.toString(run.stepsPerEpoch())))
                        .append(td(Numbers.compact(run.peakLearningRate())))
                        .append(td(Numbers.fixed(row.time(), 1)))
                        .append(td(optional(row.speedup(), 2)))
                        .append(td(optional(row.efficiency(), 2)))
                        .append(td(row.diverged() ? "diverged" : run.epochs().isEmpty() ? ""
                                : Numbers.percent(row.finalAccuracy())))
                        .append(td(row.diverged() ? "" : row.timeToTarget().isPresent()
                                ? Numbers.fixed(row.timeToTarget().getAsDouble(), 1) : "not reached"))
                        .append(td(Double.isFinite(row.throughput()) ? Numbers.fixed(row.throughput(), 1) : ""))
                        .append("<td class=\"text\"><code>").append(esc(run.runId())).append("</code>");
                if (row.diverged()) {
                    h.append(" diverged at epoch ").append(run.epochs().size()).append(" of ")
                            .append(run.recipe().epochs()).append(": ").append(Double.isFinite(run.finalTrainLoss())
                                    ? "parameters NaN or infinite" : "training loss " + run.finalTrainLoss());
                } else if (!row.complete()) {
                    h.append(" incomplete: ").append(run.epochs().size()).append(" of ").append(run.recipe().epochs())
                            .append(" epochs");
                } else if (row.atChanceLevel()) {
                    h.append(" did not learn (chance level)");
                }
                if (!row.superseded().isEmpty()) {
                    h.append(" (latest of ").append(row.superseded().size() + 1).append(")");
                }
                h.append("</td></tr>\n");
            }
            h.append("</table>\n");
        }
    }

    private static void definitions(StringBuilder h, String target) {
        h.append("""
                <h2>Definitions</h2>
                <dl>
                <dt>recipe</dt><dd>Runs that share every setting but P: training master (and averaging frequency or
                encoding threshold), optimizer, learning rate before scaling, momentum, L2, dropout, per-replica batch
                (or the fixed global batch), learning-rate scaling, warm-up epochs, epochs and training images. The
                seed is not part of it. The plain recipe scales nothing: learning-rate scaling none, no warm-up,
                per-replica batch fixed.</dd>
                <dt>run used for a recipe and P</dt><dd>The latest completed run (by start time); the others are
                listed under <i>Runs not used</i>. Without a completed run, the latest incomplete run is shown in the
                table, in grey, and left out of speedup, efficiency, the scaling limit and the charts.</dd>
                <dt>time(P)</dt><dd>The run's training seconds: the sum of its epochs' fit seconds (training and its
                communication; loading, partitioning, setup and evaluation excluded).</dd>
                <dt>reference P=1 run</dt><dd>The recipe's own completed P=1 run; without one, the completed P=1 run
                of the plain recipe with the same other settings (with a fixed global batch G: the plain recipe at
                per-replica batch G, else the only plain recipe of those settings); without either, none.</dd>
                <dt>speedup(P)</dt><dd>time(1) / time(P), time(1) of the reference P=1 run; blank without one.</dd>
                <dt>efficiency(P)</dt><dd>speedup(P) / P.</dd>
                <dt>test accuracy</dt><dd>Accuracy on the test set after the run's last finished epoch.</dd>
                <dt>diverged</dt><dd>The run's training loss or parameters turned NaN or infinite: it stopped at the
                end of that epoch. Its numbers are left out of every figure and chart; the usual remedy is a lower
                learning rate (or <code>--optimizer sgd</code>).</dd>
                <dt>did not learn (chance level)</dt><dd>A completed run whose final test accuracy is within 2 points
                of chance (10%) and whose training loss is within 0.05 of ln 10 = 2.3026, the loss of a uniform
                guess: the network died but stayed finite. A result, not a fault; it is drawn like any other.</dd>
                <dt>time to\s""").append(target).append("""
                </dt><dd>The sum of fit seconds of the epochs up to and including the first whose test accuracy is at
                least the target; "not reached" if none is (set the target with
                <code>report --target-accuracy</code>).</dd>
                <dt>images/s (throughput)</dt><dd>Training images &times; finished epochs / training seconds, Spark's
                overhead included.</dd>
                <dt>statistical scaling limit</dt><dd>The largest P whose final test accuracy is at least the reference
                P=1 run's accuracy less 2 points (0.02); only completed runs count.</dd>
                <dt>peak lr</dt><dd>The learning rate after scaling with the global batch (and after the warm-up).</dd>
                <dt>images per replica, global batch, steps per epoch</dt><dd>As the run recorded them: training images
                in the largest partition, images per synchronous step over all replicas, and steps per epoch.</dd>
                </dl>
                """);
    }

    private static void environments(StringBuilder h, List<RunRecord> runs) {
        Map<RunRecord.Environment, List<Integer>> byEnv = new LinkedHashMap<>();
        for (RunRecord r : runs) {
            RunRecord.Environment e = r.environment();
            RunRecord.Environment key = new RunRecord.Environment(e.master(), e.executors(), 0, e.hosts(),
                    e.osArch(), e.nd4jPlatform(), e.javaVersion(), e.sparkVersion(), e.dl4jVersion(), e.driverCores());
            byEnv.computeIfAbsent(key, k -> new ArrayList<>()).add(r.partitions());
        }
        h.append("<h2>Environment</h2>\n<table>\n<tr><th class=\"text\">Spark master</th><th>executors</th>"
                + "<th class=\"text\">hosts</th><th class=\"text\">os.arch</th><th class=\"text\">ND4J platform</th>"
                + "<th>driver cores</th><th class=\"text\">Java, Spark, DL4J</th><th class=\"text\">runs</th></tr>\n");
        byEnv.forEach((e, ps) -> h.append("<tr><td class=\"text\"><code>").append(esc(e.master()))
                .append("</code></td>").append(td(Integer.toString(e.executors())))
                .append("<td class=\"text\">").append(esc(String.join(", ", e.hosts()))).append("</td>")
                .append("<td class=\"text\">").append(esc(e.osArch())).append("</td>")
                .append("<td class=\"text\">").append(esc(e.nd4jPlatform())).append("</td>")
                .append(td(Integer.toString(e.driverCores())))
                .append("<td class=\"text\">").append(esc(e.javaVersion() + ", " + e.sparkVersion() + ", "
                        + e.dl4jVersion())).append("</td>")
                .append("<td class=\"text\">").append(ps.size()).append(ps.size() == 1 ? " run" : " runs")
                .append(", P = ").append(ps.stream().distinct().sorted().map(String::valueOf)
                        .collect(Collectors.joining(", "))).append("</td></tr>\n"));
        h.append("</table>\n");
    }

    private static void superseded(StringBuilder h, ScalingAnalysis analysis) {
        List<RunRecord> old = analysis.supersededRuns();
        if (old.isEmpty()) {
            return;
        }
        h.append("<h2>Runs not used</h2>\n<p>Superseded by a later (or a completed) run of the same recipe and"
                + " P:</p>\n<ul>\n");
        for (RunRecord r : old) {
            h.append("<li><code>").append(esc(r.file())).append("</code>: P=").append(r.partitions())
                    .append(", started ").append(esc(r.startedAt()))
                    .append(r.diverged() ? ", diverged" : r.completed() ? "" : ", incomplete")
                    .append("</li>\n");
        }
        h.append("</ul>\n");
    }

    private static String optional(OptionalDouble v, int decimals) {
        return v.isPresent() ? Numbers.fixed(v.getAsDouble(), decimals) : "";
    }

    private static String td(String text) {
        return "<td>" + esc(text) + "</td>";
    }

    /** HTML-escapes text for element content and double-quoted attributes. */
    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
