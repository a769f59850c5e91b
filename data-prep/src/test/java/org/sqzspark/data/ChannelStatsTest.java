package org.sqzspark.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ChannelStatsTest {

    /**
     * Two images: red 0 in the first and 255 in the second (mean 0.5, std 0.5); green 51 everywhere
     * (constant); blue half 0 and half 102 in the first, 51 in the second (mean 0.2, std 0.2/sqrt 2).
     */
    private static CifarImages twoImages() {
        byte[] pixels = new byte[2 * CifarFormat.IMAGE_BYTES];
        int second = CifarFormat.IMAGE_BYTES;
        Arrays.fill(pixels, second, second + 1024, (byte) 255);
        Arrays.fill(pixels, 1024, 2048, (byte) 51);
        Arrays.fill(pixels, second + 1024, second + 2048, (byte) 51);
        Arrays.fill(pixels, 2048 + 512, 3072, (byte) 102);
        Arrays.fill(pixels, second + 2048, second + 3072, (byte) 51);
        return CifarImages.of(new byte[] {0, 1}, pixels);
    }

    @Test
    void computesExactPerChannelMeanAndPopulationStd() {
        ChannelStats stats = ChannelStats.of(twoImages());

        assertArrayEquals(new float[] {0.5f, 0.2f, 0.2f}, stats.mean(), 1e-7f);
        assertEquals(0.5f, stats.std(0), 1e-7f);
        assertEquals((float) (0.2 / Math.sqrt(2)), stats.std(2), 1e-7f);
    }

    @Test
    void usesStdOneForAConstantChannel() {
        ChannelStats stats = ChannelStats.of(twoImages());

        assertEquals(1f, stats.std(1));
    }

    @Test
    void rejectsEmptySet() {
        CifarImages empty = CifarImages.of(new byte[0], new byte[0]);

        assertThrows(IllegalArgumentException.class, () -> ChannelStats.of(empty));
    }

    @Test
    void rejectsNonPositiveStd() {
        assertThrows(IllegalArgumentException.class,
                () -> new ChannelStats(new float[] {0, 0, 0}, new float[] {1, 0, 1}));
        assertThrows(IllegalArgumentException.class,
                () -> new ChannelStats(new float[] {0, 0}, new float[] {1, 1}));
    }

    @Test
    void keepsItsArraysPrivate() {
        float[] mean = {0.1f, 0.2f, 0.3f};
        ChannelStats stats = new ChannelStats(mean, new float[] {1, 1, 1});

        mean[0] = 9;
        stats.mean()[1] = 9;

        assertArrayEquals(new float[] {0.1f, 0.2f, 0.3f}, stats.mean());
    }
}
