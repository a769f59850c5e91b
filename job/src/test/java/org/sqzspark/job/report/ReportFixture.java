package org.sqzspark.job.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.sqzspark.data.CifarFormat;
import org.sqzspark.job.predict.ConfusionMatrix;

/**
 * Results folders with known numbers, written as the job writes its run JSON (no training): a plain
 * gradient-sharing recipe whose accuracy falls with P, and a remedied one (linear learning-rate scaling
 * with a 2-epoch warm-up) that holds it longer, each at P = 1, 2, 4, 8, 4 epochs of 50,000 images.
 */
public final class ReportFixture {

    public static final int TRAIN_IMAGES = 50_000;
    public static final int EPOCHS = 4;
    public static final int BATCH = 32;
    public static final double LEARNING_RATE = 1e-4;
    public static final List<Integer> PARTITIONS = List.of(1, 2, 4, 8);
    /** Fit seconds of every epoch of the plain recipe at P = 1, 2, 4, 8: training seconds 400, 250, 160, 125. */
    public static final double[] EPOCH_SECONDS = {100, 62.5, 40, 31.25};
    /** Fit seconds of every epoch of the remedied recipe at P = 1, 2, 4, 8: training seconds 400, 200, 125, 100. */
    public static final double[] REMEDIED_EPOCH_SECONDS = {100, 50, 31.25, 25};
    /** Test accuracy after epochs 1..4 of the plain recipe at P = 1, 2, 4, 8. */
    public static final double[][] PLAIN_ACCURACY = {
        {0.30, 0.42, 0.50, 0.60},
        {0.25, 0.38, 0.49, 0.58},
        {0.15, 0.30, 0.40, 0.45},
        {0.10, 0.10, 0.10, 0.10}};
    /** Test accuracy after epochs 1..4 of the remedied recipe at P = 1, 2, 4, 8. */
    public static final double[][] REMEDIED_ACCURACY = {
        {0.31, 0.43, 0.52, 0.61},
        {0.30, 0.42, 0.51, 0.60},
        {0.28, 0.40, 0.50, 0.595},
        {0.20, 0.33, 0.45, 0.55}};

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ReportFixture() {
    }

    /**
     * Writes both recipes into {@code dir}: the plain one in the format written before the remedy
     * fields existed, the remedied one with them.
     */
    public static Path write(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (ObjectNode run : runs()) {
            writeRun(dir, run);
        }
        return dir;
    }

    /** The runs of both recipes. */
    public static List<ObjectNode> runs() {
        List<ObjectNode> runs = new ArrayList<>();
        for (int i = 0; i < PARTITIONS.size(); i++) {
            int p = PARTITIONS.get(i);
            runs.add(run("2026-01-01T10:0" + i + ":00Z", p, "shared", PLAIN_ACCURACY[i], true, EPOCH_SECONDS[i]));
            ObjectNode remedied = run("2026-01-01T11:0" + i + ":00Z", p, "shared", REMEDIED_ACCURACY[i], true,
                    REMEDIED_EPOCH_SECONDS[i]);
            runs.add(remedy(remedied, "LINEAR", 2, 0, LEARNING_RATE * p));
        }
        return runs;
    }

    /**
     * One run as the job writes it.
     *
     * @param startedAt      ISO-8601 start
     * @param partitions     P
     * @param trainingMaster "shared" or "averaging"
     * @param accuracy       test accuracy after each finished epoch
     * @param completed      whether all {@value #EPOCHS} epochs finished
     */
    public static ObjectNode run(String startedAt, int partitions, String trainingMaster, double[] accuracy,
                                 boolean completed) {
        int index = PARTITIONS.indexOf(partitions);
        return run(startedAt, partitions, trainingMaster, accuracy, completed,
                index >= 0 ? EPOCH_SECONDS[index] : 100.0 / partitions);
    }

    /** One run as the job writes it, every epoch taking {@code epochSeconds} to fit. */
    public static ObjectNode run(String startedAt, int partitions, String trainingMaster, double[] accuracy,
                                 boolean completed, double epochSeconds) {
        ObjectNode root = JSON.createObjectNode();
        String id = startedAt.replaceAll("[^0-9]", "") + "-" + trainingMaster + "-p" + partitions;
        root.put("runId", id);
        root.put("startedAt", startedAt);
        ObjectNode config = root.putObject("config");
        config.put("data", "../shared/cifar10");
        config.put("dataIsDefault", false);
        config.put("out", "results");
        config.put("master", "local[*]");
        config.put("partitions", partitions);
        config.put("epochs", EPOCHS);
        config.put("batchPerReplica", BATCH);
        config.put("trainLimit", 0);
        config.put("trainingMaster", trainingMaster.toUpperCase(Locale.ROOT));
        config.put("averagingFrequency", 1);
        config.put("threshold", 1e-3);
        config.put("lossSample", 5000);
        config.put("evalBatch", 250);
        ObjectNode model = config.putObject("model");
        model.put("classes", 10);
        model.put("seed", 42);
        model.put("optimizer", "ADAM");
        model.put("learningRate", LEARNING_RATE);
        model.put("momentum", 0.9);
        model.put("l2", 0.0);
        model.put("dropout", 0.5);
        ObjectNode env = root.putObject("environment");
        env.put("javaVersion", "17.0.15");
        env.put("osArch", "aarch64");
        env.put("osName", "Linux");
        env.put("driverCores", 4);
        env.put("sparkVersion", "3.5.3");
        env.put("dl4jVersion", "1.0.0-M2");
        env.put("nd4jBackend", "CpuBackend");
        env.put("nd4jPlatform", "linux-arm64");
        env.put("master", "spark://head:7077");
        env.put("executors", Math.min(partitions, 2));
        env.putArray("hosts").add("pi01").add("pi02");
        ObjectNode layout = root.putObject("layout");
        layout.put("partitions", partitions);
        layout.put("executors", Math.min(partitions, 2));
        layout.put("workersPerExecutor", Math.max(1, partitions / 2));
        root.put("trainImages", TRAIN_IMAGES);
        root.put("testImages", 10_000);
        root.put("imagesPerReplica", TRAIN_IMAGES / partitions);
        root.put("globalBatch", BATCH * partitions);
        root.put("stepsPerEpoch", (TRAIN_IMAGES / partitions + BATCH - 1) / BATCH);
        root.put("dataSource", "CIFAR-10 batch files in hdfs://head:9000/cifar10");
        root.put("loadSeconds", 3.5);
        root.put("partitionSeconds", 1.25);
        root.put("setupSeconds", 0.5);
        double train = 0;
        ArrayNode epochs = root.putArray("epochs");
        for (int e = 0; e < accuracy.length; e++) {
            train += epochSeconds;
            ObjectNode m = epochs.addObject();
            m.put("epoch", e + 1);
            m.put("testAccuracy", accuracy[e]);
            m.put("trainLoss", 2.3 - 0.2 * e);
            m.put("fitSeconds", epochSeconds);
            m.put("evalSeconds", 5.0);
            m.put("imagesPerSecond", TRAIN_IMAGES / epochSeconds);
            m.put("elapsedSeconds", (e + 1) * (epochSeconds + 5));
        }
        root.put("trainSeconds", train);
        root.put("evalSeconds", 5.0 * accuracy.length);
        root.put("totalSeconds", train + 5.0 * accuracy.length + 5.25);
        root.put("completed", completed);
        root.putArray("trainingTasks").addObject().put("executorId", "0").put("host", "pi01").put("tasks", 8);
        return root;
    }

    /** Adds the remedy fields to a run. */
    public static ObjectNode remedy(ObjectNode run, String lrScaling, int warmupEpochs, int fixedGlobalBatch,
                                    double peakLearningRate) {
        ObjectNode config = (ObjectNode) run.get("config");
        config.put("lrScaling", lrScaling);
        config.put("warmupEpochs", warmupEpochs);
        config.put("fixedGlobalBatch", fixedGlobalBatch);
        run.put("peakLearningRate", peakLearningRate);
        run.put("warmupSteps", warmupEpochs * run.get("stepsPerEpoch").asInt());
        String id = run.get("runId").asText().replace("-p", "-" + lrScaling.toLowerCase(Locale.ROOT) + "-p");
        run.put("runId", id);
        return run;
    }

    /**
     * Writes a confusion matrix as {@code predict --data} writes it beside the P=1 plain run's model:
     * 1,000 test images per class, {@code 600 + 10 * class} of them right, the rest called the next class.
     */
    public static Path writeConfusion(Path dir) throws IOException {
        ConfusionMatrix m = new ConfusionMatrix();
        for (int a = 0; a < CifarFormat.CLASSES; a++) {
            int right = 600 + 10 * a;
            for (int i = 0; i < 1000; i++) {
                m.add(a, i < right ? a : (a + 1) % CifarFormat.CLASSES);
            }
        }
        String id = runs().get(0).get("runId").asText();
        return Files.writeString(dir.resolve("run-" + id + ConfusionMatrix.SUFFIX), m.toCsv());
    }

    /** Writes a run as {@code run-<id>.json}. */
    public static Path writeRun(Path dir, ObjectNode run) throws IOException {
        Path file = dir.resolve("run-" + run.get("runId").asText() + ".json");
        JSON.writeValue(file.toFile(), run);
        return file;
    }
}
