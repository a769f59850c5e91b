package org.sqzspark.job.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.sqzspark.data.DataInputException;
import org.sqzspark.data.NetworkFailure;
import org.sqzspark.job.predict.ConfusionMatrix;

/**
 * Reads the runs of a results folder, {@code run-<id>.json} files on any Hadoop file system
 * ({@code file:}, {@code hdfs:}), without writing anything to it.
 */
public final class ResultsFolder {

    /** A run's result file; the temporary files of an atomic write start with a dot and do not match. */
    static final Pattern RUN_FILE = Pattern.compile("run-.+\\.json");
    /** A confusion matrix of {@code predict --data}; as for runs, temporary files start with a dot. */
    static final Pattern CONFUSION_FILE = Pattern.compile("[^.].*" + Pattern.quote(ConfusionMatrix.SUFFIX));
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private ResultsFolder() {
    }

    /**
     * Reads every run of the folder, sorted by file name.
     *
     * @throws DataInputException naming the folder or file when the folder is missing, holds no run, or
     *                            a run cannot be read
     */
    public static List<RunRecord> readRuns(String location, Configuration hadoopConf) {
        Path dir;
        FileContext fc;
        FileStatus[] files;
        try {
            dir = new Path(toUri(location));
            fc = FileContext.getFileContext(dir.toUri(), localWithoutChecksums(hadoopConf));
            dir = fc.makeQualified(dir);
            if (!fc.util().exists(dir)) {
                throw new DataInputException("--results " + location + " does not exist: give the results folder"
                        + " a train or sweep run wrote its run-<id>.json files to (its --out)");
            }
            if (!fc.getFileStatus(dir).isDirectory()) {
                throw new DataInputException("--results " + location + " is a file, not a folder: give the results"
                        + " folder that holds the run-<id>.json files");
            }
            files = fc.util().listStatus(dir);
        } catch (IOException | RuntimeException e) {
            if (e instanceof DataInputException d) {
                throw d;
            }
            String network = NetworkFailure.describe(e);
            if (network != null) {
                throw new DataInputException("--results " + location + ": cannot reach its file system (" + network
                        + "): check that HDFS is running and that the URI names its namenode's host and port,"
                        + " e.g. hdfs://head:9000/results", e);
            }
            throw new DataInputException("--results " + location + " cannot be read (" + e.getMessage()
                    + "): check the path or URI and that its file system is reachable", e);
        }
        List<FileStatus> runs = Arrays.stream(files)
                .filter(f -> f.isFile() && RUN_FILE.matcher(f.getPath().getName()).matches())
                .sorted(Comparator.comparing(f -> f.getPath().getName()))
                .toList();
        if (runs.isEmpty()) {
            throw new DataInputException("--results " + location + " holds no run-<id>.json result: give the --out"
                    + " folder of a train or sweep run");
        }
        List<RunRecord> records = new ArrayList<>();
        for (FileStatus f : runs) {
            records.add(read(fc, f.getPath(), location));
        }
        return records;
    }

    /** A confusion matrix of the folder, by its file name. */
    record Confusion(String file, ConfusionMatrix matrix) {
    }

    /**
     * The confusion matrices that {@code predict --data} wrote into the folder
     * ({@code *}{@value ConfusionMatrix#SUFFIX}), sorted by file name; none if it holds none.
     *
     * @throws DataInputException naming the file when one is not such a matrix
     */
    static List<Confusion> readConfusions(String location, Configuration hadoopConf) {
        List<Confusion> out = new ArrayList<>();
        try {
            Path dir = new Path(toUri(location));
            FileContext fc = FileContext.getFileContext(dir.toUri(), localWithoutChecksums(hadoopConf));
            dir = fc.makeQualified(dir);
            List<FileStatus> files = Arrays.stream(fc.util().listStatus(dir))
                    .filter(f -> f.isFile() && CONFUSION_FILE.matcher(f.getPath().getName()).matches())
                    .sorted(Comparator.comparing(f -> f.getPath().getName()))
                    .toList();
            for (FileStatus f : files) {
                String name = f.getPath().getName();
                try (InputStream in = fc.open(f.getPath())) {
                    out.add(new Confusion(name, ConfusionMatrix.parse(name + " in " + location,
                            new String(in.readAllBytes(), StandardCharsets.UTF_8))));
                } catch (IllegalArgumentException e) {
                    throw new DataInputException(e.getMessage() + ": write it again with predict --data, or move it"
                            + " out of " + location + ", then run the report again", e);
                }
            }
        } catch (IOException e) {
            throw new DataInputException("--results " + location + ": its confusion matrices cannot be read ("
                    + e.getMessage() + "): check that its file system is reachable", e);
        }
        return out;
    }

    private static RunRecord read(FileContext fc, Path file, String location) {
        String name = file.getName();
        String fix = ": fix or move the file out of " + location + ", then run the report again";
        JsonNode root;
        try (InputStream in = fc.open(file)) {
            root = JSON.readTree(in);
        } catch (JsonProcessingException e) {
            throw new DataInputException(name + " in " + location + " is not valid JSON ("
                    + e.getOriginalMessage() + " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")" + fix, e);
        } catch (FileNotFoundException e) {
            throw new DataInputException(name + " in " + location + " went away while the report read it: run the"
                    + " report again when no run is writing to the folder", e);
        } catch (IOException e) {
            throw new DataInputException(name + " in " + location + " cannot be read (" + e.getMessage() + ")"
                    + fix, e);
        }
        try {
            return RunRecord.of(name, root);
        } catch (IllegalArgumentException e) {
            throw new DataInputException(name + " in " + location + " is not a run result: " + e.getMessage() + fix, e);
        }
    }

    /** The Hadoop configuration with the local file system's checksum files off, as the results folder is written. */
    static Configuration localWithoutChecksums(Configuration hadoopConf) {
        Configuration conf = new Configuration(hadoopConf);
        conf.set("fs.AbstractFileSystem.file.impl", "org.apache.hadoop.fs.local.RawLocalFs");
        return conf;
    }

    /** A URI of a location given as a URI or as a local path. */
    static URI toUri(String location) {
        if (location.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*") && !location.matches("^[a-zA-Z]:\\\\.*")) {
            return URI.create(location);
        }
        return java.nio.file.Path.of(location).toAbsolutePath().normalize().toUri();
    }
}
