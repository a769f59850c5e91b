package org.sqzspark.job.predict;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqzspark.data.ChannelStats;
import org.sqzspark.data.CifarImages;
import org.sqzspark.data.CifarLayout;
import org.sqzspark.data.CifarReader;
import org.sqzspark.data.DataInputException;
import org.sqzspark.model.ShardedGraph;

import static org.sqzspark.data.CifarFormat.CHANNELS;
import static org.sqzspark.data.CifarFormat.CLASSES;
import static org.sqzspark.data.CifarFormat.HEIGHT;
import static org.sqzspark.data.CifarFormat.WIDTH;

/**
 * A trained network as a run saves it, {@code run-<id>.model.zip}, with what inference needs besides
 * the weights: the channel statistics of the run's training set, which normalized every image it
 * trained and was evaluated on ({@code (pixel / 255 - mean[c]) / std[c]}). They are an extra entry,
 * {@value #STATS_ENTRY}, in DL4J's model zip, which DL4J's own readers skip.
 *
 * <p>A model written before the statistics were saved gets them recomputed, exactly as its run did,
 * from the training data its {@code run-<id>.json} beside it names (or {@code --data}), with that run's
 * training-record limit and seed.
 */
public final class TrainedModel {

    /** The zip entry of the channel statistics: JSON {@code {"mean": [r, g, b], "std": [r, g, b]}}. */
    public static final String STATS_ENTRY = "sqzspark-channel-stats.json";

    private static final Logger log = LoggerFactory.getLogger(TrainedModel.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern MODEL_NAME = Pattern.compile("(.+)\\.model\\.zip");
    private static final Pattern HAS_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:");
    private static final String WHAT_TO_GIVE = "give the run-<id>.model.zip that a train or sweep run wrote into its"
            + " --out folder";

    private final ComputationGraph net;
    private final ChannelStats stats;
    private final String statsSource;
    private final String location;

    private TrainedModel(ComputationGraph net, ChannelStats stats, String statsSource, String location) {
        this.net = net;
        this.stats = stats;
        this.statsSource = statsSource;
        this.location = location;
    }

    /** The network, ready for inference. */
    public ComputationGraph net() {
        return net;
    }

    /** The channel statistics its inputs are normalized with. */
    public ChannelStats stats() {
        return stats;
    }

    /** Where {@link #stats()} came from, for the user. */
    public String statsSource() {
        return statsSource;
    }

    /** The model file, as given. */
    public String location() {
        return location;
    }

    /**
     * Writes the network (with its updater, so training could go on from it) and the channel statistics
     * its inputs were normalized with, as one model zip.
     */
    public static void write(ComputationGraph net, ChannelStats stats, OutputStream out) throws IOException {
        ByteArrayOutputStream model = new ByteArrayOutputStream();
        ModelSerializer.writeModel(net, model, true);
        ZipOutputStream zip = new ZipOutputStream(out);
        try (ZipInputStream entries = new ZipInputStream(new ByteArrayInputStream(model.toByteArray()))) {
            for (ZipEntry e = entries.getNextEntry(); e != null; e = entries.getNextEntry()) {
                zip.putNextEntry(new ZipEntry(e.getName()));
                entries.transferTo(zip);
                zip.closeEntry();
            }
        }
        Map<String, float[]> json = new LinkedHashMap<>();
        json.put("mean", stats.mean());
        json.put("std", stats.std());
        zip.putNextEntry(new ZipEntry(STATS_ENTRY));
        zip.write(JSON.writeValueAsBytes(json));
        zip.closeEntry();
        zip.finish();
    }

    /**
     * Reads a model and checks that it classifies CIFAR-10 images: one input of 3x32x32 images, ten
     * class probabilities out.
     *
     * @param location local path or Hadoop file system URI of the model zip
     * @param data     CIFAR-10 folder to recompute the channel statistics from, for a model written
     *                 without them; {@code null}: the folder its run's JSON names
     * @throws DataInputException naming the model when it is missing, not a model, of another shape, or
     *                            without channel statistics that can be recomputed
     */
    public static TrainedModel load(String location, String data, Configuration conf) {
        ModelFile file = ModelFile.of(location, conf);
        byte[] bytes = file.read(file.name());
        ComputationGraph net;
        try {
            net = ShardedGraph.of(ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(bytes), false));
        } catch (Exception e) {
            throw new DataInputException("--model " + location + " is not a network saved by DL4J ("
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : firstLine(e.getMessage())) + "): "
                    + WHAT_TO_GIVE, e);
        }
        checkShape(net, location);
        ChannelStats stats = statsIn(bytes, location);
        if (stats != null) {
            return new TrainedModel(net, stats, "the model file", location);
        }
        return recomputed(net, file, data, conf);
    }

    /** The statistics saved in the model zip, or null for a model written before they were. */
    static ChannelStats statsIn(byte[] zip, String location) {
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                if (e.getName().equals(STATS_ENTRY)) {
                    JsonNode node = JSON.readTree(in.readAllBytes());
                    return new ChannelStats(floats(node.get("mean")), floats(node.get("std")));
                }
            }
            return null;
        } catch (IOException | IllegalArgumentException | NullPointerException e) {
            throw new DataInputException("--model " + location + ": its " + STATS_ENTRY + " is corrupt ("
                    + e.getMessage() + "): copy the model file again from its results folder", e);
        }
    }

    private static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) array.get(i).asDouble();
        }
        return out;
    }

    /** One input, one output; a zero image in gives ten probabilities out. */
    private static void checkShape(ComputationGraph net, String location) {
        String wanted = ": predict needs SqueezeNet for CIFAR-10 (3x32x32 images in, " + CLASSES + " classes out); "
                + WHAT_TO_GIVE;
        int inputs = net.getConfiguration().getNetworkInputs().size();
        int outputs = net.getConfiguration().getNetworkOutputs().size();
        if (inputs != 1 || outputs != 1) {
            throw new DataInputException("--model " + location + " is a network of " + inputs + " input(s) and "
                    + outputs + " output(s)" + wanted);
        }
        INDArray out;
        try {
            out = net.outputSingle(false, Nd4j.zeros(DataType.FLOAT, 1, CHANNELS, HEIGHT, WIDTH));
        } catch (RuntimeException e) {
            throw new DataInputException("--model " + location + " does not take 3x32x32 images ("
                    + firstLine(String.valueOf(e.getMessage())) + ")" + wanted, e);
        }
        long[] shape = out.shape();
        if (shape.length != 2 || shape[0] != 1 || shape[1] != CLASSES) {
            throw new DataInputException("--model " + location + " outputs shape " + Arrays.toString(shape)
                    + " for one image, not " + CLASSES + " class probabilities" + wanted);
        }
    }

    /** The statistics of a model written before they were saved: recomputed from its run's training set. */
    private static TrainedModel recomputed(ComputationGraph net, ModelFile file, String data, Configuration conf) {
        String location = file.location();
        String runJson = file.runJsonName();
        JsonNode config = null;
        if (runJson != null && file.exists(runJson)) {
            try {
                config = JSON.readTree(file.read(runJson)).get("config");
            } catch (IOException e) {
                throw new DataInputException(runJson + " beside --model " + location + " is not valid JSON ("
                        + e.getMessage() + "): give --data with the CIFAR-10 folder the model was trained on and move"
                        + " the file away", e);
            }
        }
        String source = data != null ? data : config != null && config.hasNonNull("data")
                ? config.get("data").asText() : null;
        String why = "--model " + location + " carries no channel statistics (it was written before models kept"
                + " them)";
        if (source == null) {
            throw new DataInputException(why + " and no run-<id>.json lies beside it to say what it was trained on:"
                    + " give --data with the CIFAR-10 folder it was trained on, to recompute them");
        }
        int limit = config != null ? config.path("trainLimit").asInt(0) : 0;
        long seed = config != null ? config.path("model").path("seed").asLong(0) : 0;
        if (config == null) {
            log.warn("{}, nor a run-<id>.json beside it: recomputing them from all training records of {}; if its"
                    + " run trained on fewer (--train-limit), predictions are off", why, source);
        }
        CifarImages train;
        try {
            // shuffled as the run did, so even the floating-point sums come out the same
            train = CifarReader.readTrain(CifarLayout.resolve(source, conf), limit).shuffled(seed);
        } catch (DataInputException e) {
            throw new DataInputException(why + "; recomputing them from its training data " + source + " failed ("
                    + e.getMessage() + "): give --data with the CIFAR-10 folder it was trained on", e);
        }
        ChannelStats stats = ChannelStats.of(train);
        return new TrainedModel(net, stats, "recomputed from " + train.size() + " training records of " + source,
                location);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** The model's folder and name, read locally through java.nio and elsewhere through Hadoop. */
    private record ModelFile(String location, FileSystem fs, Path path) {

        static ModelFile of(String location, Configuration conf) {
            Path path;
            FileSystem fs;
            try {
                path = HAS_SCHEME.matcher(location).find() ? new Path(location)
                        : new Path("file", null, java.nio.file.Path.of(location).toAbsolutePath().normalize().toString());
                fs = FileSystem.get(path.toUri(), conf);
                path = fs.makeQualified(path);
            } catch (IOException | IllegalArgumentException e) {
                throw new DataInputException("--model " + location + " cannot be opened (" + e.getMessage() + "): "
                        + WHAT_TO_GIVE + ", as a local path or a URI such as hdfs://head:9000/results/run-<id>.model.zip",
                        e);
            }
            FileStatus status;
            try {
                status = fs.getFileStatus(path);
            } catch (FileNotFoundException e) {
                throw new DataInputException("--model " + location + " does not exist: " + WHAT_TO_GIVE, e);
            } catch (IOException e) {
                throw new DataInputException("--model " + location + " cannot be read (" + e.getMessage() + "): check"
                        + " that its file system is reachable and the file readable", e);
            }
            if (status.isDirectory()) {
                throw new DataInputException("--model " + location + " is a folder: " + WHAT_TO_GIVE);
            }
            return new ModelFile(location, fs, path);
        }

        String name() {
            return path.getName();
        }

        /** {@code run-<id>.json} for {@code run-<id>.model.zip}, else null. */
        String runJsonName() {
            Matcher m = MODEL_NAME.matcher(name());
            return m.matches() ? m.group(1) + ".json" : null;
        }

        boolean exists(String sibling) {
            try {
                return fs.exists(new Path(path.getParent(), sibling));
            } catch (IOException e) {
                return false;
            }
        }

        byte[] read(String sibling) {
            Path file = new Path(path.getParent(), sibling);
            try {
                if ("file".equals(file.toUri().getScheme())) {
                    return Files.readAllBytes(java.nio.file.Path.of(file.toUri()));
                }
                try (InputStream in = fs.open(file)) {
                    return in.readAllBytes();
                }
            } catch (IOException e) {
                throw new DataInputException("cannot read " + file + " (" + e.getMessage() + "): check that it is"
                        + " readable", e);
            }
        }
    }
}
