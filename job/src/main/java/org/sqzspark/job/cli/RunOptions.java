package org.sqzspark.job.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.sqzspark.job.cluster.SparkSetup;
import org.sqzspark.job.train.Execution;
import org.sqzspark.job.train.LrScaling;
import org.sqzspark.job.train.Progress;
import org.sqzspark.job.train.TrainConfig;
import org.sqzspark.job.train.TrainingMasterKind;
import org.sqzspark.model.ModelConfig;
import org.sqzspark.model.Optimizer;
import picocli.CommandLine.Option;

/** Options shared by {@code train} and {@code sweep}; defaults are declared once, in the config records. */
final class RunOptions {

    @Option(names = "--data", paramLabel = "URI",
            description = "CIFAR-10 binary version: a folder with data_batch_1..5.bin and test_batch.bin (plain or"
                    + " .gz) or cifar-10-binary.tar.gz; local path, file: or hdfs: URI. Default: "
                    + TrainConfig.DEFAULT_DATA + " (fetched from the official site if absent).")
    String data;

    @Option(names = "--out", paramLabel = "URI", defaultValue = TrainConfig.DEFAULT_OUT,
            description = "Results folder (local path, file: or hdfs: URI). Default: ${DEFAULT-VALUE}.")
    String out;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master. Default: spark-submit's --master, else embedded " + SparkSetup.EMBEDDED_MASTER
                    + ".")
    String master;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "" + TrainConfig.DEFAULT_EPOCHS,
            description = "Passes over the training data. Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "" + TrainConfig.DEFAULT_BATCH,
            description = "Minibatch of one replica; the global batch is P times this. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--global-batch", paramLabel = "N", defaultValue = "0",
            description = "Hold the global batch fixed at N over P instead of the per-replica batch: each"
                    + " replica takes N/P, so steps per epoch do not fall as P grows (replaces --batch; 0: off)."
                    + " Default: ${DEFAULT-VALUE}.")
    int globalBatch;

    @Option(names = "--lr-scaling", paramLabel = "RULE", converter = LrScalingConverter.class,
            description = "Scale --lr with the global batch (k = P with a fixed per-replica batch): none,"
                    + " linear (k times) or sqrt (sqrt(k) times). Default: ${DEFAULT-VALUE}.")
    LrScaling lrScaling = LrScaling.NONE;

    @Option(names = "--warmup-epochs", paramLabel = "N", defaultValue = "0",
            description = "Raise the learning rate linearly, step by step, from --lr to the scaled rate over the"
                    + " first N epochs. Default: ${DEFAULT-VALUE}.")
    int warmupEpochs;

    @Option(names = "--resume",
            description = "Keep the runs of these settings already complete in --out and continue unfinished ones"
                    + " from their last checkpoint (one per epoch); runs with no checkpoint start afresh.")
    boolean resume;

    @Option(names = "--quiet",
            description = "Log only each epoch's line, not the progress line (steps, images/s, time left) logged"
                    + " at most every " + Progress.INTERVAL_SECONDS + " s while an epoch trains.")
    boolean quiet;

    @Option(names = "--train-limit", paramLabel = "N", defaultValue = "0",
            description = "Use only the first N training images (0: all 50,000). Default: ${DEFAULT-VALUE}.")
    int trainLimit;

    @Option(names = "--training-master", paramLabel = "KIND", converter = TrainingMasterConverter.class,
            description = "averaging (synchronous parameter averaging) or shared (gradient sharing: each replica's"
                    + " learning rate is --lr over P, so the replicas' updates sum to the mean update)."
                    + " Default: ${DEFAULT-VALUE}.")
    TrainingMasterKind trainingMaster = TrainConfig.DEFAULT_TRAINING_MASTER;

    @Option(names = "--embedded", paramLabel = "HOW", converter = ExecutionConverter.class,
            description = "How the P replicas run with an embedded master: turns (one network, the replicas taking"
                    + " turns on the cores and combined as the training master combines them) or spark (DL4J's own"
                    + " Spark training, all replicas at once). Cluster masters always run DL4J's Spark training."
                    + " Default: turns when embedded.")
    Execution embedded;

    @Option(names = "--averaging-frequency", paramLabel = "N",
            defaultValue = "" + TrainConfig.DEFAULT_AVERAGING_FREQUENCY,
            description = "Minibatches per replica between parameter averagings (averaging only)."
                    + " Default: ${DEFAULT-VALUE}.")
    int averagingFrequency;

    @Option(names = "--threshold", paramLabel = "X", defaultValue = "" + TrainConfig.DEFAULT_THRESHOLD,
            description = "Initial update-encoding threshold (gradient sharing only). Default: ${DEFAULT-VALUE}.")
    double threshold;

    @Option(names = "--optimizer", paramLabel = "NAME", converter = OptimizerConverter.class,
            description = "sgd, nesterov (momentum) or adam. Default: ${DEFAULT-VALUE}.")
    Optimizer optimizer = ModelConfig.DEFAULT_OPTIMIZER;

    @Option(names = "--lr", paramLabel = "X", defaultValue = "" + ModelConfig.DEFAULT_LEARNING_RATE,
            description = "Learning rate. Default: ${DEFAULT-VALUE}.")
    double learningRate;

    @Option(names = "--momentum", paramLabel = "X", defaultValue = "" + ModelConfig.DEFAULT_MOMENTUM,
            description = "Momentum (nesterov only). Default: ${DEFAULT-VALUE}.")
    double momentum;

    @Option(names = "--l2", paramLabel = "X", defaultValue = "" + ModelConfig.DEFAULT_L2,
            description = "L2 weight decay. Default: ${DEFAULT-VALUE}.")
    double l2;

    @Option(names = "--dropout", paramLabel = "X", defaultValue = "" + ModelConfig.DEFAULT_DROPOUT,
            description = "Dropout probability before conv10. Default: ${DEFAULT-VALUE}.")
    double dropout;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "" + ModelConfig.DEFAULT_SEED,
            description = "Seed of weights, data order and dropout. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--loss-sample", paramLabel = "N", defaultValue = "" + TrainConfig.DEFAULT_LOSS_SAMPLE,
            description = "Training images scored after each epoch for the training loss."
                    + " Default: ${DEFAULT-VALUE}.")
    int lossSample;

    @Option(names = "--eval-batch", paramLabel = "N", defaultValue = "" + TrainConfig.DEFAULT_EVAL_BATCH,
            description = "Images per evaluation minibatch. Default: ${DEFAULT-VALUE}.")
    int evalBatch;

    /** The validated configuration for P partitions. */
    TrainConfig toConfig(int partitions) {
        ModelConfig model = new ModelConfig(ModelConfig.DEFAULT_CLASSES, seed, optimizer, learningRate, momentum, l2,
                dropout);
        boolean dataIsDefault = data == null;
        String resolvedMaster = master != null ? master : SparkSetup.conf(null).get("spark.master");
        if (partitions < 1) {
            throw new IllegalArgumentException("--partitions must be at least 1, was " + partitions);
        }
        Execution execution = embedded != null ? embedded
                : SparkSetup.isEmbedded(resolvedMaster) ? Execution.TURNS : Execution.SPARK;
        return new TrainConfig(dataIsDefault ? TrainConfig.DEFAULT_DATA : data, dataIsDefault, out, resolvedMaster,
                partitions, epochs, TrainConfig.batchPerReplica(partitions, batch, globalBatch), trainLimit,
                trainingMaster, averagingFrequency, threshold, lossSample, evalBatch, lrScaling, warmupEpochs,
                globalBatch, model, execution);
    }

    /**
     * Reads an enum option by its constant's name in any case; anything else is refused with the
     * option's choices, lower case.
     */
    abstract static class EnumConverter<E extends Enum<E>> implements picocli.CommandLine.ITypeConverter<E> {
        private final Class<E> type;
        private final String what;

        EnumConverter(Class<E> type, String what) {
            this.type = type;
            this.what = what;
        }

        @Override
        public E convert(String value) {
            for (E constant : type.getEnumConstants()) {
                if (constant.name().equalsIgnoreCase(value)) {
                    return constant;
                }
            }
            List<String> names = new ArrayList<>();
            for (E constant : type.getEnumConstants()) {
                names.add(constant.name().toLowerCase(Locale.ROOT));
            }
            String choices = names.size() == 2 ? names.get(0) + " or " + names.get(1)
                    : String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
            throw new picocli.CommandLine.TypeConversionException(
                    "'" + value + "' is not " + what + ": use " + choices);
        }
    }

    /** Reads shared|averaging. */
    static final class TrainingMasterConverter extends EnumConverter<TrainingMasterKind> {
        TrainingMasterConverter() {
            super(TrainingMasterKind.class, "a training master");
        }
    }

    /** Reads turns|spark. */
    static final class ExecutionConverter extends EnumConverter<Execution> {
        ExecutionConverter() {
            super(Execution.class, "a way to run the replicas");
        }
    }

    /** Reads none|linear|sqrt. */
    static final class LrScalingConverter extends EnumConverter<LrScaling> {
        LrScalingConverter() {
            super(LrScaling.class, "a learning-rate scaling");
        }
    }

    /** Reads sgd|nesterov|adam. */
    static final class OptimizerConverter extends EnumConverter<Optimizer> {
        OptimizerConverter() {
            super(Optimizer.class, "an optimizer");
        }
    }
}
