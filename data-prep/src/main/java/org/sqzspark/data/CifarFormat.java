package org.sqzspark.data;

import java.util.List;

/**
 * Record layout of the CIFAR-10 binary version: each record is one label byte followed by a 32x32
 * colour image stored channel by channel (1,024 red, 1,024 green, 1,024 blue bytes, each plane in
 * row-major order, top row first).
 *
 * <p>Source: https://www.cs.toronto.edu/~kriz/cifar.html ("Binary version").
 */
public final class CifarFormat {

    /** Bytes of the label that starts each record. */
    public static final int LABEL_BYTES = 1;
    /** Colour channels per image (red, green, blue). */
    public static final int CHANNELS = 3;
    /** Image height in pixels. */
    public static final int HEIGHT = 32;
    /** Image width in pixels. */
    public static final int WIDTH = 32;
    /** Pixel bytes of one image: {@code CHANNELS * HEIGHT * WIDTH}. */
    public static final int IMAGE_BYTES = CHANNELS * HEIGHT * WIDTH;
    /** Bytes of one record: label plus image. */
    public static final int RECORD_BYTES = LABEL_BYTES + IMAGE_BYTES;
    /** Number of classes; labels are 0..CLASSES-1. */
    public static final int CLASSES = 10;

    /**
     * Class names by label, as the dataset's {@code batches.meta.txt} lists them.
     */
    public static final List<String> CLASS_NAMES = List.of(
            "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");

    /** Bytes of one colour plane. */
    static final int PLANE_BYTES = HEIGHT * WIDTH;

    private CifarFormat() {
    }
}
