package org.sqzspark.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CifarLayoutTest {

    private static final Configuration CONF = new Configuration();

    @TempDir
    Path dir;

    @Test
    void resolvesFolderOfPlainBatchFiles() {
        TestCifarFiles.writeBatches(dir, false);

        String described = CifarLayout.resolve(dir.toString(), CONF).describe();

        assertTrue(described.contains(dir.toString()), described);
        assertTrue(described.contains("data_batch_1.bin") && described.contains("test_batch.bin"), described);
    }

    @Test
    void resolvesRelativeLocalPathAgainstWorkingDirectory() {
        TestCifarFiles.writeBatches(dir, true);
        String relative = Path.of("").toAbsolutePath().relativize(dir).toString();

        String described = CifarLayout.resolve(relative, CONF).describe();

        assertTrue(described.contains(dir.toString()), described);
        assertTrue(described.contains("data_batch_1.bin.gz"), described);
    }

    @Test
    void resolvesFileUri() {
        TestCifarFiles.writeBatches(dir, false);

        String described = CifarLayout.resolve(dir.toUri().toString(), CONF).describe();

        assertTrue(described.contains(dir.toString()), described);
    }

    @Test
    void prefersBatchFilesToArchiveInTheSameFolder() {
        TestCifarFiles.writeBatches(dir.resolve(CifarLayout.BATCH_FOLDER), false);
        TestCifarFiles.write(dir.resolve(CifarLayout.ARCHIVE_NAME), TestCifarFiles.officialStyleArchive());

        String described = CifarLayout.resolve(dir.toString(), CONF).describe();

        assertTrue(described.contains(CifarLayout.BATCH_FOLDER + "/data_batch_1.bin"), described);
        assertFalse(described.contains(CifarLayout.ARCHIVE_NAME), described);
    }

    @Test
    void usesArchiveWhenFolderHoldsOnlyTheArchive() {
        TestCifarFiles.write(dir.resolve(CifarLayout.ARCHIVE_NAME), TestCifarFiles.officialStyleArchive());

        String described = CifarLayout.resolve(dir.toString(), CONF).describe();

        assertTrue(described.contains("archive") && described.contains(CifarLayout.ARCHIVE_NAME), described);
    }

    @Test
    void rejectsMissingFolderAndSaysWhatToPutThere() {
        Path missing = dir.resolve("no-such-folder");

        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarLayout.resolve(missing.toString(), CONF));

        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertTrue(e.getMessage().contains("put data_batch_1..5.bin and test_batch.bin (plain or .gz), or "
                + "cifar-10-binary.tar.gz, in "), e.getMessage());
    }

    @Test
    void rejectsFolderMissingSomeBatchFilesAndNamesThem() throws IOException {
        TestCifarFiles.writeBatches(dir, false);
        Files.delete(dir.resolve("data_batch_3.bin"));
        Files.delete(dir.resolve("test_batch.bin"));

        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarLayout.resolve(dir.toString(), CONF));

        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("lacks data_batch_3.bin, test_batch.bin"), e.getMessage());
    }

    @Test
    void rejectsFolderWithoutAnyCifarFiles() throws IOException {
        Files.writeString(dir.resolve("notes.txt"), "nothing here");

        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarLayout.resolve(dir.toString(), CONF));

        assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("holds no CIFAR-10 files"),
                e.getMessage());
    }

    @Test
    void rejectsDirectoryWhereBatchFileIsExpected() throws IOException {
        TestCifarFiles.writeBatches(dir, false);
        Files.delete(dir.resolve("data_batch_2.bin"));
        Files.createDirectory(dir.resolve("data_batch_2.bin"));

        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarLayout.resolve(dir.toString(), CONF));

        assertTrue(e.getMessage().contains(dir.resolve("data_batch_2.bin").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
    }

    @Test
    void rejectsPlainFileGivenAsDataLocation() {
        Path file = TestCifarFiles.write(dir.resolve("data_batch_1.bin"),
                TestCifarFiles.fileBytes(TestCifarFiles.trainBatch(1)));

        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarLayout.resolve(file.toString(), CONF));

        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("is a file"), e.getMessage());
    }

    @Test
    void rejectsUnknownFileSystemScheme() {
        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarLayout.resolve("nosuchfs://host/data", CONF));

        assertTrue(e.getMessage().contains("nosuchfs://host/data"), e.getMessage());
    }

    @Test
    void publishesTheOfficialArchiveIdentity() {
        assertEquals("cifar-10-binary.tar.gz", CifarLayout.ARCHIVE_NAME);
        assertEquals("c32a1d4ab5d03f1284b67883e8d87530", CifarLayout.ARCHIVE_MD5);
        assertTrue(CifarLayout.OFFICIAL_URL.endsWith("/" + CifarLayout.ARCHIVE_NAME));
    }
}
