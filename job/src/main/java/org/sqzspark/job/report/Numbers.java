package org.sqzspark.job.report;

import java.math.BigDecimal;
import java.util.Locale;

/** Number formats of the report, independent of the machine's locale. */
final class Numbers {

    private Numbers() {
    }

    /** The shortest plain decimal of a value: 0.0001, 32, 0.5. */
    static String compact(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return Double.toString(v);
        }
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    /** Fixed decimals: {@code fixed(1.6, 2)} is "1.60". */
    static String fixed(double v, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    /** A fraction as a percentage with two decimals: 0.4213 is "42.13%". */
    static String percent(double fraction) {
        return fixed(fraction * 100, 2) + "%";
    }

    /** Thousands separated: 50000 is "50,000". */
    static String grouped(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }
}
