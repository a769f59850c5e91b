package org.sqzspark.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/** Small, deterministic CIFAR-format data written by the tests themselves. */
final class TestCifarFiles {

    /** Records per training batch; uneven so that batch boundaries are exercised. */
    static final int[] TRAIN_RECORDS = {3, 4, 2, 3, 5};
    static final int TEST_RECORDS = 4;

    private TestCifarFiles() {
    }

    /** {@code n} records whose labels and pixels depend only on {@code seed} and the position. */
    static CifarImages images(int seed, int n) {
        byte[] labels = new byte[n];
        byte[] pixels = new byte[n * CifarFormat.IMAGE_BYTES];
        for (int r = 0; r < n; r++) {
            labels[r] = (byte) ((seed * 7 + r * 3) % CifarFormat.CLASSES);
            for (int k = 0; k < CifarFormat.IMAGE_BYTES; k++) {
                pixels[r * CifarFormat.IMAGE_BYTES + k] = (byte) (seed * 17 + r * 31 + k * 7);
            }
        }
        return CifarImages.of(labels, pixels);
    }

    /** Expected content of training batch {@code b} (1..5). */
    static CifarImages trainBatch(int b) {
        return images(b, TRAIN_RECORDS[b - 1]);
    }

    static CifarImages testBatch() {
        return images(9, TEST_RECORDS);
    }

    /** All training records in batch order. */
    static CifarImages allTrain() {
        List<CifarImages> parts = new ArrayList<>();
        for (int b = 1; b <= 5; b++) {
            parts.add(trainBatch(b));
        }
        return CifarImages.concat(parts);
    }

    /** The bytes of a CIFAR-10 binary file holding {@code images}. */
    static byte[] fileBytes(CifarImages images) {
        byte[] out = new byte[images.size() * CifarFormat.RECORD_BYTES];
        for (int i = 0; i < images.size(); i++) {
            int at = i * CifarFormat.RECORD_BYTES;
            out[at] = (byte) images.label(i);
            System.arraycopy(images.pixelBytes(), i * CifarFormat.IMAGE_BYTES, out, at + 1, CifarFormat.IMAGE_BYTES);
        }
        return out;
    }

    /** Names of the six batch files, with their contents. */
    static List<Member> batchMembers(String prefix) {
        List<Member> members = new ArrayList<>();
        for (int b = 1; b <= 5; b++) {
            members.add(new Member(prefix + "data_batch_" + b + ".bin", fileBytes(trainBatch(b))));
        }
        members.add(new Member(prefix + "test_batch.bin", fileBytes(testBatch())));
        return members;
    }

    /** Writes the six batch files into {@code folder}, gzip-compressed with suffix .gz if asked. */
    static Path writeBatches(Path folder, boolean gzip) {
        for (Member member : batchMembers("")) {
            write(folder.resolve(member.name() + (gzip ? ".gz" : "")), gzip ? gzip(member.data()) : member.data());
        }
        return folder;
    }

    static Path write(Path file, byte[] data) {
        try {
            Files.createDirectories(file.getParent());
            return Files.write(file, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] gzip(byte[] data) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
            out.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** A tar member; {@code data == null} makes a directory entry. */
    record Member(String name, byte[] data) {
    }

    /**
     * A ustar archive of {@code members}. Names longer than 100 bytes, or those given with a "|"
     * between prefix and name, are stored in the ustar prefix field.
     */
    static byte[] tar(List<Member> members) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Member member : members) {
            byte[] header = new byte[512];
            String full = member.name();
            String prefix = "";
            String name = full;
            int split = full.indexOf('|');
            if (split >= 0) {
                prefix = full.substring(0, split);
                name = full.substring(split + 1);
            }
            long size = member.data() == null ? 0 : member.data().length;
            put(header, 0, name);
            put(header, 100, "0000644");
            put(header, 108, "0000000");
            put(header, 116, "0000000");
            put(header, 124, String.format("%011o", size));
            put(header, 136, String.format("%011o", 1_700_000_000L));
            Arrays.fill(header, 148, 156, (byte) ' ');
            header[156] = (byte) (member.data() == null ? '5' : '0');
            put(header, 257, "ustar");
            put(header, 263, "00");
            put(header, 345, prefix);
            long sum = 0;
            for (byte b : header) {
                sum += b & 0xFF;
            }
            put(header, 148, String.format("%06o", sum));
            header[155] = ' ';
            out.writeBytes(header);
            if (member.data() != null) {
                out.writeBytes(member.data());
                out.writeBytes(new byte[(int) ((512 - size % 512) % 512)]);
            }
        }
        out.writeBytes(new byte[1024]);
        return out.toByteArray();
    }

    private static void put(byte[] header, int offset, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(bytes, 0, header, offset, bytes.length);
    }

    /** The official archive's layout: batches under cifar-10-batches-bin/, not in batch order, plus extras. */
    static byte[] officialStyleArchive() {
        List<Member> batches = batchMembers(CifarLayout.BATCH_FOLDER + "/");
        List<Member> members = new ArrayList<>();
        members.add(new Member(CifarLayout.BATCH_FOLDER + "/", null));
        members.add(batches.get(1));
        members.add(new Member(CifarLayout.BATCH_FOLDER + "/batches.meta.txt",
                "airplane\nautomobile\n".getBytes(StandardCharsets.US_ASCII)));
        members.add(batches.get(5));
        // stored with the ustar prefix field, as tar does for long paths
        members.add(new Member(CifarLayout.BATCH_FOLDER + "|data_batch_5.bin", batches.get(4).data()));
        members.add(batches.get(0));
        members.add(new Member(CifarLayout.BATCH_FOLDER + "/readme.html", new byte[700]));
        members.add(batches.get(3));
        members.add(batches.get(2));
        return gzip(tar(members));
    }

    /** Locates {@code shared/cifar10} in the working directory or one of its parents, if present. */
    static Path findSharedCifar10() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared").resolve("cifar10");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
