package org.sqzspark.data;

import static org.sqzspark.data.CifarFormat.CLASSES;
import static org.sqzspark.data.CifarFormat.IMAGE_BYTES;
import static org.sqzspark.data.CifarFormat.LABEL_BYTES;
import static org.sqzspark.data.CifarFormat.RECORD_BYTES;

import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and validates CIFAR-10 records from the files a {@link CifarLayout} found.
 *
 * <p>Everything is streamed through the Hadoop {@link FileSystem} API, so the same code reads local
 * files and HDFS. Reading stops as soon as {@code limit} records are in hand, so a small limit reads
 * only the start of the first batch.
 */
public final class CifarReader {

    private static final Logger log = LoggerFactory.getLogger(CifarReader.class);

    private static final int BUFFER_BYTES = 1 << 16;
    /** Deflate cannot compress better than about 1032:1, which bounds a plausible gzip size trailer. */
    private static final long MAX_DEFLATE_RATIO = 1032;

    private CifarReader() {
    }

    /**
     * The training batches {@code data_batch_1} .. {@code data_batch_5}, concatenated in that order.
     *
     * @param limit if &gt; 0, keep only the first {@code limit} records; otherwise read all
     * @throws DataInputException if a file is missing, unreadable, truncated or not CIFAR-10 data
     */
    public static CifarImages readTrain(CifarLayout layout, int limit) {
        return read(layout, CifarLayout.TRAIN_BATCHES, limit, "training");
    }

    /**
     * The test batch {@code test_batch}.
     *
     * @param limit if &gt; 0, keep only the first {@code limit} records; otherwise read all
     * @throws DataInputException if the file is missing, unreadable, truncated or not CIFAR-10 data
     */
    public static CifarImages readTest(CifarLayout layout, int limit) {
        return read(layout, List.of(CifarLayout.TEST_BATCH), limit, "test");
    }

    /**
     * The records of one file of CIFAR-10 binary records, plain or gzipped ({@code .gz}), whatever its
     * name: for classifying the records of a file that is not part of a data folder.
     *
     * @param limit if &gt; 0, keep only the first {@code limit} records; otherwise read all
     * @throws DataInputException if the file is unreadable, truncated or not CIFAR-10 data
     */
    static CifarImages readRecordFile(FileSystem fs, Path file, int limit) {
        int wanted = limit > 0 ? limit : Integer.MAX_VALUE;
        long expected = expectedRecords(fs, file);
        RecordBuffer out = new RecordBuffer((int) Math.min(Math.min(expected, wanted), CifarImages.MAX_RECORDS));
        readFile(fs, file, wanted, out);
        return out.toImages();
    }

    private static CifarImages read(CifarLayout layout, List<String> batches, int limit, String kind) {
        int wanted = limit > 0 ? limit : Integer.MAX_VALUE;
        long started = System.nanoTime();
        CifarImages images = layout.archive() != null
                ? readArchive(layout.fileSystem(), layout.archive(), batches, wanted)
                : readFiles(layout, batches, wanted);
        log.info("Read {} {} records from {} in {} ms", images.size(), kind, layout.describe(),
                (System.nanoTime() - started) / 1_000_000);
        return images;
    }

    private static CifarImages readFiles(CifarLayout layout, List<String> batches, int wanted) {
        FileSystem fs = layout.fileSystem();
        // Check every file that will be read and size the buffer once, before reading any records.
        List<Path> files = new ArrayList<>();
        long expected = 0;
        for (String batch : batches) {
            if (expected >= wanted) {
                break;
            }
            Path file = layout.batchFile(batch);
            files.add(file);
            expected += expectedRecords(fs, file);
        }
        RecordBuffer out = new RecordBuffer((int) Math.min(Math.min(expected, wanted), CifarImages.MAX_RECORDS));
        for (Path file : files) {
            if (out.size() >= wanted) {
                break;
            }
            readFile(fs, file, wanted - out.size(), out);
        }
        return out.toImages();
    }

    /**
     * Records {@code file} should hold, checked against its size for plain files. For gzip files the
     * ISIZE trailer (uncompressed length mod 2^32, RFC 1952) is used as a hint, and only when it is
     * plausible, because a truncated file ends in arbitrary bytes.
     */
    private static long expectedRecords(FileSystem fs, Path file) {
        try {
            FileStatus status = fs.getFileStatus(file);
            if (status.isDirectory()) {
                throw CifarLayout.directoryInsteadOfFile(file);
            }
            long length = status.getLen();
            if (!CifarLayout.isGzip(file)) {
                checkWholeRecords(file.toString(), length, false);
                return length / RECORD_BYTES;
            }
            if (length < 18) {
                // smaller than an empty gzip stream: reading it reports the problem
                return 0;
            }
            try (FSDataInputStream in = fs.open(file)) {
                in.seek(length - 4);
                byte[] trailer = new byte[4];
                in.readFully(trailer);
                long size = (trailer[0] & 0xFFL) | (trailer[1] & 0xFFL) << 8 | (trailer[2] & 0xFFL) << 16
                        | (trailer[3] & 0xFFL) << 24;
                boolean plausible = size % RECORD_BYTES == 0 && size <= length * MAX_DEFLATE_RATIO;
                return plausible ? size / RECORD_BYTES : 0;
            }
        } catch (FileNotFoundException e) {
            throw new DataInputException(file + " no longer exists or is not a regular file (" + e.getMessage()
                    + "); " + CifarLayout.howToProvide(file.getParent().toString()), e);
        } catch (IOException e) {
            throw CifarLayout.unreadable(file, e);
        }
    }

    private static void readFile(FileSystem fs, Path file, int max, RecordBuffer out) {
        String source = file.toString();
        boolean gzip = CifarLayout.isGzip(file);
        try (InputStream raw = fs.open(file, BUFFER_BYTES);
             InputStream in = gzip ? new GZIPInputStream(raw, BUFFER_BYTES) : raw) {
            readRecords(in, source, gzip, max, out);
        } catch (ZipException | EOFException e) {
            if (!gzip) {
                throw CifarLayout.unreadable(file, e);
            }
            throw corruptGzip(source, e, "re-copy the file, or replace it with the uncompressed .bin (gunzip -k)");
        } catch (FileNotFoundException e) {
            throw new DataInputException(source + " no longer exists or is not a regular file (" + e.getMessage()
                    + "); " + CifarLayout.howToProvide(file.getParent().toString()), e);
        } catch (IOException e) {
            throw CifarLayout.unreadable(file, e);
        }
    }

    private static CifarImages readArchive(FileSystem fs, Path archive, List<String> batches, int wanted) {
        String source = archive.toString();
        Map<String, RecordBuffer> read = new HashMap<>();
        try (InputStream raw = fs.open(archive, BUFFER_BYTES);
             InputStream in = CifarLayout.isGzip(archive) ? new GZIPInputStream(raw, BUFFER_BYTES) : raw) {
            TarReader tar = new TarReader(in, source);
            // Members come in archive order, not batch order, so each is kept apart until the end.
            while (!enough(batches, read, wanted)) {
                TarReader.Entry entry = tar.next();
                if (entry == null) {
                    break;
                }
                String batch = CifarLayout.batchOfMember(entry.name());
                if (batch == null || !batches.contains(batch) || read.containsKey(batch)) {
                    continue;
                }
                String member = source + " (member " + entry.name() + ")";
                if (!entry.isFile()) {
                    throw new DataInputException(member + " is not a regular file (tar type '" + entry.type()
                            + "'), but a CIFAR-10 file of 3,073-byte records was expected; download or copy "
                            + CifarLayout.ARCHIVE_NAME + " again");
                }
                checkWholeRecords(member, entry.size(), false);
                long records = Math.min(entry.size() / RECORD_BYTES, wanted);
                RecordBuffer buffer = new RecordBuffer((int) Math.min(records, CifarImages.MAX_RECORDS));
                readRecords(tar.entryStream(), member, false, wanted, buffer);
                read.put(batch, buffer);
            }
        } catch (ZipException | EOFException e) {
            if (!CifarLayout.isGzip(archive)) {
                throw CifarLayout.unreadable(archive, e);
            }
            throw corruptGzip(source, e, "download or copy " + CifarLayout.ARCHIVE_NAME + " again");
        } catch (FileNotFoundException e) {
            throw new DataInputException(source + " no longer exists or is not a regular file (" + e.getMessage()
                    + "); " + CifarLayout.howToProvide(archive.getParent().toString()), e);
        } catch (IOException e) {
            throw CifarLayout.unreadable(archive, e);
        }
        if (!enough(batches, read, wanted)) {
            List<String> missing = new ArrayList<>();
            for (String batch : batches) {
                if (!read.containsKey(batch)) {
                    missing.add(CifarLayout.memberOf(batch));
                }
            }
            throw new DataInputException(source + " lacks the member(s) " + String.join(", ", missing)
                    + "; it is not the official CIFAR-10 binary archive or is incomplete: download "
                    + CifarLayout.OFFICIAL_URL + " again (MD5 " + CifarLayout.ARCHIVE_MD5 + "), or "
                    + CifarLayout.howToProvide(archive.getParent().toString()));
        }
        if (batches.size() == 1) {
            return read.get(batches.get(0)).toImages();
        }
        long total = 0;
        for (String batch : batches) {
            if (total >= wanted) {
                break;
            }
            total += read.get(batch).size();
        }
        RecordBuffer all = new RecordBuffer((int) Math.min(total, wanted));
        for (String batch : batches) {
            if (all.size() >= wanted) {
                break;
            }
            all.addAll(read.get(batch), wanted - all.size(), source);
        }
        return all.toImages();
    }

    /** Whether the batches read so far yield {@code wanted} records in batch order, or all there are. */
    private static boolean enough(List<String> batches, Map<String, RecordBuffer> read, int wanted) {
        long total = 0;
        for (String batch : batches) {
            RecordBuffer buffer = read.get(batch);
            if (buffer == null) {
                return false;
            }
            total += buffer.size();
            if (total >= wanted) {
                return true;
            }
        }
        return true;
    }

    /**
     * Reads up to {@code max} records (at least one) from {@code in}. When fewer than {@code max} are
     * there, reads to the end and so also checks that the data is whole records.
     */
    private static void readRecords(InputStream in, String source, boolean decompressed, int max, RecordBuffer out)
            throws IOException {
        byte[] record = new byte[RECORD_BYTES];
        int count = 0;
        while (count < max) {
            int got = in.readNBytes(record, 0, RECORD_BYTES);
            if (got == 0) {
                break;
            }
            if (got < RECORD_BYTES) {
                checkWholeRecords(source, (long) count * RECORD_BYTES + got, decompressed);
            }
            int label = record[0] & 0xFF;
            if (label >= CLASSES) {
                throw new DataInputException(String.format(Locale.ROOT,
                        "%s: record %,d (counting from 0, at byte offset %,d%s) has label %d, expected 0..%d; the "
                                + "file is not CIFAR-10 binary data (CIFAR-100 records have two label bytes) or is "
                                + "corrupt, re-copy it from the source", source, count, (long) count * RECORD_BYTES,
                        decompressed ? " of the decompressed data" : "", label, CLASSES - 1));
            }
            out.add(record, source);
            count++;
        }
        if (count == 0) {
            checkWholeRecords(source, 0, decompressed);
        }
    }

    private static void checkWholeRecords(String source, long size, boolean decompressed) {
        String what = decompressed ? " after decompression" : "";
        if (size == 0) {
            throw new DataInputException(String.format(Locale.ROOT,
                    "%s is empty (0 bytes%s); expected CIFAR-10 records of %,d bytes (an official batch holds "
                            + "10,000 records, %,d bytes); re-copy the file from the source",
                    source, what, RECORD_BYTES, 10_000L * RECORD_BYTES));
        }
        long remainder = size % RECORD_BYTES;
        if (remainder != 0) {
            throw new DataInputException(String.format(Locale.ROOT,
                    "%s: size %,d bytes%s is not a multiple of the %,d-byte CIFAR-10 record (%,d whole records "
                            + "and %,d bytes left over); the file is probably truncated, re-copy it from the source",
                    source, size, what, RECORD_BYTES, size / RECORD_BYTES, remainder));
        }
    }

    private static DataInputException corruptGzip(String source, IOException cause, String fix) {
        return new DataInputException(source + ": corrupt or truncated gzip data (" + cause.getMessage() + "); "
                + fix, cause);
    }

    /** Growable label and pixel arrays, sized once in the common case. */
    private static final class RecordBuffer {
        private byte[] labels;
        private byte[] pixels;
        private int size;

        RecordBuffer(int capacity) {
            labels = new byte[capacity];
            pixels = new byte[capacity * IMAGE_BYTES];
        }

        int size() {
            return size;
        }

        void add(byte[] record, String source) {
            ensureCapacity(size + 1L, source);
            labels[size] = record[0];
            System.arraycopy(record, LABEL_BYTES, pixels, size * IMAGE_BYTES, IMAGE_BYTES);
            size++;
        }

        void addAll(RecordBuffer other, int max, String source) {
            int count = Math.min(other.size, max);
            ensureCapacity((long) size + count, source);
            System.arraycopy(other.labels, 0, labels, size, count);
            System.arraycopy(other.pixels, 0, pixels, size * IMAGE_BYTES, count * IMAGE_BYTES);
            size += count;
        }

        private void ensureCapacity(long needed, String source) {
            if (needed <= labels.length) {
                return;
            }
            if (needed > CifarImages.MAX_RECORDS) {
                throw new DataInputException(String.format(Locale.ROOT,
                        "%s: more than %,d records; CIFAR-10 has 60,000, so this is not CIFAR-10 data: check the "
                                + "data location", source, CifarImages.MAX_RECORDS));
            }
            int capacity = (int) Math.min(CifarImages.MAX_RECORDS, Math.max(needed, labels.length * 2L + 16));
            labels = Arrays.copyOf(labels, capacity);
            pixels = Arrays.copyOf(pixels, capacity * IMAGE_BYTES);
        }

        CifarImages toImages() {
            if (size == labels.length) {
                return CifarImages.wrap(labels, pixels);
            }
            return CifarImages.wrap(Arrays.copyOf(labels, size), Arrays.copyOf(pixels, size * IMAGE_BYTES));
        }
    }
}
