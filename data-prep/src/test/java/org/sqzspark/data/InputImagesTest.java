package org.sqzspark.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InputImagesTest {

    private static final Configuration CONF = new Configuration();

    @TempDir
    Path dir;

    /** A picture of {@code width x height}: its left half {@code left}, its right half {@code right}. */
    static byte[] picture(String format, int width, int height, Color left, Color right) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(left);
        g.fillRect(0, 0, width / 2, height);
        g.setColor(right);
        g.fillRect(width / 2, 0, width - width / 2, height);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(image, format, out), "no " + format + " writer");
        return out.toByteArray();
    }

    private static void assertColour(CifarImages images, int i, int row, int col, Color expected, int tolerance) {
        int[] rgb = {expected.getRed(), expected.getGreen(), expected.getBlue()};
        for (int c = 0; c < 3; c++) {
            int got = images.pixel(i, c, row, col);
            assertTrue(Math.abs(got - rgb[c]) <= tolerance,
                    "pixel (" + row + ", " + col + ") channel " + c + " is " + got + ", expected " + rgb[c]);
        }
    }

    @Test
    void pngOfAnotherSizeIsScaledTo32x32InCifarChannelOrder() throws IOException {
        Color red = new Color(200, 20, 10);
        Color blue = new Color(5, 30, 220);
        Path png = TestCifarFiles.write(dir.resolve("wide.png"), picture("png", 120, 90, red, blue));

        InputImages.Read read = InputImages.read(List.of(png.toString()), 0, CONF);

        assertEquals(1, read.images().size());
        assertEquals(List.of(png.toString()), read.names());
        assertEquals(-1, read.label(0));
        for (int row : new int[] {0, 15, 31}) {
            // a PNG is lossless: away from the edge between the halves, exact
            assertColour(read.images(), 0, row, 0, red, 0);
            assertColour(read.images(), 0, row, 12, red, 0);
            assertColour(read.images(), 0, row, 20, blue, 0);
            assertColour(read.images(), 0, row, 31, blue, 0);
        }
    }

    @Test
    void smallJpegIsScaledUpTo32x32() throws IOException {
        Color green = new Color(30, 210, 40);
        Color yellow = new Color(230, 220, 30);
        Path jpeg = TestCifarFiles.write(dir.resolve("small.JPEG"), picture("jpeg", 20, 24, green, yellow));

        InputImages.Read read = InputImages.read(List.of(jpeg.toString()), 0, CONF);

        assertEquals(1, read.images().size());
        // JPEG is lossy: within a few grey levels
        assertColour(read.images(), 0, 16, 2, green, 12);
        assertColour(read.images(), 0, 16, 29, yellow, 12);
    }

    @Test
    void recordFilesPlainAndGzippedKeepTheirLabelsAndNames() {
        CifarImages first = TestCifarFiles.images(3, 4);
        CifarImages second = TestCifarFiles.images(5, 3);
        Path plain = TestCifarFiles.write(dir.resolve("mine.bin"), TestCifarFiles.fileBytes(first));
        Path gz = TestCifarFiles.write(dir.resolve("more.records.gz"), TestCifarFiles.gzip(TestCifarFiles.fileBytes(second)));

        InputImages.Read read = InputImages.read(List.of(plain.toString(), gz.toString()), 0, CONF);

        assertEquals(CifarImages.concat(List.of(first, second)), read.images());
        assertEquals(plain + "#0", read.names().get(0));
        assertEquals(gz + "#2", read.names().get(6));
        assertEquals(first.label(1), read.label(1));
        assertEquals(second.label(2), read.label(6));
    }

    @Test
    void limitStopsReadingAfterThatManyImagesInAll() throws IOException {
        Path records = TestCifarFiles.write(dir.resolve("r.bin"), TestCifarFiles.fileBytes(TestCifarFiles.images(1, 5)));
        Path png = TestCifarFiles.write(dir.resolve("p.png"), picture("png", 32, 32, Color.RED, Color.RED));

        InputImages.Read read = InputImages.read(List.of(records.toString(), png.toString()), 3, CONF);

        assertEquals(3, read.images().size());
        assertEquals(TestCifarFiles.images(1, 5).slice(0, 3), read.images());
    }

    @Test
    void picturesAreRecognisedByTheirNameOnly() {
        assertTrue(InputImages.isPicture("a.png"));
        assertTrue(InputImages.isPicture("dir/b.JPG"));
        assertTrue(InputImages.isPicture("c.jpeg"));
        assertFalse(InputImages.isPicture("test_batch.bin"));
        assertFalse(InputImages.isPicture("png"));
    }

    @Test
    void rejectsTruncatedPngNamingTheFile() throws IOException {
        byte[] whole = picture("png", 64, 64, Color.RED, Color.BLUE);
        Path png = TestCifarFiles.write(dir.resolve("cut.png"), Arrays.copyOf(whole, whole.length / 2));

        DataInputException e = assertThrows(DataInputException.class,
                () -> InputImages.read(List.of(png.toString()), 0, CONF));

        assertTrue(e.getMessage().startsWith(png + " is not a readable PNG or JPEG picture"), e.getMessage());
        assertTrue(e.getMessage().contains("re-export or re-copy it"), e.getMessage());
    }

    @Test
    void rejectsAJpegNameOnSomethingElse() throws IOException {
        Path fake = Files.writeString(dir.resolve("notes.jpg"), "not a picture at all");

        DataInputException e = assertThrows(DataInputException.class,
                () -> InputImages.read(List.of(fake.toString()), 0, CONF));

        assertTrue(e.getMessage().startsWith(fake + " is not a PNG or JPEG picture"), e.getMessage());
    }

    @Test
    void rejectsAMissingFileNamingIt() {
        String missing = dir.resolve("nowhere.png").toString();

        DataInputException e = assertThrows(DataInputException.class,
                () -> InputImages.read(List.of(missing), 0, CONF));

        assertEquals(missing + " does not exist: give PNG or JPEG pictures, or files of CIFAR-10 binary records"
                + " (plain or .gz), that exist", e.getMessage());
    }

    @Test
    void rejectsAFolderPointingAtItsFiles() {
        DataInputException e = assertThrows(DataInputException.class,
                () -> InputImages.read(List.of(dir.toString()), 0, CONF));

        assertTrue(e.getMessage().startsWith(dir + " is a folder"), e.getMessage());
    }

    @Test
    void rejectsARecordFileOfTheWrongSize() {
        Path odd = TestCifarFiles.write(dir.resolve("odd.bin"), new byte[3073 + 5]);

        DataInputException e = assertThrows(DataInputException.class,
                () -> InputImages.read(List.of(odd.toString()), 0, CONF));

        assertTrue(e.getMessage().contains("odd.bin"), e.getMessage());
        assertTrue(e.getMessage().contains("not a multiple of the 3,073-byte CIFAR-10 record"), e.getMessage());
    }

    @Test
    void classNamesFollowTheLabels() {
        assertEquals(CifarFormat.CLASSES, CifarFormat.CLASS_NAMES.size());
        assertEquals("airplane", CifarFormat.CLASS_NAMES.get(0));
        assertEquals("cat", CifarFormat.CLASS_NAMES.get(3));
        assertEquals("truck", CifarFormat.CLASS_NAMES.get(9));
    }
}
