package org.sqzspark.data;

import static org.sqzspark.data.CifarFormat.CHANNELS;
import static org.sqzspark.data.CifarFormat.IMAGE_BYTES;
import static org.sqzspark.data.CifarFormat.PLANE_BYTES;

import java.io.Serializable;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-channel mean and standard deviation of pixel values scaled to 0..1 ({@code pixel / 255}),
 * used to normalize inputs to zero mean and unit variance per channel.
 *
 * <p>Compute them on the training set only and apply the same values to the test set, so that
 * evaluation does not see statistics of the data it is evaluated on.
 *
 * @param mean per-channel mean (red, green, blue)
 * @param std  per-channel population standard deviation, each &gt; 0
 */
public record ChannelStats(float[] mean, float[] std) implements Serializable {

    private static final Logger log = LoggerFactory.getLogger(ChannelStats.class);

    /**
     * @throws IllegalArgumentException unless both arrays hold 3 finite values and every std is &gt; 0
     */
    public ChannelStats {
        if (mean == null || std == null || mean.length != CHANNELS || std.length != CHANNELS) {
            throw new IllegalArgumentException("mean and std must each hold " + CHANNELS + " values (red, green, blue), found "
                    + Arrays.toString(mean) + " and " + Arrays.toString(std));
        }
        mean = mean.clone();
        std = std.clone();
        for (int c = 0; c < CHANNELS; c++) {
            if (!Float.isFinite(mean[c])) {
                throw new IllegalArgumentException("mean of channel " + c + " must be finite, found " + mean[c]);
            }
            if (!(std[c] > 0) || !Float.isFinite(std[c])) {
                throw new IllegalArgumentException("std of channel " + c + " must be finite and > 0, found " + std[c]);
            }
        }
    }

    /**
     * Mean and population standard deviation of {@code pixel / 255} per channel over all records,
     * computed in double with two passes per channel (mean first, then squared deviations) to avoid
     * the cancellation of the one-pass sum-of-squares formula.
     *
     * <p>A channel that is constant over the whole set gets std 1 (with a warning) so that
     * normalization only centres it instead of dividing by zero.
     *
     * @throws IllegalArgumentException if {@code images} is empty
     */
    public static ChannelStats of(CifarImages images) {
        int n = images.size();
        if (n == 0) {
            throw new IllegalArgumentException("cannot compute channel statistics of an empty set of images");
        }
        byte[] pixels = images.pixelBytes();
        double count = (double) n * PLANE_BYTES;
        float[] mean = new float[CHANNELS];
        float[] std = new float[CHANNELS];
        for (int c = 0; c < CHANNELS; c++) {
            long sum = 0;
            for (int i = 0; i < n; i++) {
                int base = i * IMAGE_BYTES + c * PLANE_BYTES;
                for (int k = base; k < base + PLANE_BYTES; k++) {
                    sum += pixels[k] & 0xFF;
                }
            }
            double m = sum / count;
            double squares = 0;
            for (int i = 0; i < n; i++) {
                int base = i * IMAGE_BYTES + c * PLANE_BYTES;
                for (int k = base; k < base + PLANE_BYTES; k++) {
                    double d = (pixels[k] & 0xFF) - m;
                    squares += d * d;
                }
            }
            double s = Math.sqrt(squares / count) / 255.0;
            mean[c] = (float) (m / 255.0);
            if (!((float) s > 0)) {
                log.warn("Channel {} has the same value {} in all {} images; using std 1 so normalization only centres it",
                        c, Math.round(m), n);
                s = 1.0;
            }
            std[c] = (float) s;
        }
        return new ChannelStats(mean, std);
    }

    /** A copy of the per-channel means. */
    @Override
    public float[] mean() {
        return mean.clone();
    }

    /** A copy of the per-channel standard deviations. */
    @Override
    public float[] std() {
        return std.clone();
    }

    /** Mean of one channel without copying the array. */
    public float mean(int channel) {
        return mean[channel];
    }

    /** Standard deviation of one channel without copying the array. */
    public float std(int channel) {
        return std[channel];
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ChannelStats that && Arrays.equals(mean, that.mean) && Arrays.equals(std, that.std);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return "ChannelStats[mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]";
    }
}
