package org.sqzspark.data;

import static org.sqzspark.data.CifarFormat.CHANNELS;
import static org.sqzspark.data.CifarFormat.CLASSES;
import static org.sqzspark.data.CifarFormat.HEIGHT;
import static org.sqzspark.data.CifarFormat.IMAGE_BYTES;
import static org.sqzspark.data.CifarFormat.PLANE_BYTES;
import static org.sqzspark.data.CifarFormat.WIDTH;

import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * An immutable, ordered set of CIFAR-10 records.
 *
 * <p>Records are kept as two flat byte arrays rather than one object per image: 50,000 training
 * images then cost 150 MiB and serialize as two array copies, which matters when the set is shipped
 * to Spark executors. Each image keeps the file's CHW order (1,024 red, 1,024 green, 1,024 blue
 * bytes, rows top to bottom), which is also the NCHW order the network consumes.
 */
public final class CifarImages implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Largest record count whose pixels still fit in one Java array. */
    static final int MAX_RECORDS = Integer.MAX_VALUE / IMAGE_BYTES;

    private final byte[] labels;
    private final byte[] pixels;

    /** Takes ownership of arrays that the caller has already validated and will not modify. */
    private CifarImages(byte[] labels, byte[] pixels) {
        this.labels = labels;
        this.pixels = pixels;
    }

    /**
     * Creates a set from copies of the given arrays.
     *
     * @param labels one label per record, each 0..9
     * @param pixels {@code labels.length * 3072} pixel bytes, each image in CHW order
     * @throws IllegalArgumentException if the lengths disagree or a label is outside 0..9
     */
    public static CifarImages of(byte[] labels, byte[] pixels) {
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(pixels, "pixels");
        String problem = validate(labels, pixels);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return new CifarImages(labels.clone(), pixels.clone());
    }

    /** For readers in this package that built the arrays themselves and checked every label. */
    static CifarImages wrap(byte[] labels, byte[] pixels) {
        return new CifarImages(labels, pixels);
    }

    private static String validate(byte[] labels, byte[] pixels) {
        if ((long) labels.length * IMAGE_BYTES != pixels.length) {
            return String.format("pixels must hold %d bytes per record: %d labels need %d pixel bytes, found %d",
                    IMAGE_BYTES, labels.length, (long) labels.length * IMAGE_BYTES, pixels.length);
        }
        for (int i = 0; i < labels.length; i++) {
            int label = labels[i] & 0xFF;
            if (label >= CLASSES) {
                return String.format("label of record %d is %d; expected 0..%d", i, label, CLASSES - 1);
            }
        }
        return null;
    }

    /** Number of records. */
    public int size() {
        return labels.length;
    }

    /** Class label 0..9 of record {@code i}. */
    public int label(int i) {
        return labels[Objects.checkIndex(i, labels.length)] & 0xFF;
    }

    /**
     * One pixel value, 0..255.
     *
     * @param i       record index
     * @param channel 0 red, 1 green, 2 blue
     * @param row     0 is the top row
     * @param col     0 is the left column
     */
    public int pixel(int i, int channel, int row, int col) {
        Objects.checkIndex(i, labels.length);
        Objects.checkIndex(channel, CHANNELS);
        Objects.checkIndex(row, HEIGHT);
        Objects.checkIndex(col, WIDTH);
        return pixels[i * IMAGE_BYTES + channel * PLANE_BYTES + row * WIDTH + col] & 0xFF;
    }

    /** Records {@code from} (inclusive) to {@code to} (exclusive), in order. */
    public CifarImages slice(int from, int to) {
        Objects.checkFromToIndex(from, to, labels.length);
        return new CifarImages(Arrays.copyOfRange(labels, from, to),
                Arrays.copyOfRange(pixels, from * IMAGE_BYTES, to * IMAGE_BYTES));
    }

    /** A new set holding the records at {@code indices}, in that order; indices may repeat. */
    public CifarImages select(int[] indices) {
        byte[] newLabels = new byte[indices.length];
        byte[] newPixels = new byte[Math.multiplyExact(indices.length, IMAGE_BYTES)];
        for (int k = 0; k < indices.length; k++) {
            int i = Objects.checkIndex(indices[k], labels.length);
            newLabels[k] = labels[i];
            System.arraycopy(pixels, i * IMAGE_BYTES, newPixels, k * IMAGE_BYTES, IMAGE_BYTES);
        }
        return new CifarImages(newLabels, newPixels);
    }

    /** The records of all {@code parts}, in list order. */
    public static CifarImages concat(List<CifarImages> parts) {
        long total = 0;
        for (CifarImages part : parts) {
            total += part.size();
        }
        if (total > MAX_RECORDS) {
            throw new IllegalArgumentException(
                    "cannot concatenate " + total + " records; at most " + MAX_RECORDS + " fit in one set");
        }
        byte[] newLabels = new byte[(int) total];
        byte[] newPixels = new byte[(int) total * IMAGE_BYTES];
        int at = 0;
        for (CifarImages part : parts) {
            System.arraycopy(part.labels, 0, newLabels, at, part.labels.length);
            System.arraycopy(part.pixels, 0, newPixels, at * IMAGE_BYTES, part.pixels.length);
            at += part.labels.length;
        }
        return new CifarImages(newLabels, newPixels);
    }

    /**
     * The same records in a random order that depends only on {@code seed}: a Fisher–Yates shuffle
     * of the indices driven by {@code new java.util.Random(seed)}, swapping position {@code i} with
     * {@code nextInt(i + 1)} for {@code i} from {@code size() - 1} down to 1.
     */
    public CifarImages shuffled(long seed) {
        int[] order = new int[labels.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Random random = new Random(seed);
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        return select(order);
    }

    /** Number of records per class; index is the label. */
    public int[] classCounts() {
        int[] counts = new int[CLASSES];
        for (byte label : labels) {
            counts[label & 0xFF]++;
        }
        return counts;
    }

    /** The backing label array, for fast readers in this package; must not be modified. */
    byte[] labelBytes() {
        return labels;
    }

    /** The backing pixel array, for fast readers in this package; must not be modified. */
    byte[] pixelBytes() {
        return pixels;
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        if (labels == null || pixels == null) {
            throw new InvalidObjectException("CifarImages without labels or pixels");
        }
        String problem = validate(labels, pixels);
        if (problem != null) {
            throw new InvalidObjectException(problem);
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof CifarImages that
                && Arrays.equals(labels, that.labels) && Arrays.equals(pixels, that.pixels);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(labels) + Arrays.hashCode(pixels);
    }

    @Override
    public String toString() {
        return "CifarImages[size=" + size() + ", classCounts=" + Arrays.toString(classCounts()) + "]";
    }
}
