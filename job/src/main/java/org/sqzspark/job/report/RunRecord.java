package org.sqzspark.job.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One run as the report reads it from its {@code run-<id>.json}: only the fields the report needs,
 * read from the JSON tree so that fields it does not know never break it. The remedy settings
 * ({@code lrScaling}, {@code warmupEpochs}, {@code fixedGlobalBatch}, {@code peakLearningRate}) are
 * optional: results written before them read as no scaling, no warm-up, per-replica batch fixed and
 * the configured learning rate.
 *
 * @param file             the result file's name
 * @param runId            the run's id
 * @param startedAt        ISO-8601 start time
 * @param completed        every epoch finished (never a diverged run, whatever its file says)
 * @param diverged         the run stopped after its last epoch because its training loss or parameters
 *                         turned NaN or infinite (false in results written before this was recorded)
 * @param recipe           the settings other than P
 * @param partitions       P, model replicas
 * @param batchPerReplica  minibatch of one replica
 * @param seed             seed of weights, data order and dropout
 * @param trainImages      training images used
 * @param testImages       test images evaluated
 * @param imagesPerReplica training images in the largest partition
 * @param globalBatch      images per synchronous step over all replicas
 * @param stepsPerEpoch    synchronous steps per epoch
 * @param trainSeconds     sum of the epochs' fit seconds
 * @param totalSeconds     wall-clock of the whole run, loading included
 * @param peakLearningRate learning rate after scaling
 * @param epochs           finished epochs, in order
 * @param environment      where the run ran
 */
public record RunRecord(String file, String runId, String startedAt, boolean completed, boolean diverged,
                        Recipe recipe, int partitions, int batchPerReplica, long seed, int trainImages, int testImages,
                        int imagesPerReplica, int globalBatch, int stepsPerEpoch, double trainSeconds,
                        double totalSeconds, double peakLearningRate, List<Epoch> epochs, Environment environment) {

    /**
     * One finished epoch.
     *
     * @param epoch           1-based epoch number
     * @param testAccuracy    accuracy on the test set after the epoch, 0..1
     * @param fitSeconds      wall-clock of the epoch's distributed fit
     * @param imagesPerSecond training images over fit seconds
     * @param traffic         network bytes per synchronous step, or null where not measured (embedded)
     * @param trainLoss       mean loss on the training sample after the epoch, NaN if not recorded
     */
    public record Epoch(int epoch, double testAccuracy, double fitSeconds, double imagesPerSecond,
                        Traffic traffic, double trainLoss) {

        public Epoch(int epoch, double testAccuracy, double fitSeconds, double imagesPerSecond) {
            this(epoch, testAccuracy, fitSeconds, imagesPerSecond, null, Double.NaN);
        }
    }

    /**
     * Network bytes of one epoch, per synchronous step: the mean executor host's and the driver's
     * (the head node's).
     *
     * @param nodeSent     bytes an executor host sent, mean over the hosts
     * @param nodeReceived bytes an executor host received, mean over the hosts
     * @param headSent     bytes the driver's host sent (NaN if not measured)
     * @param headReceived bytes the driver's host received (NaN if not measured)
     * @param executors    the executors that trained in the epoch, sorted
     */
    public record Traffic(double nodeSent, double nodeReceived, double headSent, double headReceived,
                          List<String> executors) {
    }

    /**
     * Where a run ran.
     *
     * @param master             Spark master URL
     * @param executors          executor JVMs
     * @param workersPerExecutor replicas in one executor JVM
     * @param hosts              executor hosts
     * @param osArch             driver {@code os.arch}
     * @param nd4jPlatform       JavaCPP platform of ND4J's native library
     * @param javaVersion        driver JVM version
     * @param sparkVersion       Spark version
     * @param dl4jVersion        DL4J version
     * @param driverCores        processors of the driver JVM
     * @param linkMbit           the nodes' link rate as the run's configuration stated it, 0 if not
     */
    public record Environment(String master, int executors, int workersPerExecutor, List<String> hosts,
                              String osArch, String nd4jPlatform, String javaVersion, String sparkVersion,
                              String dl4jVersion, int driverCores, double linkMbit) {

        public Environment(String master, int executors, int workersPerExecutor, List<String> hosts, String osArch,
                           String nd4jPlatform, String javaVersion, String sparkVersion, String dl4jVersion,
                           int driverCores) {
            this(master, executors, workersPerExecutor, hosts, osArch, nd4jPlatform, javaVersion, sparkVersion,
                    dl4jVersion, driverCores, 0);
        }
    }

    /** How Jackson writes the numbers JSON has no literal for. */
    private static final java.util.Set<String> NON_FINITE = java.util.Set.of("NaN", "Infinity", "-Infinity");

    /** Test accuracy after the last finished epoch, or NaN before the first. */
    public double finalTestAccuracy() {
        return epochs.isEmpty() ? Double.NaN : epochs.get(epochs.size() - 1).testAccuracy();
    }

    /** Training loss after the last finished epoch, or NaN before the first or where not recorded. */
    public double finalTrainLoss() {
        return epochs.isEmpty() ? Double.NaN : epochs.get(epochs.size() - 1).trainLoss();
    }

    /** The start time, for ordering runs; runs with an unreadable one sort first. */
    Instant startInstant() {
        try {
            return Instant.parse(startedAt);
        } catch (DateTimeParseException e) {
            return Instant.EPOCH;
        }
    }

    /**
     * Reads a run from its JSON tree.
     *
     * @throws IllegalArgumentException naming the first required field that is missing or of the wrong type
     */
    public static RunRecord of(String file, JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("the file is not a JSON object");
        }
        JsonNode config = object(root, "config");
        JsonNode model = object(config, "model");
        JsonNode env = optionalObject(root, "environment");
        JsonNode layout = optionalObject(root, "layout");

        int partitions = integer(config, "partitions", "config.partitions");
        int batch = integer(config, "batchPerReplica", "config.batchPerReplica");
        double learningRate = number(model, "learningRate", "config.model.learningRate");
        int fixedGlobalBatch = config.path("fixedGlobalBatch").asInt(0);
        Recipe recipe = Recipe.of(text(config, "trainingMaster", "config.trainingMaster"),
                config.path("averagingFrequency").asInt(1), config.path("threshold").asDouble(0),
                text(model, "optimizer", "config.model.optimizer"), learningRate,
                model.path("momentum").asDouble(0), model.path("l2").asDouble(0), model.path("dropout").asDouble(0),
                batch, fixedGlobalBatch, config.path("lrScaling").asText(Recipe.NO_SCALING),
                config.path("warmupEpochs").asInt(0), integer(config, "epochs", "config.epochs"),
                config.path("trainLimit").asInt(0), env.path("linkMbit").asDouble(0));

        boolean diverged = root.path("diverged").asBoolean(false);
        int steps = root.path("stepsPerEpoch").asInt(0);
        List<Epoch> epochs = new ArrayList<>();
        JsonNode list = root.path("epochs");
        if (!list.isArray()) {
            throw new IllegalArgumentException("field epochs is missing or not a list");
        }
        for (int i = 0; i < list.size(); i++) {
            JsonNode e = list.get(i);
            String at = "epochs[" + i + "]";
            epochs.add(new Epoch(integer(e, "epoch", at + ".epoch"), number(e, "testAccuracy", at + ".testAccuracy"),
                    number(e, "fitSeconds", at + ".fitSeconds"), e.path("imagesPerSecond").asDouble(Double.NaN),
                    traffic(e.path("traffic"), steps), e.path("trainLoss").asDouble(Double.NaN)));
        }
        double trainSeconds = root.has("trainSeconds") ? number(root, "trainSeconds", "trainSeconds")
                : epochs.stream().mapToDouble(Epoch::fitSeconds).sum();

        List<String> hosts = new ArrayList<>();
        env.path("hosts").forEach(h -> hosts.add(h.asText()));
        Environment environment = new Environment(env.path("master").asText(config.path("master").asText("")),
                env.path("executors").asInt(layout.path("executors").asInt(0)),
                layout.path("workersPerExecutor").asInt(0), hosts, env.path("osArch").asText(""),
                env.path("nd4jPlatform").asText(""), env.path("javaVersion").asText(""),
                env.path("sparkVersion").asText(""), env.path("dl4jVersion").asText(""),
                env.path("driverCores").asInt(0), env.path("linkMbit").asDouble(0));

        return new RunRecord(file, text(root, "runId", "runId"), root.path("startedAt").asText(""),
                root.path("completed").asBoolean(false) && !diverged, diverged, recipe, partitions, batch, model.path("seed").asLong(0),
                integer(root, "trainImages", "trainImages"), root.path("testImages").asInt(0),
                root.path("imagesPerReplica").asInt(0), root.path("globalBatch").asInt(partitions * batch),
                root.path("stepsPerEpoch").asInt(0), trainSeconds, root.path("totalSeconds").asDouble(Double.NaN),
                root.path("peakLearningRate").asDouble(learningRate), List.copyOf(epochs), environment);
    }

    /** The per-step traffic of an epoch's {@code traffic} list, or null without executor entries. */
    private static Traffic traffic(JsonNode list, int steps) {
        if (!list.isArray() || steps < 1) {
            return null;
        }
        double sent = 0;
        double received = 0;
        List<String> executors = new ArrayList<>();
        double headSent = Double.NaN;
        double headReceived = Double.NaN;
        for (JsonNode t : list) {
            if ("driver".equals(t.path("executorId").asText())) {
                headSent = t.path("sentBytes").asDouble() / steps;
                headReceived = t.path("receivedBytes").asDouble() / steps;
            } else {
                sent += t.path("sentBytes").asDouble();
                received += t.path("receivedBytes").asDouble();
                executors.add(t.path("executorId").asText());
            }
        }
        int nodes = executors.size();
        Collections.sort(executors);
        return nodes == 0 ? null : new Traffic(sent / nodes / steps, received / nodes / steps, headSent, headReceived,
                List.copyOf(executors));
    }

    private static JsonNode object(JsonNode parent, String field) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("field " + field + " is missing or not an object");
        }
        return n;
    }

    private static JsonNode optionalObject(JsonNode parent, String field) {
        JsonNode n = parent.path(field);
        return n.isObject() ? n : MissingNode.getInstance();
    }

    private static int integer(JsonNode parent, String field, String path) {
        JsonNode n = parent.get(field);
        if (n == null || !n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new IllegalArgumentException("field " + path + " is missing or not a whole number");
        }
        return n.intValue();
    }

    /** A number; NaN and infinities as the job's JSON writer quotes them ("NaN", "Infinity") too. */
    private static double number(JsonNode parent, String field, String path) {
        JsonNode n = parent.get(field);
        if (n != null && n.isTextual() && NON_FINITE.contains(n.asText())) {
            return Double.parseDouble(n.asText());
        }
        if (n == null || !n.isNumber()) {
            throw new IllegalArgumentException("field " + path + " is missing or not a number");
        }
        return n.doubleValue();
    }

    private static String text(JsonNode parent, String field, String path) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isTextual() || n.asText().isBlank()) {
            throw new IllegalArgumentException("field " + path + " is missing or not text");
        }
        return n.asText();
    }
}
