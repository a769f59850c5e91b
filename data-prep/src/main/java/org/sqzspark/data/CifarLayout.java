package org.sqzspark.data;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Where the CIFAR-10 batch files are, on any Hadoop file system. This is the only class that knows
 * the on-disk layout; everything else asks it for the files.
 *
 * <p>Accepted layouts, in order of preference:
 * <ol>
 *   <li>a folder holding {@code data_batch_1.bin} .. {@code data_batch_5.bin} and
 *       {@code test_batch.bin}, each plain or gzip-compressed ({@code .bin.gz}), directly or in the
 *       subfolder {@code cifar-10-batches-bin/} (how the official archive unpacks);</li>
 *   <li>a folder holding the official archive {@code cifar-10-binary.tar.gz};</li>
 *   <li>the archive file itself ({@code .tar.gz}, {@code .tgz} or {@code .tar}).</li>
 * </ol>
 * Plain batch files are preferred to the archive because they can be read without decompressing
 * the members that are not needed.
 */
public final class CifarLayout {

    /** File name of the official CIFAR-10 binary archive. */
    public static final String ARCHIVE_NAME = "cifar-10-binary.tar.gz";
    /** MD5 of the official archive, as published on the CIFAR-10 page. */
    public static final String ARCHIVE_MD5 = "c32a1d4ab5d03f1284b67883e8d87530";
    /** Where the official archive can be downloaded. */
    public static final String OFFICIAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";

    /** Folder the official archive unpacks to; also the prefix of its members. */
    static final String BATCH_FOLDER = "cifar-10-batches-bin";
    /** Training batches in the official order. */
    static final List<String> TRAIN_BATCHES = List.of(
            "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin");
    /** The test batch. */
    static final String TEST_BATCH = "test_batch.bin";

    private static final String GZIP_SUFFIX = ".gz";
    private static final List<String> ALL_BATCHES = concat(TRAIN_BATCHES, TEST_BATCH);
    private static final Pattern HAS_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:");

    private final FileSystem fileSystem;
    private final Path location;
    private final Path archive;
    private final Map<String, Path> batchFiles;

    private CifarLayout(FileSystem fileSystem, Path location, Path archive, Map<String, Path> batchFiles) {
        this.fileSystem = fileSystem;
        this.location = location;
        this.archive = archive;
        this.batchFiles = Collections.unmodifiableMap(batchFiles);
    }

    /**
     * Finds the CIFAR-10 files at {@code dataUri}.
     *
     * @param dataUri a Hadoop file system URI ({@code file:/x}, {@code hdfs://host:port/x}) or a
     *                local path; a path without a scheme is always local, and a relative one is
     *                resolved against the working directory
     * @param conf    Hadoop configuration used to open the file system
     * @throws DataInputException if the location does not exist, cannot be read, or lacks files
     */
    public static CifarLayout resolve(String dataUri, Configuration conf) {
        Objects.requireNonNull(conf, "conf");
        if (dataUri == null || dataUri.isBlank()) {
            throw new DataInputException("No CIFAR-10 data location given: expected a folder or URI such as "
                    + "/data/cifar10, file:/data/cifar10 or hdfs://namenode:8020/data/cifar10; "
                    + howToProvide("that folder"));
        }
        Path requested = toPath(dataUri);
        FileSystem fs;
        try {
            fs = FileSystem.get(requested.toUri(), conf);
        } catch (IOException | IllegalArgumentException e) {
            // HDFS resolves the namenode's host here, and reports an unknown one as IllegalArgumentException
            if (NetworkFailure.describe(e) != null) {
                throw unreachable(requested, e);
            }
            throw new DataInputException("CIFAR-10 data location " + dataUri + ": cannot open its file system ("
                    + e.getMessage() + "); use a local path or a URI whose scheme Hadoop supports, "
                    + "such as file:/data/cifar10 or hdfs://namenode:8020/data/cifar10", e);
        }
        Path path = fs.makeQualified(requested);
        FileStatus status;
        try {
            status = fs.getFileStatus(path);
        } catch (FileNotFoundException e) {
            throw new DataInputException(notFoundMessage(path), e);
        } catch (IOException e) {
            throw unreadable(path, e);
        }
        if (status.isFile()) {
            if (isArchiveName(path.getName())) {
                return new CifarLayout(fs, path, path, Map.of());
            }
            throw new DataInputException(path + " is a file, but the CIFAR-10 data location must be a folder or the "
                    + "archive " + ARCHIVE_NAME + "; point the data location at the folder " + path.getParent()
                    + " if it holds the batch files, or " + howToProvide(path.getParent().toString()));
        }
        return resolveFolder(fs, path);
    }

    private static CifarLayout resolveFolder(FileSystem fs, Path folder) {
        Map<String, FileStatus> direct = list(fs, folder);
        FileStatus sub = direct.get(BATCH_FOLDER);
        Map<String, FileStatus> nested = sub != null && sub.isDirectory() ? list(fs, sub.getPath()) : Map.of();
        Map<String, Path> found = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String batch : ALL_BATCHES) {
            List<FileStatus> candidates = new ArrayList<>();
            for (FileStatus candidate : new FileStatus[] {direct.get(batch), direct.get(batch + GZIP_SUFFIX),
                    nested.get(batch), nested.get(batch + GZIP_SUFFIX)}) {
                if (candidate != null) {
                    candidates.add(candidate);
                }
            }
            FileStatus file = candidates.stream().filter(FileStatus::isFile).findFirst().orElse(null);
            if (file != null) {
                found.put(batch, file.getPath());
            } else if (!candidates.isEmpty()) {
                throw directoryInsteadOfFile(candidates.get(0).getPath());
            } else {
                missing.add(batch);
            }
        }
        if (missing.isEmpty()) {
            return new CifarLayout(fs, folder, null, found);
        }
        FileStatus archive = direct.get(ARCHIVE_NAME);
        if (archive != null) {
            if (!archive.isFile()) {
                throw directoryInsteadOfFile(archive.getPath());
            }
            return new CifarLayout(fs, folder, archive.getPath(), Map.of());
        }
        if (found.isEmpty()) {
            throw new DataInputException("CIFAR-10 data location " + folder + " holds no CIFAR-10 files (looked for "
                    + String.join(", ", ALL_BATCHES) + ", with or without .gz, there and in " + BATCH_FOLDER
                    + "/, and for " + ARCHIVE_NAME + "); " + howToProvide(folder.toString()));
        }
        List<String> foundNames = new ArrayList<>();
        for (Path file : found.values()) {
            foundNames.add(relative(folder, file));
        }
        throw new DataInputException("CIFAR-10 data location " + folder + " lacks " + String.join(", ", missing)
                + " (plain or .gz); found only " + String.join(", ", foundNames) + "; " + howToProvide(folder.toString()));
    }

    /** Human-readable statement of where the data comes from, for logs and results. */
    public String describe() {
        if (archive != null) {
            return "CIFAR-10 archive " + archive;
        }
        List<String> names = new ArrayList<>();
        for (Path file : batchFiles.values()) {
            names.add(relative(location, file));
        }
        return "CIFAR-10 batch files in " + location + ": " + String.join(", ", names);
    }

    @Override
    public String toString() {
        return describe();
    }

    /** The file system holding the data. */
    FileSystem fileSystem() {
        return fileSystem;
    }

    /** The archive to read, or {@code null} when the batches are separate files. */
    Path archive() {
        return archive;
    }

    /** The file holding {@code batch} (one of the names above); only when {@link #archive()} is null. */
    Path batchFile(String batch) {
        Path file = batchFiles.get(batch);
        if (file == null) {
            throw new IllegalArgumentException("unknown CIFAR-10 batch " + batch + "; expected one of " + ALL_BATCHES);
        }
        return file;
    }

    /** Whether {@code file} is gzip-compressed, judged by its name. */
    static boolean isGzip(Path file) {
        String name = file.getName();
        return name.endsWith(GZIP_SUFFIX) || name.endsWith(".tgz");
    }

    /** The batch name a member of the archive holds, or {@code null} if it holds none. */
    static String batchOfMember(String memberName) {
        String name = memberName.startsWith(BATCH_FOLDER + "/")
                ? memberName.substring(BATCH_FOLDER.length() + 1) : memberName;
        return ALL_BATCHES.contains(name) ? name : null;
    }

    /** The member name of {@code batch} in the official archive. */
    static String memberOf(String batch) {
        return BATCH_FOLDER + "/" + batch;
    }

    /** What to put where, for error messages about missing data. */
    static String howToProvide(String folder) {
        return "put data_batch_1..5.bin and test_batch.bin (plain or .gz), or " + ARCHIVE_NAME + ", in " + folder
                + " (the archive is available at " + OFFICIAL_URL + ")";
    }

    private static Path toPath(String dataUri) {
        try {
            if (HAS_SCHEME.matcher(dataUri).find()) {
                return new Path(dataUri);
            }
            java.nio.file.Path local = java.nio.file.Path.of(dataUri).toAbsolutePath().normalize();
            return new Path("file", null, local.toString());
        } catch (IllegalArgumentException e) {
            throw new DataInputException("CIFAR-10 data location " + dataUri + " is not a valid path or URI ("
                    + e.getMessage() + "); expected a local path or a URI such as file:/data/cifar10 or "
                    + "hdfs://namenode:8020/data/cifar10", e);
        }
    }

    private static String notFoundMessage(Path path) {
        if (isArchiveName(path.getName())) {
            return "CIFAR-10 archive " + path + " does not exist; download " + OFFICIAL_URL + " to that path, "
                    + "or point the data location at a folder and " + howToProvide("it");
        }
        return "CIFAR-10 data location " + path + " does not exist; " + howToProvide(path.toString());
    }

    private static boolean isArchiveName(String name) {
        return name.endsWith(".tar.gz") || name.endsWith(".tgz") || name.endsWith(".tar");
    }

    private static Map<String, FileStatus> list(FileSystem fs, Path folder) {
        try {
            Map<String, FileStatus> byName = new HashMap<>();
            for (FileStatus status : fs.listStatus(folder)) {
                byName.put(status.getPath().getName(), status);
            }
            return byName;
        } catch (IOException e) {
            throw unreadable(folder, e);
        }
    }

    static DataInputException unreadable(Path path, IOException cause) {
        if (NetworkFailure.describe(cause) != null) {
            return unreachable(path, cause);
        }
        String why = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        return new DataInputException("Cannot read " + path + " (" + why + "); check that its file system is reachable, "
                + "that the path exists and that the user running the job is allowed to read it", cause);
    }

    private static DataInputException unreachable(Path path, Exception cause) {
        return new DataInputException("Cannot reach the file system of " + path + " (" + NetworkFailure.describe(cause)
                + "); check that it is running (for HDFS, its namenode: Hadoop's start-dfs.sh) and that the URI"
                + " names its host and port, e.g. hdfs://namenode:8020/data/cifar10", cause);
    }

    static DataInputException directoryInsteadOfFile(Path path) {
        return new DataInputException(path + " is a directory, but a CIFAR-10 file of 3,073-byte records was "
                + "expected there; remove or rename the directory and put the file in its place");
    }

    private static String relative(Path folder, Path file) {
        String prefix = folder.toString() + "/";
        String name = file.toString();
        return name.startsWith(prefix) ? name.substring(prefix.length()) : name;
    }

    private static List<String> concat(List<String> first, String last) {
        List<String> all = new ArrayList<>(first);
        all.add(last);
        return List.copyOf(all);
    }
}
