package org.sqzspark.job.results;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResultStoreTest {

    @TempDir
    Path tmp;

    @Test
    void replacesAFileWholeAndLeavesNoTemporaryFileBehind() throws IOException {
        Path out = tmp.resolve("a/b/out");
        ResultStore store = ResultStore.open(out.toString(), new Configuration());
        assertEquals("file:" + out, store.location());

        store.write("model.zip", s -> s.write("first".getBytes(StandardCharsets.UTF_8)));
        store.write("model.zip", s -> s.write("second, longer".getBytes(StandardCharsets.UTF_8)));

        assertEquals("second, longer", Files.readString(out.resolve("model.zip")));
        assertArrayEquals("second, longer".getBytes(StandardCharsets.UTF_8), store.readBytes("model.zip"));
        assertEquals(List.of("model.zip"), store.names(), "no probe or temporary file left");
        store.delete("model.zip");
        store.delete("model.zip");
        assertEquals(List.of(), store.names());
    }

    @Test
    void aWriterThatFailsLeavesTheOldFileAndNoTemporaryFile() throws IOException {
        Path out = tmp.resolve("out");
        ResultStore store = ResultStore.open(out.toString(), new Configuration());
        store.write("run.json", s -> s.write('1'));
        try {
            store.write("run.json", s -> {
                s.write('2');
                throw new IOException("disk full");
            });
        } catch (RuntimeException expected) {
            assertTrue(expected.getMessage().contains("run.json"), expected.getMessage());
        }
        assertEquals("1", Files.readString(out.resolve("run.json")));
        assertEquals(List.of("run.json"), store.names());
    }

    /**
     * A local results folder is written without starting a process: the child JVM has no PATH, so
     * Hadoop's local file system, which runs {@code chmod} and {@code readlink}, would fail there.
     */
    @Test
    void writesALocalFolderWithoutStartingAnyProcess() throws Exception {
        Path out = tmp.resolve("out");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
                WriteResults.class.getName(), out.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PATH", tmp.resolve("no-programs").toString());
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not end");
        assertEquals(0, p.exitValue(), output);
        assertEquals("row 1\nrow 2\n", Files.readString(out.resolve("results.csv")));
        assertFalse(Files.exists(out.resolve("results.csv.crc")));
    }

    /** Writes a file twice, as an epoch's CSV rows are; run by the test above in a JVM without PATH. */
    static final class WriteResults {
        public static void main(String[] args) {
            ResultStore store = ResultStore.open(args[0], new Configuration());
            store.write("results.csv", s -> s.write("row 1\n".getBytes(StandardCharsets.UTF_8)));
            store.write("results.csv", s -> s.write("row 1\nrow 2\n".getBytes(StandardCharsets.UTF_8)));
            store.readBytes("results.csv");
            store.names();
        }
    }

    @Test
    void aCsvOfAnEarlierVersionGainsEmptyValuesInTheNewColumns() {
        String older = String.join(",", ResultStore.CSV_HEADER.subList(0, ResultStore.CSV_HEADER.size() - 3));
        String row = "r1," + "x,".repeat(ResultStore.CSV_HEADER.size() - 5) + "\"a,b\"";
        String upgraded = ResultStore.upToDate(new org.apache.hadoop.fs.Path("/r/results.csv"), older + "\n" + row + "\n");
        assertEquals(String.join(",", ResultStore.CSV_HEADER) + "\n" + row + ",,,\n", upgraded);
        assertEquals(upgraded, ResultStore.upToDate(new org.apache.hadoop.fs.Path("/r/results.csv"), upgraded),
                "a CSV of this version stays as it is");
        IllegalStateException foreign = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> ResultStore.upToDate(new org.apache.hadoop.fs.Path("/r/results.csv"), "a,b,c\n1,2,3\n"));
        assertTrue(foreign.getMessage().contains("/r/results.csv") && foreign.getMessage().contains("--out"),
                foreign.getMessage());
    }
}
