package org.sqzspark.job.train;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sqzspark.job.results.EpochMetrics;
import org.sqzspark.job.results.RunResult;
import org.sqzspark.model.Optimizer;

/**
 * A run gone numerically wrong: a training loss or parameters that turned NaN or infinite. Such a
 * run would train on to its last epoch and be reported as a low accuracy, so it is stopped at the
 * end of the epoch that shows it and recorded as diverged. Too high a learning rate is the usual
 * cause; DL4J's linux-arm64 build has also been reported to produce NaN on Raspberry Pi 4s
 * (deeplearning4j issues 8911 and 8813).
 *
 * <p>A network that merely dies (loss about ln 10, accuracy at chance) stays finite: that is a
 * result, which the report names, not a divergence.
 */
public final class Divergence {

    private Divergence() {
    }

    /** True when the loss is not finite or any parameter is NaN or infinite. */
    static boolean found(double trainLoss, INDArray params) {
        return !Double.isFinite(trainLoss) || params.isNaN().any() || params.isInfinite().any();
    }

    /**
     * The one line that says a run diverged: its id, the epoch, the recipe and what to try.
     *
     * @param run a run whose last epoch is the one that went wrong
     */
    public static String message(RunResult run) {
        TrainConfig c = run.config();
        EpochMetrics last = run.epochs().get(run.epochs().size() - 1);
        String what = Double.isFinite(last.trainLoss()) ? "parameters NaN or infinite"
                : "training loss " + last.trainLoss();
        String lr = plain(c.model().learningRate());
        String recipe = c.model().optimizer().name().toLowerCase(Locale.ROOT) + ", learning rate " + lr
                + (run.peakLearningRate() != c.model().learningRate() ? " (peak " + plain(run.peakLearningRate()) + ")"
                : "") + ", batch " + c.batchPerReplica() + " per replica (global " + run.globalBatch() + "), "
                + c.trainingMaster().name().toLowerCase(Locale.ROOT);
        List<String> tries = new ArrayList<>();
        tries.add("a lower learning rate, e.g. --lr " + plain(c.model().learningRate() / 10));
        if (c.lrScaling() != LrScaling.NONE) {
            tries.add("--lr-scaling sqrt or none, or more --warmup-epochs");
        }
        if (c.model().optimizer() != Optimizer.SGD) {
            tries.add("--optimizer sgd");
        }
        String arm = "aarch64".equals(run.environment().osArch())
                ? "; on arm64 DL4J's native build itself has been reported to produce NaN (deeplearning4j issues 8911,"
                + " 8813)" : "";
        return "run " + run.runId() + " diverged at epoch " + last.epoch() + " of " + c.epochs() + ": " + what
                + " (P=" + c.partitions() + ", " + recipe + "); stopped and recorded as diverged. Try "
                + String.join(", or ", tries) + arm;
    }

    /** A rate as written on the command line: 0.0001, not 1.0E-4. */
    private static String plain(double v) {
        return new BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
    }
}
