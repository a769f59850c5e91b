package org.sqzspark.job.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;
import org.sqzspark.job.predict.ConfusionMatrix;

import static org.sqzspark.data.CifarFormat.CLASSES;
import static org.sqzspark.data.CifarFormat.CLASS_NAMES;

/**
 * A confusion matrix that {@code predict --data} wrote, drawn as a chart of the report: a 10x10 grid,
 * true class down, predicted class across, each cell shaded by its share of the true class's images
 * and labelled with its count. Drawn with Java2D: XChart has no annotated grid.
 */
final class ConfusionChart {

    /** Darkest shade, a full row in one cell: the report's first series colour. */
    private static final Color FULL = ReportCharts.SERIES_COLORS.get(0);
    private static final int CELL = 40;
    private static final int LEFT = 250;
    private static final int TOP = 100;

    private ConfusionChart() {
    }

    /**
     * The chart of the matrix in {@code csvName}.
     *
     * @param csvName the CSV's file name, {@code <model>.confusion.csv}
     */
    static ReportCharts.Chart draw(String csvName, ConfusionMatrix matrix) {
        String model = csvName.endsWith(ConfusionMatrix.SUFFIX)
                ? csvName.substring(0, csvName.length() - ConfusionMatrix.SUFFIX.length()) : csvName;
        String title = "Confusion matrix: " + model + ", test accuracy " + Numbers.percent(matrix.accuracy());
        BufferedImage image = new BufferedImage(ReportCharts.WIDTH, ReportCharts.HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, ReportCharts.WIDTH, ReportCharts.HEIGHT);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            centred(g, title, ReportCharts.WIDTH / 2, 28);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            centred(g, "predicted class", LEFT + CLASSES * CELL / 2, TOP + CLASSES * CELL + 25);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (int a = 0; a < CLASSES; a++) {
                long row = matrix.rowTotal(a);
                for (int p = 0; p < CLASSES; p++) {
                    double share = row == 0 ? 0 : (double) matrix.count(a, p) / row;
                    int x = LEFT + p * CELL;
                    int y = TOP + a * CELL;
                    g.setColor(shade(share));
                    g.fillRect(x, y, CELL, CELL);
                    g.setColor(new Color(220, 220, 220));
                    g.drawRect(x, y, CELL, CELL);
                    g.setColor(share > 0.5 ? Color.WHITE : Color.BLACK);
                    centred(g, Long.toString(matrix.count(a, p)), x + CELL / 2, y + CELL / 2 + 5);
                }
                g.setColor(Color.BLACK);
                String label = CLASS_NAMES.get(a) + " (" + row + ")";
                g.drawString(label, LEFT - 10 - g.getFontMetrics().stringWidth(label), TOP + a * CELL + CELL / 2 + 5);
            }
            for (int p = 0; p < CLASSES; p++) {
                // column names written upwards, so that long names fit a 40-pixel column
                Graphics2D turned = (Graphics2D) g.create();
                turned.translate(LEFT + p * CELL + CELL / 2 + 5, TOP - 4);
                turned.rotate(-Math.PI / 4);
                turned.drawString(CLASS_NAMES.get(p), 0, 0);
                turned.dispose();
            }
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            g.drawString("true class", 20, TOP - 8);
            g.drawString("rows: true class (images);", LEFT + CLASSES * CELL + 30, TOP + 20);
            g.drawString("columns: predicted class;", LEFT + CLASSES * CELL + 30, TOP + 40);
            g.drawString("shade: share of the row", LEFT + CLASSES * CELL + 30, TOP + 60);
        } finally {
            g.dispose();
        }
        String caption = "Test images by true class (rows) and predicted class (columns), from " + csvName
                + " (predict --data); each cell shaded by its share of the row, " + matrix.total() + " images.";
        return new ReportCharts.Chart("report-" + model + ".confusion.png", title, caption, 1, png(image));
    }

    /** White at 0, the report's first series colour at 1. */
    static Color shade(double share) {
        double s = Math.max(0, Math.min(1, share));
        return new Color((int) Math.round(255 + (FULL.getRed() - 255) * s),
                (int) Math.round(255 + (FULL.getGreen() - 255) * s), (int) Math.round(255 + (FULL.getBlue() - 255) * s));
    }

    private static void centred(Graphics2D g, String text, int x, int baseline) {
        FontMetrics m = g.getFontMetrics();
        g.drawString(text, x - m.stringWidth(text) / 2, baseline);
    }

    private static byte[] png(BufferedImage image) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode the confusion matrix chart as PNG", e);
        }
        return out.toByteArray();
    }
}
