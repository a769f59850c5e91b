package org.sqzspark.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.knowm.xchart.XYChart;
import org.sqzspark.job.cluster.HadoopTimeouts;
import org.sqzspark.job.report.ClusterModel;
import org.sqzspark.job.report.ClusterScaling;
import org.sqzspark.job.report.ReportCharts;
import org.sqzspark.job.report.ResultsFolder;
import org.sqzspark.job.report.RunRecord;
import org.sqzspark.job.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * The {@code scaling} command: epoch time, speedup and efficiency of a cluster before it is built or
 * grown, from the cost model ({@link ClusterModel}) calibrated on measured runs, without Spark.
 */
@Command(name = "scaling", mixinStandardHelpOptions = true,
        description = "Predict epoch time, speedup and parallel efficiency on 1..N nodes for each training"
                + " master, from a cost model calibrated on measured cluster runs (the project's own, measured on"
                + " emulated nodes, unless --results gives yours), with your node's step time and link rate."
                + " Prints a table; with --out also writes it as CSV and charts.")
final class ScalingCommand implements Callable<Integer> {

    /** The calibration shipped with the job: the project's emulated-cluster measurements. */
    static final String SHIPPED_CALIBRATION = "/cluster-calibration.json";

    @Option(names = "--step-seconds", paramLabel = "S", defaultValue = "" + ClusterModel.PI4_STEP_SECONDS,
            description = "One replica's training step (batch 32) alone on one of your nodes, in seconds: measure"
                    + " it with `submit/bench.sh --part steps` on the node (32 / train_img_per_s). Default"
                    + " ${DEFAULT-VALUE}, an estimate for a Raspberry Pi 4 (see the README).")
    double stepSeconds;

    @Option(names = "--link-mbit", paramLabel = "MBIT", defaultValue = "1000",
            description = "Each node's link rate, Mbit/s. Default: ${DEFAULT-VALUE} (a Pi 4's Gigabit Ethernet).")
    double linkMbit;

    @Option(names = "--head-link-mbit", paramLabel = "MBIT",
            description = "The driver's (head node's) link rate, Mbit/s. Default: --link-mbit.")
    Double headLinkMbit;

    @Option(names = "--nodes", paramLabel = "N", defaultValue = "24",
            description = "Largest cluster: the table covers 1..N nodes. Default: ${DEFAULT-VALUE}.")
    int nodes;

    @Option(names = "--replicas-per-node", paramLabel = "R", defaultValue = "2",
            description = "Model replicas on each node (P = nodes x R). Default: ${DEFAULT-VALUE}, as the study's"
                    + " two MPI processes per Pi.")
    int replicasPerNode;

    @Option(names = "--images", paramLabel = "N", defaultValue = "50000",
            description = "Training images per epoch. Default: ${DEFAULT-VALUE}.")
    int images;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "" + TrainConfig.DEFAULT_BATCH,
            description = "Minibatch per replica (the step time must be measured at it). Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--results", paramLabel = "URI",
            description = "Calibrate on these cluster runs instead (a results folder with runs on 1 and 2 nodes"
                    + " at one link rate, e.g. submit/emulated-scaling.sh's); needs --calibration-step-seconds.")
    String results;

    @Option(names = "--calibration-step-seconds", paramLabel = "S",
            description = "With --results: one replica's step alone on one of those runs' nodes, in seconds.")
    Double calibrationStepSeconds;

    @Option(names = "--save-calibration", paramLabel = "FILE",
            description = "With --results: also write the calibration as JSON to FILE (the job ships the project's"
                    + " own as " + SHIPPED_CALIBRATION + ").")
    java.nio.file.Path saveCalibration;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Also write scaling.csv and the charts scaling-speedup.png and scaling-efficiency.png here.")
    java.nio.file.Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (!(stepSeconds > 0) || !(linkMbit > 0) || (headLinkMbit != null && !(headLinkMbit > 0)) || nodes < 1
                || replicasPerNode < 1 || images < 1 || batch < 1) {
            throw new IllegalArgumentException("--step-seconds, --link-mbit and --head-link-mbit must be positive,"
                    + " --nodes, --replicas-per-node, --images and --batch at least 1");
        }
        if (saveCalibration != null && results == null) {
            throw new IllegalArgumentException("--save-calibration " + saveCalibration + " saves what --results"
                    + " calibrates: give --results and --calibration-step-seconds too");
        }
        PrintWriter o = spec.commandLine().getOut();
        List<ClusterModel.Calibration> calibrations;
        String source;
        if (results != null) {
            if (calibrationStepSeconds == null || !(calibrationStepSeconds > 0)) {
                throw new IllegalArgumentException("--results " + results + " needs --calibration-step-seconds S:"
                        + " one replica's step alone on one of its nodes (bench on the node)");
            }
            List<RunRecord> runs = ResultsFolder.readRuns(results, HadoopTimeouts.applyTo(new Configuration()));
            ClusterScaling.Analysis analysis = ClusterScaling.of(runs, 0, calibrationStepSeconds);
            if (analysis.calibrations().isEmpty()) {
                throw new IllegalArgumentException("--results " + results + " has no completed cluster runs on 1 and"
                        + " 2 nodes at one link rate (with network traffic and spark.sqzspark.linkMbit recorded):"
                        + " measure them with submit/emulated-scaling.sh or on your cluster");
            }
            calibrations = analysis.calibrations();
            source = results;
            printChecks(o, analysis);
            if (saveCalibration != null) {
                java.util.Map<String, Object> saved = new java.util.LinkedHashMap<>();
                saved.put("source", "calibrated on " + results + " at " + compact(analysis.calibrationMbit())
                        + " Mbit/s; worst error on the runs not calibrated on: "
                        + String.format(Locale.ROOT, "%.0f%%", 100 * analysis.worstUnfittedError()));
                saved.put("calibrations", calibrations);
                java.nio.file.Files.writeString(saveCalibration, new ObjectMapper().writerWithDefaultPrettyPrinter()
                        .writeValueAsString(saved) + "\n", StandardCharsets.UTF_8);
            }
        } else {
            calibrations = shipped();
            source = "the project's emulated-cluster measurements (docs/scaling)";
        }
        double head = headLinkMbit != null ? headLinkMbit : linkMbit;
        o.printf(Locale.ROOT, "Cost model calibrated on %s; predicted for nodes of %.3f s per replica step (batch %d),"
                        + " %s Mbit/s links (head %s), %d replica(s) per node, %d images per epoch%n", source,
                stepSeconds, batch, compact(linkMbit), compact(head), replicasPerNode, images);
        List<String[]> rows = new ArrayList<>();
        String[] header = {"nodes", "P", "master", "step_s", "compute_s", "overhead_s", "wire_s", "epoch_s",
                "speedup", "efficiency"};
        o.printf(Locale.ROOT, "%5s %4s  %-19s %8s %9s %10s %8s %9s %8s %10s%n", (Object[]) header);
        for (ClusterModel.Calibration c : calibrations) {
            double one = epochSeconds(c, 1, head);
            for (int n = 1; n <= nodes; n++) {
                ClusterModel.Step s = c.step(cluster(n, head));
                double epoch = epochSeconds(c, n, head);
                double speedup = one / epoch;
                String[] row = {Integer.toString(n), Integer.toString(n * replicasPerNode), c.master(),
                        f(s.total()), f(s.compute()), f(s.overhead()), f(s.wire()), String.format(Locale.ROOT, "%.0f", epoch),
                        String.format(Locale.ROOT, "%.2f", speedup), String.format(Locale.ROOT, "%.2f", speedup / n)};
                rows.add(row);
                o.printf(Locale.ROOT, "%5s %4s  %-19s %8s %9s %10s %8s %9s %8s %10s%n", (Object[]) row);
            }
        }
        o.println("The study (MPI, 24 Raspberry Pi 4 nodes x 2 processes): over 11x faster at 48 processes than at 2.");
        o.flush();
        if (out != null) {
            write(calibrations, head, header, rows);
            o.println("Written: " + out.resolve("scaling.csv") + ", scaling-speedup.png, scaling-efficiency.png");
            o.flush();
        }
        return 0;
    }

    private double epochSeconds(ClusterModel.Calibration c, int n, double head) {
        ClusterModel.Cluster cluster = cluster(n, head);
        return c.stepSeconds(cluster) * cluster.stepsPerEpoch();
    }

    private ClusterModel.Cluster cluster(int n, double head) {
        return new ClusterModel.Cluster(n, replicasPerNode, linkMbit, head, stepSeconds,
                ClusterModel.stepsPerEpoch(images, n * replicasPerNode, batch));
    }

    private static void printChecks(PrintWriter o, ClusterScaling.Analysis analysis) {
        o.println("Measured runs against the model (calibrated on 1 and 2 nodes at "
                + compact(analysis.calibrationMbit()) + " Mbit/s):");
        o.printf(Locale.ROOT, "  %-19s %8s %5s %14s %12s %7s%n", "master", "Mbit/s", "nodes", "step s measured",
                "step s model", "error");
        for (ClusterModel.Check c : analysis.checks()) {
            o.printf(Locale.ROOT, "  %-19s %8s %5d %14.3f %12.3f %+6.0f%%%s%n", c.run().master(),
                    compact(c.run().linkMbit()), c.run().nodes(), c.run().stepSeconds(), c.predicted(),
                    100 * c.error(), c.fitted() ? "  (calibration)" : "");
        }
    }

    /** The calibration shipped in the jar. */
    static List<ClusterModel.Calibration> shipped() {
        try (InputStream in = ScalingCommand.class.getResourceAsStream(SHIPPED_CALIBRATION)) {
            if (in == null) {
                throw new IllegalStateException("the job jar has no " + SHIPPED_CALIBRATION + ": give --results and"
                        + " --calibration-step-seconds");
            }
            JsonNode root = new ObjectMapper().readTree(in);
            List<ClusterModel.Calibration> list = new ArrayList<>();
            for (JsonNode c : root.path("calibrations")) {
                list.add(new ObjectMapper().treeToValue(c, ClusterModel.Calibration.class));
            }
            return list;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + SHIPPED_CALIBRATION + " from the job jar", e);
        }
    }

    private void write(List<ClusterModel.Calibration> calibrations, double head, String[] header, List<String[]> rows)
            throws IOException {
        java.nio.file.Files.createDirectories(out);
        StringBuilder csv = new StringBuilder(String.join(",", header)).append('\n');
        rows.forEach(r -> csv.append(String.join(",", r)).append('\n'));
        java.nio.file.Files.writeString(out.resolve("scaling.csv"), csv, StandardCharsets.UTF_8);
        for (boolean speedup : new boolean[] {true, false}) {
            XYChart chart = ReportCharts.lineChart(speedup ? "Predicted speedup vs P (log-log)"
                            : "Predicted parallel efficiency vs P",
                    "P, model replicas (" + replicasPerNode + " per node; log2 scale)",
                    speedup ? "speedup, epoch time(1 node) / epoch time(N nodes) (log2 scale)"
                            : "efficiency, speedup / nodes",
                    speedup);
            int i = 0;
            for (ClusterModel.Calibration c : calibrations) {
                double one = epochSeconds(c, 1, head);
                List<Double> xs = new ArrayList<>();
                List<Double> ys = new ArrayList<>();
                for (int n = 1; n <= nodes; n++) {
                    double s = one / epochSeconds(c, n, head);
                    xs.add(ReportCharts.log2(n * replicasPerNode));
                    ys.add(speedup ? ReportCharts.log2(s) : s / n);
                }
                ReportCharts.addLine(chart, ClusterModel.label(c.master()) + ", " + compact(linkMbit) + " Mbit/s",
                        xs, ys, i++);
            }
            if (speedup) {
                List<Double> xs = new ArrayList<>();
                List<Double> ys = new ArrayList<>();
                for (int n = 1; n <= nodes; n++) {
                    xs.add(ReportCharts.log2(n * replicasPerNode));
                    ys.add(ReportCharts.log2(n));
                }
                ReportCharts.addReference(chart, "ideal: speedup = nodes", xs, ys);
                if (nodes >= 24 && replicasPerNode == 2) {
                    ReportCharts.addPoint(chart, "the study: 11x at P = 48 (MPI, 24 Pi 4)", ReportCharts.log2(48),
                            ReportCharts.log2(11));
                }
            }
            java.nio.file.Files.write(out.resolve(speedup ? "scaling-speedup.png" : "scaling-efficiency.png"),
                    ReportCharts.encode(chart));
        }
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }

    private static String compact(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
