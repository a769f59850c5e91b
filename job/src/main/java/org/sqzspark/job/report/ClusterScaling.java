package org.sqzspark.job.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Strong scaling on a cluster, measured and modelled: the runs that recorded their nodes' network
 * traffic and link rate (one executor per node), the {@link ClusterModel} calibrated on them, and the
 * charts of speedup (log-log) and efficiency against P with the measured points and the model's curve.
 */
public final class ClusterScaling {

    /** Speedup chart's file. */
    public static final String SPEEDUP_PNG = "report-cluster-speedup.png";
    /** Efficiency chart's file. */
    public static final String EFFICIENCY_PNG = "report-cluster-efficiency.png";

    /**
     * The runs and the model.
     *
     * @param runs            measured cluster runs, completed
     * @param calibrationMbit link rate the model was calibrated at
     * @param calibrations    one per master that had runs on 1 and 2 nodes at that rate
     * @param checks          every run against the model's prediction
     */
    public record Analysis(List<ClusterModel.Measured> runs, double calibrationMbit,
                           List<ClusterModel.Calibration> calibrations, List<ClusterModel.Check> checks) {

        /** Largest error of a prediction of a run the model was not calibrated on, or NaN if none. */
        public double worstUnfittedError() {
            return checks.stream().filter(c -> !c.fitted()).mapToDouble(c -> Math.abs(c.error())).max()
                    .orElse(Double.NaN);
        }
    }

    private ClusterScaling() {
    }

    /**
     * The cluster runs among {@code runs}, and the model calibrated on those at {@code calibrationMbit}
     * (0: the fastest link among them) with one replica's measured step {@code stepSeconds} (0: unknown).
     */
    public static Analysis of(List<RunRecord> runs, double calibrationMbit, double stepSeconds) {
        List<ClusterModel.Measured> measured = new ArrayList<>();
        for (RunRecord run : runs) {
            measured(run).ifPresent(measured::add);
        }
        double rate = calibrationMbit > 0 ? calibrationMbit
                : measured.stream().mapToDouble(ClusterModel.Measured::linkMbit).max().orElse(0);
        List<ClusterModel.Calibration> calibrations = new ArrayList<>();
        for (String master : List.of(ClusterModel.AVERAGING, ClusterModel.SHARED)) {
            ClusterModel.calibrate(measured, master, rate, stepSeconds).ifPresent(calibrations::add);
        }
        return new Analysis(List.copyOf(measured), rate, List.copyOf(calibrations),
                ClusterModel.check(measured, calibrations, rate));
    }

    /**
     * A completed cluster run with traffic and a link rate, as the model reads it: step time and bytes
     * from its warm epochs, those after the first in which every executor had trained in the epoch
     * before (an executor's first epoch pays for fetching the job's jar, the network and its state,
     * and for a cold JIT; on a slow link an executor can join one epoch late). Without one, its
     * epochs after the first, or its only epoch.
     */
    static Optional<ClusterModel.Measured> measured(RunRecord run) {
        RunRecord.Environment env = run.environment();
        List<RunRecord.Epoch> epochs = run.epochs();
        if (!run.completed() || env.linkMbit() <= 0 || env.executors() < 1 || run.stepsPerEpoch() < 1
                || epochs.isEmpty() || epochs.stream().anyMatch(e -> e.traffic() == null)
                || run.partitions() % env.executors() != 0) {
            return Optional.empty();
        }
        List<RunRecord.Epoch> timed = warm(epochs);
        double step = timed.stream().mapToDouble(RunRecord.Epoch::fitSeconds).average().orElseThrow()
                / run.stepsPerEpoch();
        return Optional.of(new ClusterModel.Measured(run.recipe().trainingMaster(), env.executors(),
                run.partitions() / env.executors(), env.linkMbit(), step,
                mean(timed, t -> t.nodeSent()), mean(timed, t -> t.nodeReceived()),
                mean(timed, t -> t.headSent()), mean(timed, t -> t.headReceived()), run.stepsPerEpoch(), run.file()));
    }

    /** The epochs after the first whose executors all trained in the epoch before, else all after the first. */
    static List<RunRecord.Epoch> warm(List<RunRecord.Epoch> epochs) {
        if (epochs.size() < 2) {
            return epochs;
        }
        List<RunRecord.Epoch> warm = new ArrayList<>();
        for (int i = 1; i < epochs.size(); i++) {
            if (epochs.get(i - 1).traffic().executors().containsAll(epochs.get(i).traffic().executors())) {
                warm.add(epochs.get(i));
            }
        }
        return warm.isEmpty() ? epochs.subList(1, epochs.size()) : warm;
    }

    private static double mean(List<RunRecord.Epoch> epochs, java.util.function.ToDoubleFunction<RunRecord.Traffic> f) {
        return epochs.stream().mapToDouble(e -> f.applyAsDouble(e.traffic())).average().orElse(Double.NaN);
    }

    /**
     * Speedup (log-log) and efficiency against P of the measured runs, one series per master and link
     * rate, each with the model's curve; none without runs on at least two node counts.
     */
    public static List<ReportCharts.Chart> charts(Analysis analysis) {
        List<ReportCharts.Chart> charts = new ArrayList<>();
        if (analysis.runs().stream().map(ClusterModel.Measured::nodes).distinct().count() < 2) {
            return charts;
        }
        charts.add(chart(analysis, true));
        charts.add(chart(analysis, false));
        return charts;
    }

    private static ReportCharts.Chart chart(Analysis analysis, boolean speedup) {
        String title = speedup ? "Cluster speedup vs P (log-log)" : "Cluster parallel efficiency vs P";
        XYChart chart = ReportCharts.lineChart(title, "P, model replicas, one node each (log2 scale)", speedup
                ? "speedup, epoch time(1 node) / epoch time(P) (log2 scale)" : "efficiency, speedup / P", speedup);
        int index = 0;
        int series = 0;
        TreeSet<Integer> allNodes = new TreeSet<>();
        analysis.runs().forEach(m -> allNodes.add(m.nodes()));
        for (String master : List.of(ClusterModel.AVERAGING, ClusterModel.SHARED)) {
            TreeSet<Double> rates = new TreeSet<>();
            analysis.runs().stream().filter(m -> m.master().equals(master)).forEach(m -> rates.add(m.linkMbit()));
            for (double rate : rates.descendingSet()) {
                List<ClusterModel.Measured> line = analysis.runs().stream()
                        .filter(m -> m.master().equals(master) && m.linkMbit() == rate)
                        .sorted(java.util.Comparator.comparingInt(ClusterModel.Measured::nodes)).toList();
                Optional<ClusterModel.Measured> base = line.stream().filter(m -> m.nodes() == 1).findFirst();
                if (base.isEmpty() || line.size() < 2) {
                    continue;
                }
                String name = ClusterModel.label(master) + ", " + Numbers.compact(rate) + " Mbit/s";
                java.awt.Color color = ReportCharts.SERIES_COLORS.get(index % ReportCharts.SERIES_COLORS.size());
                List<Double> xs = new ArrayList<>();
                List<Double> ys = new ArrayList<>();
                for (ClusterModel.Measured m : line) {
                    double s = epochRatio(base.get(), m);
                    xs.add(ReportCharts.log2(m.nodes() * m.replicasPerNode()));
                    ys.add(speedup ? ReportCharts.log2(s) : s / m.nodes());
                }
                XYSeries measured = chart.addSeries(name + ", measured", xs, ys);
                measured.setLineColor(color);
                measured.setMarkerColor(color);
                measured.setMarker(SeriesMarkers.CIRCLE);
                measured.setLineStyle(SeriesLines.NONE);
                series++;
                Optional<ClusterModel.Calibration> cal = analysis.calibrations().stream()
                        .filter(c -> c.master().equals(master)).findFirst();
                if (cal.isPresent()) {
                    int r = base.get().replicasPerNode();
                    List<Double> mx = new ArrayList<>();
                    List<Double> my = new ArrayList<>();
                    // the same images on every N: an epoch of N nodes has 1/N of one node's steps
                    int steps1 = base.get().stepsPerEpoch();
                    double t1 = cal.get().stepSeconds(new ClusterModel.Cluster(1, r, rate, rate,
                            cal.get().stepSeconds(), steps1));
                    for (int n = 1; n <= allNodes.last(); n++) {
                        int steps = Math.max(1, (int) Math.ceil((double) steps1 / n));
                        double s = t1 * steps1 / (cal.get().stepSeconds(new ClusterModel.Cluster(n, r, rate, rate,
                                cal.get().stepSeconds(), steps)) * steps);
                        mx.add(ReportCharts.log2(n * r));
                        my.add(speedup ? ReportCharts.log2(s) : s / n);
                    }
                    XYSeries model = chart.addSeries(name + ", model", mx, my);
                    model.setLineColor(color);
                    model.setMarker(SeriesMarkers.NONE);
                    model.setLineStyle(SeriesLines.DASH_DASH);
                }
                index++;
            }
        }
        if (speedup) {
            List<Double> xs = new ArrayList<>();
            for (int n : allNodes) {
                xs.add(ReportCharts.log2(n));
            }
            XYSeries ideal = chart.addSeries("ideal: speedup = P", xs, xs);
            ideal.setLineColor(new java.awt.Color(150, 150, 150));
            ideal.setMarker(SeriesMarkers.NONE);
            ideal.setLineStyle(SeriesLines.DOT_DOT);
        }
        String caption = speedup
                ? "Epoch time on one node over epoch time on N nodes (the same images and epochs), measured"
                + " (points) and as the cost model predicts it (dashed; calibrated on the 1- and 2-node runs at "
                + Numbers.compact(analysis.calibrationMbit()) + " Mbit/s). Both axes log2: ideal scaling is the dotted"
                + " diagonal."
                : "Speedup over the nodes used: 1 is ideal.";
        return new ReportCharts.Chart(speedup ? SPEEDUP_PNG : EFFICIENCY_PNG, title, caption, series,
                ReportCharts.encode(chart));
    }

    /** Epoch time of {@code base} (one node) over that of {@code m}: both train the same images. */
    private static double epochRatio(ClusterModel.Measured base, ClusterModel.Measured m) {
        return base.stepSeconds() * base.stepsPerEpoch() / (m.stepSeconds() * m.stepsPerEpoch());
    }
}
