package org.sqzspark.job.predict;

import java.util.List;
import java.util.Objects;

import static org.sqzspark.data.CifarFormat.CLASSES;
import static org.sqzspark.data.CifarFormat.CLASS_NAMES;

/**
 * Counts of test images by true class (rows) and predicted class (columns), CIFAR-10's ten classes
 * in label order. As CSV ({@link #toCsv()}): a header row {@value #CORNER} then the class names, and
 * one row per true class, its name then ten counts; 11 rows of 11 fields, the counts summing to the
 * images evaluated.
 */
public final class ConfusionMatrix {

    /** Ending of the file name that {@code predict --data} writes, e.g. {@code run-<id>.confusion.csv}. */
    public static final String SUFFIX = ".confusion.csv";
    /** The CSV's first header field: rows are the true class, columns the predicted one. */
    public static final String CORNER = "actual/predicted";

    private final long[][] counts = new long[CLASSES][CLASSES];

    /** Counts one image of class {@code actual} that the network called {@code predicted}. */
    public void add(int actual, int predicted) {
        counts[Objects.checkIndex(actual, CLASSES)][Objects.checkIndex(predicted, CLASSES)]++;
    }

    /** Images of class {@code actual} predicted as {@code predicted}. */
    public long count(int actual, int predicted) {
        return counts[actual][predicted];
    }

    /** Images of class {@code actual}. */
    public long rowTotal(int actual) {
        long sum = 0;
        for (long c : counts[actual]) {
            sum += c;
        }
        return sum;
    }

    /** Images counted. */
    public long total() {
        long sum = 0;
        for (int a = 0; a < CLASSES; a++) {
            sum += rowTotal(a);
        }
        return sum;
    }

    /** Images predicted as their own class. */
    public long correct() {
        long sum = 0;
        for (int c = 0; c < CLASSES; c++) {
            sum += counts[c][c];
        }
        return sum;
    }

    /** The share predicted correctly, NaN before any image. */
    public double accuracy() {
        long total = total();
        return total == 0 ? Double.NaN : (double) correct() / total;
    }

    /** The matrix as CSV, see the class comment. */
    public String toCsv() {
        StringBuilder csv = new StringBuilder(CORNER);
        for (String name : CLASS_NAMES) {
            csv.append(',').append(name);
        }
        csv.append('\n');
        for (int a = 0; a < CLASSES; a++) {
            csv.append(CLASS_NAMES.get(a));
            for (int p = 0; p < CLASSES; p++) {
                csv.append(',').append(counts[a][p]);
            }
            csv.append('\n');
        }
        return csv.toString();
    }

    /**
     * Reads what {@link #toCsv()} wrote.
     *
     * @param source names the CSV in the message
     * @throws IllegalArgumentException naming {@code source} and what is wrong when it is not such a CSV
     */
    public static ConfusionMatrix parse(String source, String csv) {
        List<String> lines = csv.lines().filter(l -> !l.isBlank()).toList();
        if (lines.size() != CLASSES + 1) {
            throw new IllegalArgumentException(source + " has " + lines.size() + " rows; a confusion matrix has "
                    + (CLASSES + 1) + " (a header and one per class)");
        }
        if (!lines.get(0).equals(CORNER + "," + String.join(",", CLASS_NAMES))) {
            throw new IllegalArgumentException(source + " does not start with the header " + CORNER + ","
                    + String.join(",", CLASS_NAMES));
        }
        ConfusionMatrix m = new ConfusionMatrix();
        for (int a = 0; a < CLASSES; a++) {
            String[] fields = lines.get(a + 1).split(",", -1);
            if (fields.length != CLASSES + 1 || !fields[0].equals(CLASS_NAMES.get(a))) {
                throw new IllegalArgumentException(source + ": row " + (a + 2) + " should be " + CLASS_NAMES.get(a)
                        + " and " + CLASSES + " counts, is '" + lines.get(a + 1) + "'");
            }
            for (int p = 0; p < CLASSES; p++) {
                try {
                    m.counts[a][p] = Long.parseLong(fields[p + 1].trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(source + ": row " + (a + 2) + ", column " + (p + 2) + " is '"
                            + fields[p + 1] + "', not a count", e);
                }
                if (m.counts[a][p] < 0) {
                    throw new IllegalArgumentException(source + ": row " + (a + 2) + ", column " + (p + 2)
                            + " is negative");
                }
            }
        }
        return m;
    }
}
