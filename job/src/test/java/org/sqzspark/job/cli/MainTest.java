package org.sqzspark.job.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqzspark.job.LogCapture;
import org.sqzspark.job.SilentNamenode;
import org.sqzspark.job.SyntheticCifar;
import org.sqzspark.job.cluster.HadoopTimeouts;
import org.sqzspark.job.results.ResultStore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line's answers to bad input: one clear message naming the input and the fix, a
 * non-zero exit, no stack trace (neither in the message nor in the log), and an output folder left
 * exactly as it was.
 */
class MainTest {

    private static final String CONNECT_TIMEOUT = "spark.hadoop.ipc.client.connect.timeout";
    /** Training records the synthetic data of most tests holds: 2 per class, 5 classes. */
    private static final int TRAIN_RECORDS = 10;

    @TempDir
    Path tmp;

    /** The results folder of every run here; it already holds an earlier run's results. */
    private Path out;
    private Map<String, String> outBefore;
    private final StringWriter logged = new StringWriter();
    private LogCapture logCapture;

    private record Outcome(int exit, String out, String err, String log) {
    }

    @BeforeEach
    void resultsOfAnEarlierRun() throws IOException {
        out = Files.createDirectories(tmp.resolve("out"));
        Files.writeString(out.resolve(ResultStore.CSV_NAME),
                String.join(",", ResultStore.CSV_HEADER) + "\nearlier,shared,1\n");
        Files.writeString(out.resolve("run-earlier.json"), "{\"runId\": \"earlier\"}\n");
        Files.write(out.resolve("run-earlier.model.zip"), new byte[] {'P', 'K', 3, 4, 0, 1, 2});
        outBefore = contents(out);
    }

    /** Everything the job logs goes to the console at run time; here it is captured as well. */
    @BeforeEach
    void captureLog() {
        logCapture = LogCapture.start("MainTest", logged, "%p %c{1}: %m%n%ex");
    }

    @AfterEach
    void stopCapturingLog() {
        logCapture.close();
    }

    private Outcome run(String... args) {
        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();
        int exit = Main.run(new PrintWriter(stdout, true), new PrintWriter(stderr, true), args);
        return new Outcome(exit, stdout.toString(), stderr.toString(), logged.toString());
    }

    private Outcome train(Path data, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--master", "local[1]", "--data", data.toString(),
                "--out", out.toString()));
        args.addAll(Arrays.asList(more));
        return run(args.toArray(String[]::new));
    }

    /**
     * A user's mistake: exit {@code exit}, a short message on stderr naming every one of
     * {@code named}, no stack trace anywhere, the results folder untouched.
     */
    private void assertRefused(Outcome o, int exit, String... named) {
        String all = "stderr:\n" + o.err() + "log:\n" + o.log();
        assertEquals(exit, o.exit(), all);
        assertTrue(o.err().startsWith("error: "), all);
        assertTrue(o.err().lines().count() <= 3, "a few short lines: " + all);
        for (String name : named) {
            assertTrue(o.err().contains(name), "names " + name + ": " + all);
        }
        for (String trace : List.of("\tat ", "Exception", "Caused by")) {
            assertFalse(o.err().contains(trace), "no stack trace or exception class: " + all);
            assertFalse(o.log().contains(trace), "no stack trace or exception class in the log: " + all);
        }
        assertEquals(outBefore, contents(out), "the results folder is left as it was");
    }

    private static Map<String, String> contents(Path dir) {
        Map<String, String> files = new TreeMap<>();
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.toList()) {
                String name = dir.relativize(p).toString();
                files.put(name, Files.isDirectory(p) ? "folder"
                        : Base64.getEncoder().encodeToString(Files.readAllBytes(p)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    private Path synthetic() throws IOException {
        return SyntheticCifar.write(tmp.resolve("cifar"), TRAIN_RECORDS / SyntheticCifar.CLASSES, 1, 1);
    }

    /** Replaces {@code name} in {@code data} by its gzip-compressed {@code name.gz}, returning the latter. */
    private static Path gzipInPlace(Path data, String name) throws IOException {
        Path plain = data.resolve(name);
        Path gz = data.resolve(name + ".gz");
        Files.write(gz, gzip(Files.readAllBytes(plain)));
        Files.delete(plain);
        return gz;
    }

    private static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(buffer)) {
            gz.write(bytes);
        }
        return buffer.toByteArray();
    }

    /** A ustar archive of regular files (POSIX header: name, mode, size, mtime, checksum, type, magic). */
    private static byte[] tar(Map<String, byte[]> members) {
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        members.forEach((name, data) -> {
            byte[] header = new byte[512];
            put(header, 0, name);
            put(header, 100, "0000644");
            put(header, 124, String.format("%011o", data.length));
            put(header, 136, String.format("%011o", 1_700_000_000L));
            Arrays.fill(header, 148, 156, (byte) ' ');
            header[156] = '0';
            put(header, 257, "ustar");
            put(header, 263, "00");
            int sum = 0;
            for (byte b : header) {
                sum += b & 0xFF;
            }
            put(header, 148, String.format("%06o", sum));
            header[154] = 0;
            tar.writeBytes(header);
            tar.writeBytes(data);
            tar.writeBytes(new byte[(512 - data.length % 512) % 512]);
        });
        tar.writeBytes(new byte[1024]);
        return tar.toByteArray();
    }

    private static void put(byte[] header, int offset, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(bytes, 0, header, offset, bytes.length);
    }

    /** A local port nothing listens on. */
    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
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
    void trainAndSweepHelpSayWhichExitCodeADivergedRunGives() {
        for (String command : List.of("train", "sweep")) {
            Outcome o = run(command, "--help");
            assertEquals(0, o.exit(), o.err());
            assertTrue(o.out().contains("Exit codes:"), o.out());
            assertTrue(o.out().lines().anyMatch(l -> l.trim().startsWith(Main.EXIT_DIVERGED + "")
                    && l.contains("diverged")), command + " --help names exit code " + Main.EXIT_DIVERGED + ":\n"
                    + o.out());
        }
    }

    @Test
    void trainHelpShowsTheQuietOption() {
        Outcome o = run("train", "--help");
        assertEquals(0, o.exit(), o.err());
        assertTrue(o.out().contains("--quiet") && o.out().contains("progress line"), o.out());
    }

    // --- data ---

    @Test
    void rejectsWrongDataPathWithOneClearMessage() {
        Path missing = tmp.resolve("no-such-folder");
        Outcome o = train(missing);
        assertRefused(o, Main.EXIT_DATA, missing.toString(), "does not exist", "data_batch_1");
    }

    @Test
    void rejectsFolderWithoutCifarFiles() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Files.writeString(empty.resolve("notes.txt"), "not CIFAR-10");
        Outcome o = train(empty);
        assertRefused(o, Main.EXIT_DATA, empty.toString(), "holds no CIFAR-10 files", "put data_batch_1..5.bin");
    }

    @Test
    void rejectsTruncatedDataFileNamingIt() throws Exception {
        Path data = synthetic();
        Path batch = data.resolve("data_batch_3.bin");
        byte[] bytes = Files.readAllBytes(batch);
        Files.write(batch, Arrays.copyOf(bytes, bytes.length - 100));
        Outcome o = train(data);
        assertRefused(o, Main.EXIT_DATA, batch.toString(), "not a multiple of the 3,073-byte CIFAR-10 record",
                "re-copy it");
    }

    @Test
    void rejectsLabelOutOfRangeNamingFileAndRecord() throws Exception {
        Path data = synthetic();
        Path batch = data.resolve("data_batch_1.bin");
        byte[] bytes = Files.readAllBytes(batch);
        bytes[1 + 3072] = 10;
        Files.write(batch, bytes);
        Outcome o = train(data);
        assertRefused(o, Main.EXIT_DATA, batch.toString(), "record 1", "has label 10, expected 0..9", "re-copy");
    }

    @Test
    void rejectsEmptyDataFile() throws Exception {
        Path data = synthetic();
        Path batch = Files.write(data.resolve("test_batch.bin"), new byte[0]);
        Outcome o = train(data);
        assertRefused(o, Main.EXIT_DATA, batch.toString(), "is empty", "re-copy");
    }

    @Test
    void rejectsTruncatedGzipFile() throws Exception {
        Path data = synthetic();
        Path gz = gzipInPlace(data, "data_batch_2.bin");
        byte[] bytes = Files.readAllBytes(gz);
        Files.write(gz, Arrays.copyOf(bytes, bytes.length / 2));
        Outcome o = train(data);
        assertRefused(o, Main.EXIT_DATA, gz.toString(), "corrupt or truncated gzip", "re-copy");
    }

    @Test
    void rejectsCorruptGzipFile() throws Exception {
        Path data = synthetic();
        Path gz = gzipInPlace(data, "data_batch_1.bin");
        Files.writeString(gz, "this is not gzip data, only named like it ".repeat(20));
        Outcome o = train(data);
        assertRefused(o, Main.EXIT_DATA, gz.toString(), "corrupt or truncated gzip", "re-copy");
    }

    @Test
    void rejectsArchiveWithoutTheCifar10Members() throws Exception {
        // the CIFAR-100 binary archive's layout, under the CIFAR-10 archive's name
        Path archive = Files.createDirectories(tmp.resolve("cifar")).resolve("cifar-10-binary.tar.gz");
        Files.write(archive, gzip(tar(Map.of("cifar-100-binary/train.bin", new byte[3074 * 2],
                "cifar-100-binary/test.bin", new byte[3074]))));
        Outcome o = train(archive.getParent());
        assertRefused(o, Main.EXIT_DATA, archive.toString(), "lacks the member(s) cifar-10-batches-bin/data_batch_1.bin",
                "download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz again");
    }

    @Test
    void badDataCreatesNoResultsFolder() throws Exception {
        Path missing = tmp.resolve("no-such-folder");
        Path newOut = tmp.resolve("new-results");
        Outcome o = run("train", "--master", "local[1]", "--data", missing.toString(), "--out", newOut.toString());
        assertRefused(o, Main.EXIT_DATA, missing.toString());
        assertFalse(Files.exists(newOut), "nothing is created before the input is checked");
    }

    // --- options ---

    @Test
    void rejectsZeroPartitions() throws Exception {
        Outcome o = train(synthetic(), "--partitions", "0");
        assertRefused(o, Main.EXIT_USAGE, "--partitions", "at least 1", "was 0");
    }

    @Test
    void rejectsMorePartitionsThanTrainingRecords() throws Exception {
        Outcome o = train(synthetic(), "--partitions", "11");
        assertRefused(o, Main.EXIT_USAGE, "--partitions 11", "the " + TRAIN_RECORDS + " training records",
                "lower --partitions to at most " + TRAIN_RECORDS);
    }

    @Test
    void rejectsMorePartitionsThanTheTrainLimitKeeps() throws Exception {
        Outcome o = train(synthetic(), "--partitions", "8", "--train-limit", "5");
        assertRefused(o, Main.EXIT_USAGE, "--partitions 8", "the 5 training records --train-limit 5 keeps",
                "lower --partitions to at most 5, or raise --train-limit");
    }

    @Test
    void sweepRejectsAnyPartitionCountAboveTheTrainingRecordsBeforeTraining() throws Exception {
        Path data = SyntheticCifar.write(tmp.resolve("cifar"), 40, 1, 1);
        Outcome o = run("sweep", "--master", "local[1]", "--data", data.toString(), "--out", out.toString(),
                "--partitions", "1,500");
        assertRefused(o, Main.EXIT_USAGE, "--partitions 500", "the 200 training records",
                "lower --partitions to at most 200");
    }

    @Test
    void rejectsZeroBatch() throws Exception {
        Outcome o = train(synthetic(), "--batch", "0");
        assertRefused(o, Main.EXIT_USAGE, "--batch", "1..8192", "was 0");
    }

    @Test
    void rejectsZeroEpochs() throws Exception {
        Outcome o = train(synthetic(), "--epochs", "0");
        assertRefused(o, Main.EXIT_USAGE, "--epochs", "1..10000", "was 0");
    }

    @Test
    void rejectsGlobalBatchThatDoesNotSplitOverP() throws Exception {
        Outcome o = train(synthetic(), "--partitions", "3", "--global-batch", "100");
        assertRefused(o, Main.EXIT_USAGE, "--global-batch 100", "P=3", "e.g. 99");
    }

    @Test
    void rejectsWarmupLongerThanTheRun() throws Exception {
        Outcome o = train(synthetic(), "--epochs", "2", "--warmup-epochs", "5");
        assertRefused(o, Main.EXIT_USAGE, "--warmup-epochs", "0..2", "was 5");
    }

    @Test
    void rejectsUnknownLearningRateScaling() throws Exception {
        Outcome o = train(synthetic(), "--lr-scaling", "cubic");
        assertRefused(o, Main.EXIT_USAGE, "--lr-scaling", "cubic", "none, linear or sqrt");
    }

    @Test
    void rejectsUnknownTrainingMaster() throws Exception {
        Outcome o = train(synthetic(), "--training-master", "allreduce");
        assertRefused(o, Main.EXIT_USAGE, "allreduce", "shared or averaging");
    }

    @Test
    void rejectsReplicasInTurnsWithAClusterMaster() throws Exception {
        Outcome o = run("train", "--master", "spark://head:7077", "--data", synthetic().toString(), "--out",
                out.toString(), "--embedded", "turns");
        assertRefused(o, Main.EXIT_USAGE, "--embedded turns", "spark://head:7077", "drop --embedded");
    }

    @Test
    void rejectsUnknownWayToRunTheReplicas() throws Exception {
        Outcome o = train(synthetic(), "--embedded", "threads");
        assertRefused(o, Main.EXIT_USAGE, "threads", "turns or spark");
    }

    @Test
    void benchRejectsAnUnknownPartNamingTheParts() {
        Outcome o = run("bench", "--part", "epochs");
        assertRefused(o, Main.EXIT_USAGE, "--part epochs", "steps, spark, sweep, plain-epochs or all");
    }

    @Test
    void benchRejectsASweepWithMoreReplicasThanImages() {
        Outcome o = run("bench", "--part", "sweep", "--sweep-images", "2", "--sweep-partitions", "1,4");
        assertRefused(o, Main.EXIT_USAGE, "--sweep-images", "2 and [1, 4]");
    }

    @Test
    void benchWithoutTheSweepTakesAnyPartitions() {
        // submit/bench.sh --sweep-images 0 leaves the sweep out but still passes its default partitions
        Outcome o = run("bench", "--part", "steps", "--batch", "2", "--iters", "1", "--warmup", "0",
                "--sweep-images", "0", "--sweep-partitions", "1,2,48");
        assertEquals(0, o.exit(), o.err());
        assertTrue(o.out().contains("\"train_img_per_s\""), o.out());
    }

    @Test
    void benchPlainEpochsWithoutTheirImagesIsRefused() {
        Outcome o = run("bench", "--part", "plain-epochs");
        assertRefused(o, Main.EXIT_USAGE, "--part plain-epochs", "--plain-data", "run --part spark or all");
    }

    @Test
    void rejectsUnknownOptionPointingToHelp() throws Exception {
        Outcome o = train(synthetic(), "--epoch", "2");
        assertRefused(o, Main.EXIT_USAGE, "--epoch", "--epochs", "train --help");
    }

    @Test
    void rejectsUnknownMaster() throws Exception {
        Outcome o = run("train", "--master", "foo://x", "--data", synthetic().toString(), "--out", out.toString());
        assertRefused(o, Main.EXIT_USAGE, "--master foo://x", "local[*]", "spark://host:7077");
    }

    @Test
    void rejectsUnreachableStandaloneMasterQuickly() throws Exception {
        String master = "spark://127.0.0.1:" + closedPort();
        long start = System.nanoTime();
        Outcome o = run("train", "--master", master, "--data", synthetic().toString(), "--out", out.toString());
        assertRefused(o, Main.EXIT_USAGE, "--master " + master, "connection refused", "start it (submit/start-cluster.sh)");
        assertTrue(System.nanoTime() - start < 15e9, "fails in seconds, not after Spark's registration retries");
    }

    @Test
    void rejectsUnreachableHdfsDataQuickly() throws Exception {
        String data = "hdfs://127.0.0.1:" + closedPort() + "/cifar10";
        long start = System.nanoTime();
        Outcome o = run("train", "--master", "local[1]", "--data", data, "--out", out.toString());
        assertRefused(o, Main.EXIT_DATA, data, "connection refused", "namenode", "host and port");
        assertTrue(System.nanoTime() - start < 15e9, "fails in seconds, not after Hadoop's connection retries");
    }

    @Test
    void rejectsHdfsDataOnUnknownHost() {
        String data = "hdfs://no-such-namenode.invalid:9000/cifar10";
        Outcome o = run("train", "--master", "local[1]", "--data", data, "--out", out.toString());
        assertRefused(o, Main.EXIT_DATA, "hdfs://no-such-namenode.invalid:9000/cifar10",
                "unknown host no-such-namenode.invalid", "host and port");
    }

    @Test
    void givesUpOnANamenodeThatDoesNotAnswerInSeconds() throws Exception {
        // a listening socket whose accept queue is full drops further connection attempts, as a firewall does
        List<Socket> queued = new ArrayList<>();
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            for (int i = 0; i < 10 && queued.size() == i; i++) {
                Socket s = new Socket();
                try {
                    s.connect(silent.getLocalSocketAddress(), 500);
                    queued.add(s);
                } catch (SocketTimeoutException full) {
                    s.close();
                }
            }
            // a shorter connect timeout than the job's 5 s keeps the test short; the retries are the job's
            System.setProperty(CONNECT_TIMEOUT, "500");
            String data = "hdfs://127.0.0.1:" + silent.getLocalPort() + "/cifar10";
            long start = System.nanoTime();
            Outcome o = run("train", "--master", "local[1]", "--data", data, "--out", out.toString());
            assertRefused(o, Main.EXIT_DATA, data, "no answer in time", "namenode");
            assertTrue(System.nanoTime() - start < 15e9, "a few connect timeouts, not Hadoop's 45 retries");
        } finally {
            System.clearProperty(CONNECT_TIMEOUT);
            for (Socket s : queued) {
                s.close();
            }
        }
    }

    @Test
    void givesUpOnANamenodeThatAcceptsTheConnectionButNeverAnswers() throws Exception {
        try (SilentNamenode namenode = new SilentNamenode()) {
            String data = namenode.uri("/cifar10");
            long start = System.nanoTime();
            Outcome o = run("train", "--master", "local[1]", "--data", data, "--out", out.toString());
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(namenode.connections() > 0, "the job connected to the namenode");
            // the same answer as for a namenode that does not accept the connection
            assertRefused(o, Main.EXIT_DATA, data, "no answer in time", "namenode");
            assertTrue(seconds < HadoopTimeouts.RPC_TIMEOUT_MS / 1000.0 + 10, "gave up after " + seconds + " s");
        }
    }

    @Test
    void givesUpOnAnOutputNamenodeThatAcceptsTheConnectionButNeverAnswers() throws Exception {
        try (SilentNamenode namenode = new SilentNamenode()) {
            String hdfsOut = namenode.uri("/results");
            long start = System.nanoTime();
            Outcome o = run("train", "--master", "local[1]", "--data", synthetic().toString(), "--out", hdfsOut);
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(namenode.connections() > 0, "the job connected to the namenode");
            assertRefused(o, Main.EXIT_USAGE, "--out " + hdfsOut, "no answer in time", "HDFS");
            assertTrue(seconds < HadoopTimeouts.RPC_TIMEOUT_MS / 1000.0 + 10, "gave up after " + seconds + " s");
        }
    }

    @Test
    void rejectsUnreachableHdfsOutputQuickly() throws Exception {
        String hdfsOut = "hdfs://127.0.0.1:" + closedPort() + "/results";
        long start = System.nanoTime();
        Outcome o = run("train", "--master", "local[1]", "--data", synthetic().toString(), "--out", hdfsOut);
        assertRefused(o, Main.EXIT_USAGE, "--out " + hdfsOut, "connection refused", "HDFS");
        assertTrue(System.nanoTime() - start < 15e9, "fails in seconds, not after Hadoop's connection retries");
    }

    @Test
    void rejectsOutputThatIsAFileAndLeavesItAsItWas() throws Exception {
        Path file = out.resolve("run-earlier.json");
        Outcome o = run("train", "--master", "local[1]", "--data", synthetic().toString(), "--out", file.toString());
        assertRefused(o, Main.EXIT_USAGE, "--out " + file, "is a file, not a folder", "give a folder");
    }

    @Test
    void rejectsOutputThatCannotBeCreated() throws Exception {
        // under a regular file: no folder can be made there, not even by root
        Path under = out.resolve("run-earlier.json").resolve("results");
        Outcome o = run("train", "--master", "local[1]", "--data", synthetic().toString(), "--out", under.toString());
        assertRefused(o, Main.EXIT_USAGE, "--out " + under, "give a folder you can write to");
    }
}
