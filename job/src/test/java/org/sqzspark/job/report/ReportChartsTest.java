package org.sqzspark.job.report;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportChartsTest {

    @Test
    void aLegendTooWideForOneRowIsDrawnWholeOneSeriesALine() throws Exception {
        XYChart chart = legendChart(List.of("plain (averaging, batch 128)", "plain (averaging, batch 1536)",
                "plain (averaging, batch 32)", "plain (shared)", "global batch 192 (averaging)",
                "lr sqrt + warmup 2 (averaging)", "chance (10 classes)"));

        BufferedImage image = ImageIO.read(new ByteArrayInputStream(ReportCharts.encode(chart)));

        assertEquals(Styler.LegendLayout.Vertical, chart.getStyler().getLegendLayout());
        assertTrue(blankColumn(image, 0) && blankColumn(image, image.getWidth() - 1),
                "nothing drawn at the chart's left or right edge: the legend is not cut off");
    }

    @Test
    void aLegendThatFitsStaysInOneRow() throws Exception {
        XYChart chart = legendChart(List.of("averaging", "shared"));

        ReportCharts.encode(chart);

        assertEquals(Styler.LegendLayout.Horizontal, chart.getStyler().getLegendLayout());
    }

    private static XYChart legendChart(List<String> names) {
        XYChart chart = new XYChartBuilder().width(ReportCharts.WIDTH).height(ReportCharts.HEIGHT).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        for (int i = 0; i < names.size(); i++) {
            chart.addSeries(names.get(i), List.of(1.0, 2.0), List.of((double) i, i + 1.0));
        }
        return chart;
    }

    private static boolean blankColumn(BufferedImage image, int x) {
        int white = image.getRGB(x, 0);
        for (int y = 0; y < image.getHeight(); y++) {
            if (image.getRGB(x, y) != white) {
                return false;
            }
        }
        return true;
    }
}
