package org.sqzspark.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CifarReaderTest {

    private static final Configuration CONF = new Configuration();

    @TempDir
    Path dir;

    private static CifarLayout layout(Path location) {
        return CifarLayout.resolve(location.toString(), CONF);
    }

    private static void assertReadsAllBatches(CifarLayout layout) {
        assertEquals(TestCifarFiles.allTrain(), CifarReader.readTrain(layout, 0));
        assertEquals(TestCifarFiles.testBatch(), CifarReader.readTest(layout, 0));
    }

    @Test
    void plainBatchFilesRoundTripToExactLabelsAndPixels() {
        TestCifarFiles.writeBatches(dir, false);

        CifarImages train = CifarReader.readTrain(layout(dir), 0);

        assertEquals(TestCifarFiles.allTrain(), train);
        assertEquals(17, train.size());
        // record 3 is the first of data_batch_2: label (2*7 + 0) % 10, pixel k = (2*17 + 0 + 7k) mod 256
        assertEquals(4, train.label(3));
        int k = 2 * 1024 + 5 * 32 + 7;
        assertEquals((34 + 7 * k) & 0xFF, train.pixel(3, 2, 5, 7));
        assertEquals(TestCifarFiles.testBatch(), CifarReader.readTest(layout(dir), 0));
    }

    @Test
    void gzipBatchFilesRoundTrip() {
        TestCifarFiles.writeBatches(dir, true);

        assertReadsAllBatches(layout(dir));
    }

    @Test
    void batchFilesInTheArchiveSubfolderRoundTrip() {
        TestCifarFiles.writeBatches(dir.resolve(CifarLayout.BATCH_FOLDER), true);

        assertReadsAllBatches(layout(dir));
    }

    @Test
    void mixOfPlainAndGzipFilesRoundTrips() throws IOException {
        TestCifarFiles.writeBatches(dir, false);
        Path plain = dir.resolve("data_batch_4.bin");
        TestCifarFiles.write(dir.resolve("data_batch_4.bin.gz"), TestCifarFiles.gzip(Files.readAllBytes(plain)));
        Files.delete(plain);

        assertReadsAllBatches(layout(dir));
    }

    @Test
    void archiveInFolderRoundTripsInBatchOrder() {
        TestCifarFiles.write(dir.resolve(CifarLayout.ARCHIVE_NAME), TestCifarFiles.officialStyleArchive());

        assertReadsAllBatches(layout(dir));
    }

    @Test
    void archiveGivenAsDataLocationRoundTrips() {
        Path archive = TestCifarFiles.write(dir.resolve(CifarLayout.ARCHIVE_NAME),
                TestCifarFiles.officialStyleArchive());

        assertReadsAllBatches(layout(archive));
    }

    @Test
    void fileUriRoundTrips() {
        TestCifarFiles.writeBatches(dir, true);

        assertReadsAllBatches(CifarLayout.resolve("file:" + dir, CONF));
    }

    @Test
    void trainLimitReadsOnlyTheFirstRecordsAcrossBatchBoundaries() {
        TestCifarFiles.writeBatches(dir, true);
        CifarImages all = TestCifarFiles.allTrain();

        // 3 + 4 records in the first two batches, so 9 ends inside data_batch_3
        assertEquals(all.slice(0, 9), CifarReader.readTrain(layout(dir), 9));
        assertEquals(all.slice(0, 3), CifarReader.readTrain(layout(dir), 3));
        assertEquals(all.slice(0, 1), CifarReader.readTrain(layout(dir), 1));
        assertEquals(all, CifarReader.readTrain(layout(dir), 1000));
        assertEquals(TestCifarFiles.testBatch().slice(0, 2), CifarReader.readTest(layout(dir), 2));
    }

    @Test
    void trainLimitReadsOnlyTheFirstRecordsFromArchive() {
        TestCifarFiles.write(dir.resolve(CifarLayout.ARCHIVE_NAME), TestCifarFiles.officialStyleArchive());
        CifarImages all = TestCifarFiles.allTrain();

        assertEquals(all.slice(0, 9), CifarReader.readTrain(layout(dir), 9));
        assertEquals(all.slice(0, 2), CifarReader.readTrain(layout(dir), 2));
    }

    @Test
    void trainLimitDoesNotOpenBatchesItDoesNotNeed() {
        TestCifarFiles.writeBatches(dir, false);
        CifarLayout layout = layout(dir);
        // a corrupt later batch does not matter when the limit is reached before it
        TestCifarFiles.write(dir.resolve("data_batch_3.bin"), new byte[10]);

        assertEquals(TestCifarFiles.allTrain().slice(0, 7), CifarReader.readTrain(layout, 7));
    }

    @Test
    void rejectsEmptyFile() {
        TestCifarFiles.writeBatches(dir, false);
        Path empty = TestCifarFiles.write(dir.resolve("data_batch_2.bin"), new byte[0]);

        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarReader.readTrain(layout(dir), 0));

        assertTrue(e.getMessage().contains(empty.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("is empty"), e.getMessage());
    }

    @Test
    void rejectsGzipFileThatDecompressesToNothing() {
        TestCifarFiles.writeBatches(dir, true);
        Path empty = TestCifarFiles.write(dir.resolve("test_batch.bin.gz"), TestCifarFiles.gzip(new byte[0]));

        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarReader.readTest(layout(dir), 0));

        assertTrue(e.getMessage().contains(empty.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("is empty (0 bytes after decompression)"), e.getMessage());
    }

    @Test
    void rejectsTruncatedFileWhoseSizeIsNotAMultipleOfTheRecord() {
        TestCifarFiles.writeBatches(dir, false);
        byte[] whole = TestCifarFiles.fileBytes(TestCifarFiles.trainBatch(1));
        Path truncated = TestCifarFiles.write(dir.resolve("data_batch_1.bin"),
                Arrays.copyOf(whole, 2 * CifarFormat.RECORD_BYTES + 100));

        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarReader.readTrain(layout(dir), 0));

        assertTrue(e.getMessage().contains(truncated.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("size 6,246 bytes is not a multiple of the 3,073-byte CIFAR-10 record"),
                e.getMessage());
        assertTrue(e.getMessage().contains("2 whole records and 100 bytes left over"), e.getMessage());
        assertTrue(e.getMessage().contains("probably truncated"), e.getMessage());
    }

    @Test
    void rejectsGzipFileWhoseDecompressedSizeIsNotAMultipleOfTheRecord() {
        TestCifarFiles.writeBatches(dir, true);
        byte[] whole = TestCifarFiles.fileBytes(TestCifarFiles.testBatch());
        Path truncated = TestCifarFiles.write(dir.resolve("test_batch.bin.gz"),
                TestCifarFiles.gzip(Arrays.copyOf(whole, CifarFormat.RECORD_BYTES + 1)));

        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarReader.readTest(layout(dir), 0));

        assertTrue(e.getMessage().contains(truncated.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("size 3,074 bytes after decompression is not a multiple"), e.getMessage());
        assertTrue(e.getMessage().contains("1 whole records and 1 bytes left over"), e.getMessage());
    }

    @Test
    void rejectsRecordWithLabelOutOfRange() {
        TestCifarFiles.writeBatches(dir, false);
        byte[] bytes = TestCifarFiles.fileBytes(TestCifarFiles.trainBatch(2));
        bytes[2 * CifarFormat.RECORD_BYTES] = (byte) 200;
        Path bad = TestCifarFiles.write(dir.resolve("data_batch_2.bin"), bytes);

        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarReader.readTrain(layout(dir), 0));

        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("record 2 (counting from 0"), e.getMessage());
        assertTrue(e.getMessage().contains("has label 200, expected 0..9"), e.getMessage());
    }

    @Test
    void rejectsCorruptGzip() {
        TestCifarFiles.writeBatches(dir, true);
        byte[] notGzip = TestCifarFiles.fileBytes(TestCifarFiles.trainBatch(1));
        Path bad = TestCifarFiles.write(dir.resolve("data_batch_1.bin.gz"), notGzip);

        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarReader.readTrain(layout(dir), 0));

        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("corrupt or truncated gzip data"), e.getMessage());
        assertTrue(e.getMessage().contains("re-copy the file"), e.getMessage());
    }

    @Test
    void rejectsTruncatedGzip() {
        TestCifarFiles.writeBatches(dir, true);
        byte[] gz = TestCifarFiles.gzip(TestCifarFiles.fileBytes(TestCifarFiles.trainBatch(5)));
        Path bad = TestCifarFiles.write(dir.resolve("data_batch_5.bin.gz"), Arrays.copyOf(gz, gz.length / 2));

        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarReader.readTrain(layout(dir), 0));

        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("corrupt or truncated gzip data"), e.getMessage());
    }

    @Test
    void rejectsArchiveWithoutTheExpectedMembers() {
        List<TestCifarFiles.Member> batches = TestCifarFiles.batchMembers(CifarLayout.BATCH_FOLDER + "/");
        Path archive = TestCifarFiles.write(dir.resolve(CifarLayout.ARCHIVE_NAME),
                TestCifarFiles.gzip(TestCifarFiles.tar(List.of(batches.get(0), batches.get(2), batches.get(5)))));
        CifarLayout layout = layout(dir);

        DataInputException e = assertThrows(DataInputException.class, () -> CifarReader.readTrain(layout, 0));

        assertTrue(e.getMessage().contains(archive.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("lacks the member(s) cifar-10-batches-bin/data_batch_2.bin, "
                + "cifar-10-batches-bin/data_batch_4.bin, cifar-10-batches-bin/data_batch_5.bin"), e.getMessage());
        assertFalse(e.getMessage().contains("data_batch_3.bin,"), e.getMessage());
        assertEquals(TestCifarFiles.testBatch(), CifarReader.readTest(layout, 0));
    }

    @Test
    void rejectsArchiveCutInTheMiddleOfAMember() {
        byte[] tar = TestCifarFiles.tar(TestCifarFiles.batchMembers(CifarLayout.BATCH_FOLDER + "/"));
        Path archive = TestCifarFiles.write(dir.resolve(CifarLayout.ARCHIVE_NAME),
                TestCifarFiles.gzip(Arrays.copyOf(tar, 512 + 1000)));

        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarReader.readTrain(layout(archive), 0));

        assertTrue(e.getMessage().contains(archive.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void rejectsFileThatIsNotATarArchive() {
        Path archive = TestCifarFiles.write(dir.resolve(CifarLayout.ARCHIVE_NAME),
                TestCifarFiles.gzip(TestCifarFiles.fileBytes(TestCifarFiles.trainBatch(1))));

        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarReader.readTest(layout(archive), 0));

        assertTrue(e.getMessage().contains(archive.toString()) && e.getMessage().contains("not a tar archive"),
                e.getMessage());
    }

    @Test
    void rejectsDirectoryFoundWhereBatchFileWasResolved() throws IOException {
        TestCifarFiles.writeBatches(dir, false);
        CifarLayout layout = layout(dir);
        Path batch = dir.resolve("data_batch_1.bin");
        Files.delete(batch);
        Files.createDirectory(batch);

        DataInputException e = assertThrows(DataInputException.class, () -> CifarReader.readTrain(layout, 0));

        assertTrue(e.getMessage().contains(batch.toString()) && e.getMessage().contains("is a directory"),
                e.getMessage());
    }
}
