package org.sqzspark.job.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Objects;
import org.sqzspark.job.cluster.SparkSetup;
import org.sqzspark.model.ModelConfig;

/**
 * One training run, fully resolved and validated; every message names the option and its range.
 *
 * @param data               CIFAR-10 location: a local path or any Hadoop FileSystem URI
 * @param dataIsDefault      true when {@code data} was not given; only then is a download tried
 * @param out                results folder (local path or Hadoop FileSystem URI)
 * @param master             Spark master URL (spark-submit's, or embedded local[*], unless given)
 * @param partitions         P: model replicas training at once, each on 1/P of the training data
 * @param epochs             passes over the training data
 * @param batchPerReplica    minibatch size of one replica; the global batch is P times this
 * @param trainLimit         keep only the first N training records (0: all 50,000)
 * @param trainingMaster     gradient sharing or parameter averaging
 * @param averagingFrequency minibatches per replica between two averagings (parameter averaging)
 * @param threshold          initial update-encoding threshold (gradient sharing)
 * @param lossSample         training images scored after each epoch for the training loss
 * @param evalBatch          images per evaluation minibatch
 * @param lrScaling          learning rate scaled with the global batch: none, linear or sqrt
 * @param warmupEpochs       epochs over which the learning rate rises linearly from the given rate to the
 *                           scaled one (0: none)
 * @param fixedGlobalBatch   the global batch held fixed over P (batchPerReplica = this / P), or 0 when the
 *                           per-replica batch is fixed instead
 * @param model              network and update rule; its learning rate is the rate before scaling, for the
 *                           mean update of all replicas
 * @param execution          how the replicas run: in turns (embedded only) or as DL4J's Spark training
 */
public record TrainConfig(String data, boolean dataIsDefault, String out, String master, int partitions,
                          int epochs, int batchPerReplica, int trainLimit, TrainingMasterKind trainingMaster,
                          int averagingFrequency, double threshold, int lossSample, int evalBatch,
                          LrScaling lrScaling, int warmupEpochs, int fixedGlobalBatch, ModelConfig model,
                          Execution execution) {

    public static final String DEFAULT_DATA = "data/cifar10";
    public static final String DEFAULT_OUT = "results";
    public static final int DEFAULT_EPOCHS = 10;
    /** Batch 32 per replica: the measured recipe that trains SqueezeNet v1.1 without batch norm. */
    public static final int DEFAULT_BATCH = 32;
    /** Averaging every minibatch: synchronous data parallelism, as the study's MPI processes. */
    public static final TrainingMasterKind DEFAULT_TRAINING_MASTER = TrainingMasterKind.AVERAGING;
    public static final int DEFAULT_AVERAGING_FREQUENCY = 1;
    /**
     * Initial threshold of gradient sharing's update encoding (DL4J's adaptive algorithm moves it
     * from there). DL4J's default, 1e-3, quantized Adam's 1e-4 steps to steps of 1e-3 and killed
     * SqueezeNet at every P >= 2 (measured: 10.0% test accuracy, loss ln 10, from the first epoch on
     * CIFAR-10); 1e-5 learns.
     */
    public static final double DEFAULT_THRESHOLD = 1e-5;
    public static final int DEFAULT_LOSS_SAMPLE = 5_000;
    public static final int DEFAULT_EVAL_BATCH = 250;
    public static final int MAX_PARTITIONS = 4_096;

    public TrainConfig {
        Objects.requireNonNull(model, "model");
        requireText(data, "--data", "a folder holding CIFAR-10, e.g. ../shared/cifar10 or hdfs://head:9000/cifar10");
        requireText(out, "--out", "a folder for results, e.g. results");
        requireText(master, "--master", "local[*], local[N] or spark://host:7077");
        Objects.requireNonNull(trainingMaster, "--training-master must be shared or averaging");
        requireRange("--partitions", partitions, 1, MAX_PARTITIONS);
        requireRange("--epochs", epochs, 1, 10_000);
        requireRange("--batch", batchPerReplica, 1, 8_192);
        requireRange("--train-limit", trainLimit, 0, Integer.MAX_VALUE);
        requireRange("--averaging-frequency", averagingFrequency, 1, 100_000);
        requireRange("--loss-sample", lossSample, 1, Integer.MAX_VALUE);
        requireRange("--eval-batch", evalBatch, 1, 100_000);
        if (!(threshold > 0 && threshold < 1)) {
            throw new IllegalArgumentException("--threshold must be in (0, 1), was " + threshold);
        }
        Objects.requireNonNull(lrScaling, "--lr-scaling must be none, linear or sqrt");
        Objects.requireNonNull(execution, "--embedded must be turns or spark");
        if (execution == Execution.TURNS && !SparkSetup.isEmbedded(master)) {
            throw new IllegalArgumentException("--embedded turns runs only with an embedded master (local[*]), not "
                    + master + ": on a cluster the replicas run as DL4J's Spark training; drop --embedded");
        }
        requireRange("--warmup-epochs", warmupEpochs, 0, epochs);
        if (fixedGlobalBatch != 0 && fixedGlobalBatch != partitions * (long) batchPerReplica) {
            throw new IllegalArgumentException("--global-batch " + fixedGlobalBatch + " is not P=" + partitions
                    + " times a whole per-replica batch: give a multiple of every P in the sweep");
        }
    }

    /**
     * Resolves the per-replica batch: {@code globalBatch / partitions} when a global batch is given
     * (non-zero), else {@code batch}.
     *
     * @throws IllegalArgumentException when the global batch does not split evenly over P replicas
     */
    public static int batchPerReplica(int partitions, int batch, int globalBatch) {
        if (globalBatch == 0) {
            return batch;
        }
        if (globalBatch < 0 || globalBatch % partitions != 0) {
            throw new IllegalArgumentException("--global-batch " + globalBatch + " does not split evenly over P="
                    + partitions + " replicas: give a positive multiple of every P in the sweep (e.g. "
                    + Math.max(1, Math.round((double) Math.max(globalBatch, partitions) / partitions)) * partitions
                    + ")");
        }
        return globalBatch / partitions;
    }

    /** True when {@code other} is the same run, wherever it runs (any master). */
    public boolean sameRunAs(TrainConfig other) {
        return withMaster(master).equals(other.withMaster(master));
    }

    private TrainConfig withMaster(String m) {
        return new TrainConfig(data, dataIsDefault, out, m, partitions, epochs, batchPerReplica, trainLimit,
                trainingMaster, averagingFrequency, threshold, lossSample, evalBatch, lrScaling, warmupEpochs,
                fixedGlobalBatch, model, execution);
    }

    /** What a synchronous step of this run computes (also written to its results). */
    @JsonProperty("arithmetic")
    public Arithmetic arithmetic() {
        return Arithmetic.of(trainingMaster, averagingFrequency, model.optimizer(), partitions);
    }

    /** Images in one synchronous step over all replicas. */
    public int globalBatch() {
        return partitions * batchPerReplica;
    }

    /**
     * The learning rate after scaling: the given rate times k (linear) or sqrt(k), k being the
     * global batch over the global batch of one replica with the same settings (P, with a fixed
     * per-replica batch; 1, with a fixed global batch).
     */
    public double scaledLearningRate() {
        double k = fixedGlobalBatch == 0 ? partitions : 1;
        return lrScaling.scale(model.learningRate(), k);
    }

    /**
     * The network's update rule for a run of {@code stepsPerEpoch} steps per epoch: the scaled rate,
     * reached by a linear warm-up from the given rate over {@code warmupEpochs} epochs' steps.
     */
    public ModelConfig modelFor(int stepsPerEpoch) {
        ModelConfig scaled = model.withLearningRate(scaledLearningRate());
        return warmupEpochs == 0 ? scaled : scaled.withWarmup(warmupEpochs * stepsPerEpoch, model.learningRate());
    }

    /**
     * The update rule each replica trains with. Parameter averaging: {@link #modelFor}. Gradient
     * sharing, where every replica applies every replica's update: the rates over P, so that the P
     * updates sum to the mean update (for SGD and momentum SGD, which are linear in the gradient).
     */
    public ModelConfig replicaModelFor(int stepsPerEpoch) {
        ModelConfig mean = modelFor(stepsPerEpoch);
        if (trainingMaster != TrainingMasterKind.SHARED || partitions == 1) {
            return mean;
        }
        ModelConfig perReplica = mean.withLearningRate(mean.learningRate() / partitions);
        return mean.warmupSteps() == 0 ? perReplica
                : perReplica.withWarmup(mean.warmupSteps(), mean.warmupFrom() / partitions);
    }

    private static void requireText(String value, String option, String example) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(option + " must not be empty: give " + example);
        }
    }

    private static void requireRange(String option, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(option + " must be in " + min + ".." + max + ", was " + value);
        }
    }
}
