package org.sqzspark.data;

import static org.sqzspark.data.CifarFormat.HEIGHT;
import static org.sqzspark.data.CifarFormat.IMAGE_BYTES;
import static org.sqzspark.data.CifarFormat.PLANE_BYTES;
import static org.sqzspark.data.CifarFormat.WIDTH;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Images to classify, from files a user names: CIFAR-10 binary record files (plain or gzipped, any
 * name) and PNG or JPEG pictures of any size. A picture is scaled to 32x32 and laid out as a CIFAR-10
 * record's pixels (CHW, RGB), so it is normalized and fed to the network exactly as the records are.
 *
 * <p>A file is a picture when its name ends in {@code .png}, {@code .jpg} or {@code .jpeg} (any case);
 * anything else is read as CIFAR-10 records. Files are read through Hadoop's {@link FileSystem}, so
 * local paths, {@code file:} and {@code hdfs:} URIs all work.
 */
public final class InputImages {

    private static final Pattern PICTURE_NAME = Pattern.compile("(?i).+\\.(png|jpe?g)");
    private static final Pattern HAS_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:");

    /**
     * Images read, in the order given.
     *
     * @param images   the pixels; the label of an image without one is 0, see {@link #labelled}
     * @param names    a name per image: the file's for a picture, {@code file#index} for a record
     * @param labelled per image, whether its label is known (records carry one, pictures do not)
     */
    public record Read(CifarImages images, List<String> names, boolean[] labelled) {

        /** The label of image {@code i}, or -1 when it has none. */
        public int label(int i) {
            return labelled[i] ? images.label(i) : -1;
        }
    }

    private InputImages() {
    }

    /** Whether {@code name} is read as a PNG or JPEG picture rather than as CIFAR-10 records. */
    public static boolean isPicture(String name) {
        return PICTURE_NAME.matcher(name).matches();
    }

    /**
     * Reads every file, in order.
     *
     * @param locations local paths or Hadoop file system URIs
     * @param limit     if &gt; 0, at most this many images in all; otherwise all
     * @throws DataInputException naming the file when one is missing, unreadable, corrupt or neither a
     *                            picture nor CIFAR-10 records
     */
    public static Read read(List<String> locations, int limit, Configuration conf) {
        Objects.requireNonNull(conf, "conf");
        int wanted = limit > 0 ? limit : Integer.MAX_VALUE;
        List<CifarImages> parts = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Boolean> labelled = new ArrayList<>();
        for (String location : locations) {
            if (names.size() >= wanted) {
                break;
            }
            Path path = toPath(location);
            FileSystem fs = fileSystem(path, location, conf);
            Path file = fs.makeQualified(path);
            checkFile(fs, file, location);
            if (isPicture(file.getName())) {
                byte[] pixels = decode(location, open(fs, file, location));
                parts.add(CifarImages.wrap(new byte[1], pixels));
                names.add(location);
                labelled.add(false);
            } else {
                CifarImages records = CifarReader.readRecordFile(fs, file, wanted - names.size());
                parts.add(records);
                for (int i = 0; i < records.size(); i++) {
                    names.add(location + "#" + i);
                    labelled.add(true);
                }
            }
        }
        boolean[] known = new boolean[labelled.size()];
        for (int i = 0; i < known.length; i++) {
            known[i] = labelled.get(i);
        }
        return new Read(CifarImages.concat(parts), List.copyOf(names), known);
    }

    /**
     * The pixels of a PNG or JPEG picture as one CIFAR-10 record's: scaled to 32x32 (stretched, not
     * cropped: CIFAR-10's images are square), RGB, CHW. Transparency is laid over white; grey pictures
     * give three equal channels. The stream is closed.
     *
     * @param source names the picture in error messages
     * @throws DataInputException if the stream is not a PNG or JPEG picture the JDK can decode
     */
    public static byte[] decode(String source, InputStream in) {
        BufferedImage picture;
        try (in) {
            picture = ImageIO.read(in);
        } catch (IOException | RuntimeException e) {
            throw new DataInputException(source + " is not a readable PNG or JPEG picture (" + describe(e)
                    + "); it may be truncated or corrupt: re-export or re-copy it", e);
        }
        if (picture == null) {
            throw new DataInputException(source + " is not a PNG or JPEG picture (the JDK's decoders recognise no"
                    + " image in it): convert it to PNG or JPEG, or give CIFAR-10 record files without a .png,"
                    + " .jpg or .jpeg name");
        }
        return pixels(scaled(picture));
    }

    /** The picture scaled to 32x32 RGB. */
    static BufferedImage scaled(BufferedImage picture) {
        BufferedImage current = picture;
        // halving first, each step bilinear: one bilinear step from a large picture samples only a
        // few of its pixels per output pixel and aliases
        while (current.getWidth() >= 2 * WIDTH || current.getHeight() >= 2 * HEIGHT) {
            int w = Math.max(WIDTH, current.getWidth() / 2);
            int h = Math.max(HEIGHT, current.getHeight() / 2);
            current = draw(current, w, h);
        }
        return draw(current, WIDTH, HEIGHT);
    }

    private static BufferedImage draw(BufferedImage from, int width, int height) {
        BufferedImage to = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = to.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(from, 0, 0, width, height, null);
        } finally {
            g.dispose();
        }
        return to;
    }

    /** A 32x32 RGB picture's pixels in CIFAR-10's order: the red plane, the green, the blue, rows top first. */
    static byte[] pixels(BufferedImage rgb) {
        byte[] out = new byte[IMAGE_BYTES];
        for (int row = 0; row < HEIGHT; row++) {
            for (int col = 0; col < WIDTH; col++) {
                int argb = rgb.getRGB(col, row);
                int k = row * WIDTH + col;
                out[k] = (byte) (argb >> 16);
                out[PLANE_BYTES + k] = (byte) (argb >> 8);
                out[2 * PLANE_BYTES + k] = (byte) argb;
            }
        }
        return out;
    }

    private static Path toPath(String location) {
        try {
            if (HAS_SCHEME.matcher(location).find()) {
                return new Path(location);
            }
            return new Path("file", null, java.nio.file.Path.of(location).toAbsolutePath().normalize().toString());
        } catch (IllegalArgumentException e) {
            throw new DataInputException(location + " is not a valid path or URI (" + e.getMessage()
                    + "): give a local path, or a URI such as hdfs://namenode:8020/images/cat.png", e);
        }
    }

    private static FileSystem fileSystem(Path path, String location, Configuration conf) {
        try {
            return FileSystem.get(path.toUri(), conf);
        } catch (IOException | IllegalArgumentException e) {
            throw new DataInputException(location + ": cannot open its file system (" + e.getMessage() + "): give a"
                    + " local path, or a URI whose file system is reachable, such as hdfs://namenode:8020/images/cat.png",
                    e);
        }
    }

    private static void checkFile(FileSystem fs, Path file, String location) {
        FileStatus status;
        try {
            status = fs.getFileStatus(file);
        } catch (FileNotFoundException e) {
            throw new DataInputException(location + " does not exist: give PNG or JPEG pictures, or files of"
                    + " CIFAR-10 binary records (plain or .gz), that exist", e);
        } catch (IOException e) {
            throw CifarLayout.unreadable(file, e);
        }
        if (status.isDirectory()) {
            throw new DataInputException(location + " is a folder: give the picture or record files in it, e.g. "
                    + location + "/*.png (to evaluate a CIFAR-10 folder's test set, give it as --data)");
        }
    }

    private static InputStream open(FileSystem fs, Path file, String location) {
        try {
            return fs.open(file);
        } catch (IOException e) {
            throw CifarLayout.unreadable(file, e);
        }
    }

    private static String describe(Exception e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
