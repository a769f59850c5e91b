package org.sqzspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's answers to bad input: one clear message, a non-zero exit, nothing lost. */
class MainTest {

    @TempDir
    Path tmp;

    private record Outcome(int exit, String out, String err) {
    }

    private Outcome run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Outcome(exit, out.toString(), err.toString());
    }

    private Outcome train(Path data, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--master", "local[1]", "--data", data.toString(),
                "--out", tmp.resolve("out").toString()));
        args.addAll(Arrays.asList(more));
        return run(args.toArray(String[]::new));
    }

    @Test
    void helpListsBothCommands() {
        Outcome o = run("--help");
        assertEquals(0, o.exit(), o.err());
        assertTrue(o.out().contains("train") && o.out().contains("sweep"), o.out());
    }

    @Test
    void sweepHelpShowsTheDefaultPartitionList() {
        Outcome o = run("sweep", "--help");
        assertEquals(0, o.exit(), o.err());
        assertTrue(o.out().contains("1,2,4,8,16,24,32,48"), o.out());
        assertTrue(o.out().contains("--train-limit"), o.out());
    }

    @Test
    void rejectsWrongDataPathWithOneClearMessage() {
        Path missing = tmp.resolve("no-such-folder");
        Outcome o = train(missing);
        assertEquals(Main.EXIT_DATA, o.exit(), o.err());
        assertTrue(o.err().contains(missing.toString()), o.err());
        assertTrue(o.err().contains("data_batch_1"), "says which files to put there: " + o.err());
        assertFalse(o.err().contains("\tat "), "no stack trace: " + o.err());
    }

    @Test
    void rejectsTruncatedDataFileNamingIt() throws Exception {
        Path data = SyntheticCifar.write(tmp.resolve("cifar"), 2, 1, 1);
        Path batch = data.resolve("data_batch_3.bin");
        byte[] bytes = Files.readAllBytes(batch);
        Files.write(batch, Arrays.copyOf(bytes, bytes.length - 100));
        Outcome o = train(data);
        assertEquals(Main.EXIT_DATA, o.exit(), o.err());
        assertTrue(o.err().contains("data_batch_3.bin"), o.err());
        assertTrue(o.err().contains("3073") || o.err().contains("3,073"), o.err());
        assertFalse(o.err().contains("\tat "), "no stack trace: " + o.err());
    }

    @Test
    void rejectsZeroPartitions() throws Exception {
        Outcome o = train(tmp, "--partitions", "0");
        assertEquals(Main.EXIT_USAGE, o.exit(), o.err());
        assertTrue(o.err().contains("--partitions"), o.err());
    }

    @Test
    void rejectsMorePartitionsThanTrainingRecords() throws Exception {
        Path data = SyntheticCifar.write(tmp.resolve("cifar"), 2, 1, 1);
        Outcome o = train(data, "--partitions", "11");
        assertEquals(Main.EXIT_USAGE, o.exit(), o.err());
        assertTrue(o.err().contains("11") && o.err().contains("10"), o.err());
    }

    @Test
    void rejectsUnknownTrainingMaster() {
        Outcome o = train(tmp, "--training-master", "allreduce");
        assertEquals(Main.EXIT_USAGE, o.exit(), o.err());
        assertTrue(o.err().contains("allreduce") && o.err().contains("shared"), o.err());
    }

    @Test
    void rejectsOutputThatIsAFileAndLeavesItAsItWas() throws Exception {
        Path data = SyntheticCifar.write(tmp.resolve("cifar"), 1, 1, 1);
        Path file = tmp.resolve("results.txt");
        Files.writeString(file, "keep me");
        Outcome o = run("train", "--master", "local[1]", "--data", data.toString(), "--out", file.toString());
        assertEquals(Main.EXIT_USAGE, o.exit(), o.err());
        assertTrue(o.err().contains(file.toString()), o.err());
        assertEquals("keep me", Files.readString(file));
    }

    @Test
    void rejectsUnknownMaster() throws Exception {
        Path data = SyntheticCifar.write(tmp.resolve("cifar"), 1, 1, 1);
        Outcome o = run("train", "--master", "nosuch://x", "--data", data.toString(), "--out",
                tmp.resolve("out").toString(), "--epochs", "1");
        assertEquals(Main.EXIT_USAGE, o.exit(), o.err());
        assertTrue(o.err().contains("nosuch://x"), o.err());
    }
}
