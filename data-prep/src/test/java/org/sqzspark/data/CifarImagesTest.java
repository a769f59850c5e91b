package org.sqzspark.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CifarImagesTest {

    private final CifarImages images = TestCifarFiles.images(3, 6);

    @Test
    void pixelReadsChannelPlanesInRowMajorOrder() {
        byte[] labels = {7};
        byte[] pixels = new byte[CifarFormat.IMAGE_BYTES];
        pixels[0] = (byte) 255;
        pixels[1024 + 32 * 31 + 1] = 10;
        pixels[2048 + 32 * 2 + 31] = (byte) 128;

        CifarImages one = CifarImages.of(labels, pixels);

        assertEquals(7, one.label(0));
        assertEquals(255, one.pixel(0, 0, 0, 0));
        assertEquals(10, one.pixel(0, 1, 31, 1));
        assertEquals(128, one.pixel(0, 2, 2, 31));
        assertEquals(0, one.pixel(0, 2, 31, 2));
    }

    @Test
    void ofCopiesItsInputSoTheSetStaysUnchanged() {
        byte[] labels = {1};
        byte[] pixels = new byte[CifarFormat.IMAGE_BYTES];
        CifarImages one = CifarImages.of(labels, pixels);

        labels[0] = 2;
        pixels[0] = 9;

        assertEquals(1, one.label(0));
        assertEquals(0, one.pixel(0, 0, 0, 0));
    }

    @Test
    void ofRejectsPixelCountThatDoesNotMatchLabels() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CifarImages.of(new byte[2], new byte[CifarFormat.IMAGE_BYTES]));

        assertTrue(e.getMessage().contains("2 labels need 6144 pixel bytes, found 3072"), e.getMessage());
    }

    @Test
    void ofRejectsLabelOutOfRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CifarImages.of(new byte[] {0, 10}, new byte[2 * CifarFormat.IMAGE_BYTES]));

        assertTrue(e.getMessage().contains("record 1 is 10"), e.getMessage());
    }

    @Test
    void sliceSelectAndConcatKeepRecordsIntact() {
        CifarImages head = images.slice(0, 2);
        CifarImages tail = images.slice(2, 6);

        assertEquals(images, CifarImages.concat(List.of(head, tail)));
        CifarImages picked = images.select(new int[] {4, 0, 4});
        assertEquals(3, picked.size());
        assertEquals(images.slice(4, 5), picked.slice(0, 1));
        assertEquals(images.slice(0, 1), picked.slice(1, 2));
        assertEquals(images.pixel(4, 1, 9, 3), picked.pixel(2, 1, 9, 3));
        assertEquals(0, images.slice(3, 3).size());
        assertThrows(IndexOutOfBoundsException.class, () -> images.slice(2, 7));
        assertThrows(IndexOutOfBoundsException.class, () -> images.select(new int[] {6}));
    }

    @Test
    void shuffledIsTheFisherYatesPermutationOfItsSeed() {
        int[] order = {0, 1, 2, 3, 4, 5};
        Random random = new Random(42);
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }

        CifarImages shuffled = images.shuffled(42);

        assertEquals(images.select(order), shuffled);
        assertEquals(shuffled, images.shuffled(42));
        assertNotEquals(shuffled, images.shuffled(43));
        assertArrayEquals(images.classCounts(), shuffled.classCounts());
    }

    @Test
    void classCountsCountEachLabel() {
        CifarImages set = CifarImages.of(new byte[] {0, 9, 9, 3}, new byte[4 * CifarFormat.IMAGE_BYTES]);

        assertArrayEquals(new int[] {1, 0, 0, 1, 0, 0, 0, 0, 0, 2}, set.classCounts());
    }

    @Test
    void survivesJavaSerialization() throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(images);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(images, in.readObject());
        }
    }
}
