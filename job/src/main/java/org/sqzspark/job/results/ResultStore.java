package org.sqzspark.job.results;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CreateFlag;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.fs.permission.FsPermission;
import org.sqzspark.data.NetworkFailure;
import org.sqzspark.job.train.TrainConfig;

/**
 * The results folder: one JSON file per run ({@code run-<id>.json}), one CSV with a row per (run,
 * epoch) ({@value #CSV_NAME}), and the trained model ({@code run-<id>.model.zip}, with the channel
 * statistics its inputs are normalized with); {@code predict --data} adds the test set's confusion
 * matrix, {@code run-<id>.confusion.csv}.
 *
 * <p>Every file is written to a temporary name and renamed over the old one, so a reader, or a
 * crash, never sees half a file. Works on a local disk ({@code file:}) and on any Hadoop file system
 * ({@code hdfs:}).
 */
public final class ResultStore {

    public static final String CSV_NAME = "results.csv";
    /**
     * The CSV's fixed header; rows from every run share it. Columns are only ever added at the end, so
     * that a CSV of an earlier version reads on ({@link #upToDate}). {@code diverged} is true on the row
     * of the epoch at which a run's loss or parameters turned NaN or infinite, its last.
     */
    public static final List<String> CSV_HEADER = List.of(
            "run_id", "training_master", "partitions", "executors", "workers_per_executor", "epoch", "epochs",
            "batch_per_replica", "global_batch", "steps_per_epoch", "train_images", "test_images",
            "optimizer", "learning_rate", "momentum", "l2", "dropout", "averaging_frequency", "threshold", "seed",
            "test_accuracy", "train_loss", "fit_seconds", "eval_seconds", "images_per_second", "elapsed_seconds",
            "load_seconds", "partition_seconds", "master", "java_version", "os_arch", "driver_cores",
            "spark_version", "dl4j_version", "nd4j_backend", "nd4j_platform", "lr_scaling", "warmup_epochs",
            "fixed_global_batch", "peak_learning_rate", "warmup_steps", "execution", "arithmetic", "link_mbit",
            "net_sent_bytes_per_step", "net_received_bytes_per_step", "diverged");

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Folder folder;
    private final Path dir;

    private ResultStore(Folder folder, Path dir) {
        this.folder = folder;
        this.dir = dir;
    }

    /**
     * Opens (and creates) the results folder, checking that it can be written.
     *
     * <p>A local folder ({@code file:}) is written with {@code java.nio}: Hadoop's local file system
     * starts a {@code chmod} or {@code readlink} process for almost every file it writes when its
     * native library is not loaded (as here), about 40 processes per run. Under qemu-user
     * emulation of an arm64 JVM, such a fork at the moment another thread forks (Spark's heartbeat
     * asking {@code getconf} for the page size) was seen to hang the run.
     *
     * @throws IllegalArgumentException naming the folder when it cannot be created or written
     */
    public static ResultStore open(String out, Configuration hadoopConf) {
        Path dir = new Path(toUri(out));
        try {
            if ("file".equals(dir.toUri().getScheme())) {
                java.nio.file.Path local = java.nio.file.Path.of(dir.toUri());
                if (Files.exists(local) && !Files.isDirectory(local)) {
                    throw notAFolder(out);
                }
                Files.createDirectories(local);
                return new ResultStore(new LocalFolder(local), dir).probed();
            }
            FileContext fc = FileContext.getFileContext(dir.toUri(), hadoopConf);
            Path qualified = fc.makeQualified(dir);
            if (fc.util().exists(qualified) && !fc.getFileStatus(qualified).isDirectory()) {
                throw notAFolder(out);
            }
            fc.mkdir(qualified, FsPermission.getDirDefault(), true);
            return new ResultStore(new HadoopFolder(fc, qualified), qualified).probed();
        } catch (IOException | RuntimeException e) {
            if (e instanceof IllegalArgumentException iae && iae.getMessage().startsWith("--out")) {
                throw iae;
            }
            String network = NetworkFailure.describe(e);
            if (network != null) {
                throw new IllegalArgumentException("--out " + out + ": cannot reach its file system (" + network
                        + "): check that HDFS is running and that the URI names its namenode's host and port,"
                        + " e.g. hdfs://head:9000/results", e);
            }
            throw new IllegalArgumentException("--out " + out + " cannot be written (" + describe(e)
                    + "): give a folder you can write to", e);
        }
    }

    private static IllegalArgumentException notAFolder(String out) {
        return new IllegalArgumentException("--out " + out + " is a file, not a folder: give a folder for results");
    }

    private ResultStore probed() throws IOException {
        String probe = ".write-probe-" + UUID.randomUUID();
        folder.create(probe, new byte[] {0});
        folder.delete(probe);
        return this;
    }

    private static String describe(Exception e) {
        // java.nio's messages are the bare path when the reason is the exception's type
        if (e instanceof java.nio.file.FileSystemException f) {
            String reason = f.getReason() != null ? f.getReason()
                    : e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                    : e instanceof java.nio.file.NoSuchFileException ? "no such file or folder"
                    : e instanceof java.nio.file.FileAlreadyExistsException ? "already exists"
                    : "file system error";
            return reason + ": " + f.getFile();
        }
        return e.getMessage();
    }

    /** The folder, fully qualified. */
    public String location() {
        return dir.toString();
    }

    /** Writes (or replaces) the run's JSON result. */
    public void writeRun(RunResult run) {
        try {
            writeAtomically(jsonName(run.runId()), JSON.writeValueAsBytes(run));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the result of " + run.runId() + " to " + dir, e);
        }
    }

    /** Adds one CSV row for the run's epoch; the header is written with the first row. */
    public void appendEpoch(RunResult run, EpochMetrics epoch) {
        Path csv = new Path(dir, CSV_NAME);
        try {
            String existing = folder.exists(CSV_NAME) ? upToDate(csv, text(CSV_NAME)) : "";
            String header = String.join(",", CSV_HEADER);
            StringBuilder text = new StringBuilder(existing.isEmpty() ? header + "\n" : existing);
            text.append(String.join(",", csvRow(run, epoch))).append('\n');
            writeAtomically(CSV_NAME, text.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + csv, e);
        }
    }

    /**
     * Replaces the CSV rows of {@code run} with one row per epoch it records, keeping every other
     * run's rows as they are: after a resume, each epoch appears once whatever the crash left.
     */
    public void rewriteRunRows(RunResult run) {
        Path csv = new Path(dir, CSV_NAME);
        try {
            String header = String.join(",", CSV_HEADER);
            StringBuilder text = new StringBuilder(header).append('\n');
            if (folder.exists(CSV_NAME)) {
                String existing = upToDate(csv, text(CSV_NAME));
                for (String line : existing.substring(header.length() + 1).split("\n")) {
                    if (!line.isEmpty() && !line.startsWith(run.runId() + ",")) {
                        text.append(line).append('\n');
                    }
                }
            }
            for (EpochMetrics e : run.epochs()) {
                text.append(String.join(",", csvRow(run, e))).append('\n');
            }
            writeAtomically(CSV_NAME, text.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rewrite " + csv, e);
        }
    }

    /**
     * The CSV's text under this version's header. A CSV of an earlier version, whose header is the
     * start of this one's, gets empty values in the columns added since.
     *
     * @throws IllegalStateException if the header is another one altogether
     */
    static String upToDate(Path csv, String existing) {
        String header = String.join(",", CSV_HEADER);
        if (existing.isEmpty() || existing.startsWith(header + "\n")) {
            return existing;
        }
        int end = existing.indexOf('\n');
        List<String> old = List.of((end < 0 ? existing : existing.substring(0, end)).split(","));
        if (old.size() >= CSV_HEADER.size() || !CSV_HEADER.subList(0, old.size()).equals(old)) {
            throw new IllegalStateException(csv + " has another header than this version writes: move it away"
                    + " or choose another --out folder");
        }
        String padding = ",".repeat(CSV_HEADER.size() - old.size());
        StringBuilder text = new StringBuilder(header).append('\n');
        for (String line : existing.substring(end + 1).split("\n")) {
            if (!line.isEmpty()) {
                text.append(line).append(padding).append('\n');
            }
        }
        return text.toString();
    }

    /** Names of the files in the folder. */
    public List<String> names() {
        try {
            return folder.names();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /** The content of file {@code name} in the folder. */
    public byte[] readBytes(String name) {
        try {
            return folder.read(name);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + name + " in " + dir, e);
        }
    }

    /** Deletes file {@code name} if it exists. */
    public void delete(String name) {
        try {
            folder.delete(name);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + name + " in " + dir, e);
        }
    }

    /** Writes a file produced by {@code writer} atomically under {@code name}. */
    public void write(String name, IoWriter writer) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            writer.write(bytes);
            writeAtomically(name, bytes.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + name + " to " + dir, e);
        }
    }

    public static String jsonName(String runId) {
        return "run-" + runId + ".json";
    }

    public static String modelName(String runId) {
        return "run-" + runId + ".model.zip";
    }

    public static List<String> csvRow(RunResult run, EpochMetrics e) {
        TrainConfig c = run.config();
        RunEnvironment env = run.environment();
        List<String> row = List.of(
                run.runId(), c.trainingMaster().name().toLowerCase(Locale.ROOT), num(c.partitions()),
                num(run.layout().executors()), num(run.layout().workersPerExecutor()), num(e.epoch()),
                num(c.epochs()), num(c.batchPerReplica()), num(run.globalBatch()), num(run.stepsPerEpoch()),
                num(run.trainImages()), num(run.testImages()), c.model().optimizer().name().toLowerCase(Locale.ROOT),
                num(c.model().learningRate()), num(c.model().momentum()), num(c.model().l2()),
                num(c.model().dropout()), num(c.averagingFrequency()), num(c.threshold()), num(c.model().seed()),
                num(e.testAccuracy()), num(e.trainLoss()), num(e.fitSeconds()), num(e.evalSeconds()),
                num(e.imagesPerSecond()), num(e.elapsedSeconds()), num(run.loadSeconds()),
                num(run.partitionSeconds()), csvText(env.master()), csvText(env.javaVersion()), env.osArch(),
                num(env.driverCores()), env.sparkVersion(), env.dl4jVersion(), env.nd4jBackend(), env.nd4jPlatform(),
                c.lrScaling().toString(), num(c.warmupEpochs()), num(c.fixedGlobalBatch()), num(run.peakLearningRate()),
                num(run.warmupSteps()), c.execution().toString(), c.arithmetic().toString(),
                numOrEmpty(env.linkMbit() > 0 ? env.linkMbit() : Double.NaN),
                numOrEmpty(e.sentBytesPerStep(run.stepsPerEpoch())),
                numOrEmpty(e.receivedBytesPerStep(run.stepsPerEpoch())),
                Boolean.toString(run.diverged() && e.epoch() == run.epochs().get(run.epochs().size() - 1).epoch()));
        if (row.size() != CSV_HEADER.size()) {
            throw new IllegalStateException("CSV row has " + row.size() + " fields, header " + CSV_HEADER.size());
        }
        return row;
    }

    private static String numOrEmpty(double v) {
        return Double.isNaN(v) ? "" : num(v);
    }

    private static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }

    private static String csvText(String s) {
        if (s.contains(",") || s.contains("\"")) {
            return '"' + s.replace("\"", "\"\"") + '"';
        }
        return s;
    }

    private String text(String name) throws IOException {
        return new String(folder.read(name), StandardCharsets.UTF_8);
    }

    /** Writes to a temporary name, then renames it over {@code name}. */
    private void writeAtomically(String name, byte[] content) throws IOException {
        String tmp = "." + name + ".tmp-" + UUID.randomUUID();
        folder.create(tmp, content);
        try {
            folder.replace(tmp, name);
        } catch (IOException | RuntimeException e) {
            folder.delete(tmp);
            throw e;
        }
    }

    private static URI toUri(String location) {
        if (location.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*") && !location.matches("^[a-zA-Z]:\\\\.*")) {
            return URI.create(location);
        }
        return java.nio.file.Path.of(location).toAbsolutePath().normalize().toUri();
    }

    /** The files of the results folder, by name. */
    private interface Folder {
        boolean exists(String name) throws IOException;

        byte[] read(String name) throws IOException;

        /** Creates file {@code name}, which must not exist, with {@code content}. */
        void create(String name, byte[] content) throws IOException;

        /** Renames {@code from} to {@code to}, replacing {@code to} in one step. */
        void replace(String from, String to) throws IOException;

        /** Deletes file {@code name} if it exists. */
        void delete(String name) throws IOException;

        List<String> names() throws IOException;
    }

    /** A folder on a local disk, through {@code java.nio}: no external process. */
    private record LocalFolder(java.nio.file.Path dir) implements Folder {
        @Override
        public boolean exists(String name) {
            return Files.exists(dir.resolve(name));
        }

        @Override
        public byte[] read(String name) throws IOException {
            return Files.readAllBytes(dir.resolve(name));
        }

        @Override
        public void create(String name, byte[] content) throws IOException {
            Files.write(dir.resolve(name), content, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        }

        @Override
        public void replace(String from, String to) throws IOException {
            Files.move(dir.resolve(from), dir.resolve(to), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        }

        @Override
        public void delete(String name) throws IOException {
            Files.deleteIfExists(dir.resolve(name));
        }

        @Override
        public List<String> names() throws IOException {
            try (Stream<java.nio.file.Path> files = Files.list(dir)) {
                return files.map(f -> f.getFileName().toString()).toList();
            }
        }
    }

    /** A folder on any Hadoop file system (HDFS), through its {@link FileContext}. */
    private record HadoopFolder(FileContext fc, Path dir) implements Folder {
        @Override
        public boolean exists(String name) throws IOException {
            return fc.util().exists(new Path(dir, name));
        }

        @Override
        public byte[] read(String name) throws IOException {
            try (InputStream in = fc.open(new Path(dir, name))) {
                return in.readAllBytes();
            }
        }

        @Override
        public void create(String name, byte[] content) throws IOException {
            try (OutputStream s = fc.create(new Path(dir, name), EnumSet.of(CreateFlag.CREATE))) {
                s.write(content);
            }
        }

        @Override
        public void replace(String from, String to) throws IOException {
            fc.rename(new Path(dir, from), new Path(dir, to), Options.Rename.OVERWRITE);
        }

        @Override
        public void delete(String name) throws IOException {
            fc.delete(new Path(dir, name), false);
        }

        @Override
        public List<String> names() throws IOException {
            List<String> names = new ArrayList<>();
            RemoteIterator<FileStatus> it = fc.listStatus(dir);
            while (it.hasNext()) {
                names.add(it.next().getPath().getName());
            }
            return names;
        }
    }

    /** Writes bytes to a stream; may throw IOException. */
    @FunctionalInterface
    public interface IoWriter {
        void write(OutputStream out) throws IOException;
    }
}
