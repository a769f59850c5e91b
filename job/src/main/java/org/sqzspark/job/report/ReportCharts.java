package org.sqzspark.job.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's charts, drawn headless with XChart into PNG: figures against P on a log2 axis, one
 * curve per recipe, and test accuracy per epoch, one line per P, for each recipe. Only completed
 * runs are drawn.
 */
public final class ReportCharts {

    public static final int WIDTH = 900;
    public static final int HEIGHT = 540;
    /**
     * Colours of the data series, in order (Okabe and Ito's colour-blind-safe palette); reference lines
     * (ideal, chance) are grey and dashed.
     */
    public static final List<Color> SERIES_COLORS = List.of(
            new Color(0, 114, 178), new Color(213, 94, 0), new Color(0, 158, 115), new Color(204, 121, 167),
            new Color(230, 159, 0), new Color(86, 180, 233), new Color(0, 0, 0), new Color(240, 228, 66));
    private static final List<Marker> MARKERS = List.of(SeriesMarkers.CIRCLE, SeriesMarkers.DIAMOND,
            SeriesMarkers.SQUARE, SeriesMarkers.TRIANGLE_UP, SeriesMarkers.TRIANGLE_DOWN, SeriesMarkers.CROSS);
    static final Color REFERENCE_COLOR = new Color(150, 150, 150);
    /** Chance level of ten balanced classes, in percent. */
    static final double CHANCE_PERCENT = 10;
    static final String P_AXIS = "P, model replicas (log2 scale)";

    static {
        // drawn off screen: no display is needed, or present, on a cluster's head node or in CI
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /**
     * One chart.
     *
     * @param file    file name of the PNG
     * @param title   the chart's title
     * @param caption what it shows, for the report
     * @param series  data series drawn, reference lines not counted
     * @param png     the image
     */
    public record Chart(String file, String title, String caption, int series, byte[] png) {
    }

    /** A grey dashed line for comparison, y as a function of P. */
    private record Reference(String name, DoubleUnaryOperator yOfP) {
    }

    private ReportCharts() {
    }

    /** Every chart of the analysis, in the report's order; a chart without data is left out. */
    public static List<Chart> draw(ScalingAnalysis analysis) {
        List<ScalingAnalysis.RecipeResult> recipes = analysis.recipes();
        Reference chance = new Reference("chance (10 classes)", p -> CHANCE_PERCENT);
        String target = Numbers.percent(analysis.targetAccuracy());
        List<Chart> charts = new ArrayList<>();
        add(charts, vsP("report-time-per-epoch.png", "Wall-clock per epoch vs P", "fit seconds per epoch (s)",
                "Mean fit seconds per epoch: training and its communication, evaluation excluded.",
                recipes, r -> r.time() / r.run().epochs().size(), null));
        add(charts, vsP("report-time-total.png", "Training wall-clock vs P", "time(P), training seconds (s)",
                "time(P): the run's training seconds, the sum of its epochs' fit seconds.",
                recipes, ScalingAnalysis.Row::time, null));
        add(charts, vsP("report-speedup.png", "Speedup vs P", "speedup, time(1) / time(P)",
                "speedup(P) = time(1) / time(P); grey: ideal, speedup = P.",
                recipes, r -> r.speedup().orElse(Double.NaN), new Reference("ideal: speedup = P", p -> p)));
        add(charts, vsP("report-efficiency.png", "Parallel efficiency vs P", "efficiency, speedup / P",
                "efficiency(P) = speedup(P) / P; grey: ideal, 1.",
                recipes, r -> r.efficiency().orElse(Double.NaN), new Reference("ideal: efficiency = 1", p -> 1)));
        add(charts, vsP("report-accuracy-final.png", "Final test accuracy vs P", "test accuracy after the last epoch (%)",
                "Test accuracy after each run's last epoch, one curve per recipe; grey: chance.",
                recipes, r -> r.finalAccuracy() * 100, chance));
        for (int i = 0; i < recipes.size(); i++) {
            add(charts, accuracyPerEpoch(recipes.get(i), "report-accuracy-epochs-" + (i + 1) + ".png"));
        }
        add(charts, vsP("report-time-to-target.png", "Time to " + target + " test accuracy vs P",
                "fit seconds to " + target + " (s)", "Fit seconds up to and including the first epoch at " + target
                        + " test accuracy or more; a P without a point did not reach it.",
                recipes, r -> r.timeToTarget().orElse(Double.NaN), null));
        add(charts, vsP("report-throughput.png", "Throughput vs P", "training images/s",
                "Training images times finished epochs over training seconds, Spark's overhead included.",
                recipes, ScalingAnalysis.Row::throughput, null));
        return List.copyOf(charts);
    }

    private static void add(List<Chart> charts, Chart chart) {
        if (chart != null) {
            charts.add(chart);
        }
    }

    /** One figure per completed row against P, one series per recipe; a NaN figure leaves its point out. */
    private static Chart vsP(String file, String title, String yTitle, String caption,
                             List<ScalingAnalysis.RecipeResult> recipes, ToDoubleFunction<ScalingAnalysis.Row> y,
                             Reference reference) {
        XYChart chart = chart(title, P_AXIS, yTitle);
        // P on a log2 axis, labelled with P where a tick falls on a whole P. The axis ends at the
        // smallest and largest P drawn: XChart draws no tick at all when its two ends get the same label.
        chart.getStyler().setxAxisTickLabelsFormattingFunction(ReportCharts::pLabel);
        int series = 0;
        double minP = Double.MAX_VALUE;
        double maxP = 0;
        for (int i = 0; i < recipes.size(); i++) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (ScalingAnalysis.Row row : recipes.get(i).completeRows()) {
                double v = y.applyAsDouble(row);
                if (Double.isFinite(v)) {
                    xs.add(log2(row.partitions()));
                    ys.add(v);
                    minP = Math.min(minP, row.partitions());
                    maxP = Math.max(maxP, row.partitions());
                }
            }
            if (!xs.isEmpty()) {
                style(chart.addSeries(recipes.get(i).name(), xs, ys), i);
                series++;
            }
        }
        if (series == 0) {
            return null;
        }
        if (reference != null) {
            // sampled finely: y = P is a curve on a log2 axis
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (double x = log2(minP); x < log2(maxP) + 0.05; x += 0.05) {
                double lx = Math.min(x, log2(maxP));
                xs.add(lx);
                ys.add(reference.yOfP().applyAsDouble(Math.pow(2, lx)));
            }
            referenceLine(chart, reference.name(), xs, ys);
        }
        chart.getStyler().setYAxisMin(0.0);
        return new Chart(file, title, caption, series, png(chart));
    }

    private static Chart accuracyPerEpoch(ScalingAnalysis.RecipeResult recipe, String file) {
        String title = "Test accuracy per epoch: " + recipe.name();
        XYChart chart = chart(title, "epoch", "test accuracy (%)");
        int series = 0;
        int maxEpoch = 1;
        for (ScalingAnalysis.Row row : recipe.completeRows()) {
            List<RunRecord.Epoch> epochs = row.run().epochs();
            if (epochs.isEmpty()) {
                continue;
            }
            double[] xs = epochs.stream().mapToDouble(RunRecord.Epoch::epoch).toArray();
            double[] ys = epochs.stream().mapToDouble(e -> e.testAccuracy() * 100).toArray();
            style(chart.addSeries("P=" + row.partitions(), xs, ys), series);
            maxEpoch = Math.max(maxEpoch, epochs.get(epochs.size() - 1).epoch());
            series++;
        }
        if (series == 0) {
            return null;
        }
        referenceLine(chart, "chance (10 classes)", List.of(1.0, (double) maxEpoch),
                List.of(CHANCE_PERCENT, CHANCE_PERCENT));
        chart.getStyler().setxAxisTickLabelsFormattingFunction(x -> isWhole(x) ? Long.toString(Math.round(x)) : "");
        chart.getStyler().setYAxisMin(0.0);
        return new Chart(file, title, "Test accuracy after each epoch, one line per P: " + recipe.name() + ".",
                series, png(chart));
    }

    private static XYChart chart(String title, String xTitle, String yTitle) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        XYStyler s = chart.getStyler();
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setPlotGridLinesColor(new Color(225, 225, 225));
        s.setLegendPosition(Styler.LegendPosition.OutsideS);
        s.setLegendLayout(Styler.LegendLayout.Horizontal);
        s.setLegendBorderColor(Color.WHITE);
        s.setChartTitleBoxVisible(false);
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        s.setAntiAlias(true);
        return chart;
    }

    private static void style(XYSeries series, int index) {
        Color c = SERIES_COLORS.get(index % SERIES_COLORS.size());
        series.setLineColor(c);
        series.setMarkerColor(c);
        // a marker shape per series too, so that curves lying on each other stay apart
        series.setMarker(MARKERS.get(index % MARKERS.size()));
        series.setLineStyle(new BasicStroke(2.5f));
    }

    private static void referenceLine(XYChart chart, String name, List<Double> xs, List<Double> ys) {
        XYSeries s = chart.addSeries(name, xs, ys);
        s.setLineColor(REFERENCE_COLOR);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineStyle(SeriesLines.DASH_DASH);
    }

    /** The label of a tick at log2(P): P where that is a whole number of replicas, else none. */
    static String pLabel(double log2P) {
        double p = Math.pow(2, log2P);
        return p >= 1 && isWhole(p) ? Long.toString(Math.round(p)) : "";
    }

    private static boolean isWhole(double x) {
        return Math.abs(x - Math.rint(x)) < 1e-9;
    }

    /** log2 of {@code p}, for the axes of {@link #lineChart}. */
    public static double log2(double p) {
        return Math.log(p) / Math.log(2);
    }

    /**
     * A chart in the report's style against P on a log2 axis: callers give x as log2(P) ({@link
     * #log2(double)}), and with {@code logLog} y as log2 of the figure too, each axis labelled with
     * the powers of two it spans. Legend inside, top left, one series a line.
     */
    public static XYChart lineChart(String title, String xTitle, String yTitle, boolean logLog) {
        XYChart chart = chart(title, xTitle, yTitle);
        chart.getStyler().setxAxisTickLabelsFormattingFunction(ReportCharts::pLabel);
        if (logLog) {
            chart.getStyler().setyAxisTickLabelsFormattingFunction(ReportCharts::pLabel);
        } else {
            chart.getStyler().setYAxisMin(0.0);
        }
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Vertical);
        chart.getStyler().setLegendBorderColor(new Color(200, 200, 200));
        return chart;
    }

    /** A data series in the {@code index}-th colour and marker. */
    public static XYSeries addLine(XYChart chart, String name, List<Double> xs, List<Double> ys, int index) {
        XYSeries series = chart.addSeries(name, xs, ys);
        style(series, index);
        return series;
    }

    /** A grey dashed reference line. */
    public static void addReference(XYChart chart, String name, List<Double> xs, List<Double> ys) {
        referenceLine(chart, name, xs, ys);
    }

    /** One black point, for a published figure. */
    public static void addPoint(XYChart chart, String name, double x, double y) {
        XYSeries s = chart.addSeries(name, List.of(x), List.of(y));
        s.setMarker(SeriesMarkers.DIAMOND);
        s.setMarkerColor(Color.BLACK);
        s.setLineStyle(SeriesLines.NONE);
    }

    /** The chart as PNG bytes. */
    public static byte[] encode(XYChart chart) {
        return png(chart);
    }

    private static byte[] png(XYChart chart) {
        fitLegend(chart);
        try {
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode the chart '" + chart.getTitle() + "' as PNG", e);
        }
    }

    /**
     * A legend in one row below the plot where it fits the chart's width, else one series a line:
     * XChart neither wraps a horizontal legend nor shrinks it, it centres the row and cuts both ends
     * off (a report with seven recipes lost its first and last names).
     */
    static void fitLegend(XYChart chart) {
        XYStyler s = chart.getStyler();
        if (s.getLegendPosition() != Styler.LegendPosition.OutsideS
                || s.getLegendLayout() != Styler.LegendLayout.Horizontal) {
            return;
        }
        Graphics2D g = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
        try {
            FontMetrics metrics = g.getFontMetrics(s.getLegendFont());
            // per entry: its line and marker, the gap before the name, the name, the gap to the next
            double width = 2.0 * s.getLegendPadding();
            for (XYSeries series : chart.getSeriesMap().values()) {
                if (series.isShowInLegend()) {
                    width += s.getLegendSeriesLineLength() + 2.0 * s.getLegendPadding()
                            + metrics.stringWidth(series.getName());
                }
            }
            if (width > chart.getWidth() - 2.0 * s.getChartPadding()) {
                s.setLegendLayout(Styler.LegendLayout.Vertical);
            }
        } finally {
            g.dispose();
        }
    }
}
