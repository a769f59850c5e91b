package org.sqzspark.job.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Everything that defines a run except P: runs of one recipe at several P form one scaling curve.
 *
 * <p>Settings a training master ignores are left out of the key, so that they cannot split a curve:
 * the averaging frequency under gradient sharing, the encoding threshold under parameter averaging,
 * momentum for any optimizer but Nesterov's, and the per-replica batch when the global batch is held
 * fixed (it is then the global batch over P). The seed is left out too: a repeated run is the same
 * recipe, and the report uses the latest.
 *
 * @param trainingMaster     "shared" or "averaging"
 * @param averagingFrequency minibatches per replica between averagings (0 under gradient sharing)
 * @param threshold          initial update-encoding threshold (0 under parameter averaging)
 * @param optimizer          update rule, lower case
 * @param learningRate       learning rate before any scaling
 * @param momentum           Nesterov momentum (0 for other optimizers)
 * @param l2                 L2 weight decay
 * @param dropout            dropout before conv10
 * @param batchPerReplica    minibatch of one replica (0 when the global batch is fixed)
 * @param fixedGlobalBatch   global batch held fixed over P (0: the per-replica batch is fixed)
 * @param lrScaling          "none", "linear" or "sqrt"
 * @param warmupEpochs       epochs of learning-rate warm-up (0: none)
 * @param epochs             passes over the training data
 * @param trainLimit         training images used (0: all)
 * @param linkMbit           the cluster's link rate as its configuration stated it (0: not stated),
 *                           so that runs over links of different rates form curves of their own
 */
public record Recipe(String trainingMaster, int averagingFrequency, double threshold, String optimizer,
                     double learningRate, double momentum, double l2, double dropout, int batchPerReplica,
                     int fixedGlobalBatch, String lrScaling, int warmupEpochs, int epochs, int trainLimit,
                     double linkMbit) {

    public static final String SHARED = "shared";
    public static final String AVERAGING = "averaging";
    public static final String NO_SCALING = "none";

    /** The key of a run's settings, with the settings its training master ignores cleared. */
    public static Recipe of(String trainingMaster, int averagingFrequency, double threshold, String optimizer,
                            double learningRate, double momentum, double l2, double dropout, int batchPerReplica,
                            int fixedGlobalBatch, String lrScaling, int warmupEpochs, int epochs, int trainLimit,
                            double linkMbit) {
        String master = trainingMaster.toLowerCase(Locale.ROOT);
        String opt = optimizer.toLowerCase(Locale.ROOT);
        boolean averaging = AVERAGING.equals(master);
        return new Recipe(master, averaging ? averagingFrequency : 0, averaging ? 0 : threshold, opt, learningRate,
                "nesterov".equals(opt) ? momentum : 0, l2, dropout, fixedGlobalBatch == 0 ? batchPerReplica : 0,
                fixedGlobalBatch, lrScaling.toLowerCase(Locale.ROOT), warmupEpochs, epochs, trainLimit, linkMbit);
    }

    /** No remedy: the learning rate not scaled, no warm-up, the per-replica batch fixed. */
    public boolean isPlain() {
        return NO_SCALING.equals(lrScaling) && warmupEpochs == 0 && fixedGlobalBatch == 0;
    }

    /** The same settings without the remedies, at the given per-replica batch. */
    public Recipe plain(int batch) {
        return new Recipe(trainingMaster, averagingFrequency, threshold, optimizer, learningRate, momentum, l2,
                dropout, batch, 0, NO_SCALING, 0, epochs, trainLimit, linkMbit);
    }

    /** True when the two differ at most in the remedies and the batch. */
    public boolean sameBaseAs(Recipe other) {
        return plain(0).equals(other.plain(0));
    }

    /** Short name of the remedies and the training master, e.g. "lr linear + warmup 2 (shared)". */
    public String baseName() {
        List<String> remedies = new ArrayList<>();
        if (fixedGlobalBatch != 0) {
            remedies.add("global batch " + fixedGlobalBatch);
        }
        if (!NO_SCALING.equals(lrScaling)) {
            remedies.add("lr " + lrScaling);
        }
        if (warmupEpochs != 0) {
            remedies.add("warmup " + warmupEpochs);
        }
        String what = remedies.isEmpty() ? "plain" : String.join(" + ", remedies);
        return what + " (" + masterName() + (linkMbit > 0 ? ", " + Numbers.compact(linkMbit) + " Mbit/s links" : "")
                + ")";
    }

    /** "shared", "averaging" or "averaging every N". */
    public String masterName() {
        if (!AVERAGING.equals(trainingMaster) || averagingFrequency <= 1) {
            return trainingMaster;
        }
        return "averaging every " + averagingFrequency;
    }

    /** The settings that are not in {@link #baseName()}, in words, for telling recipes of one name apart. */
    List<String> details() {
        return List.of(
                fixedGlobalBatch == 0 ? "batch " + batchPerReplica : "",
                optimizer + " lr " + Numbers.compact(learningRate),
                "nesterov".equals(optimizer) ? "momentum " + Numbers.compact(momentum) : "",
                "l2 " + Numbers.compact(l2),
                "dropout " + Numbers.compact(dropout),
                SHARED.equals(trainingMaster) ? "threshold " + Numbers.compact(threshold) : "",
                epochs + (epochs == 1 ? " epoch" : " epochs"),
                trainLimit == 0 ? "all training images" : trainLimit + " training images");
    }

    /** Every setting, in words. */
    public String description() {
        List<String> parts = new ArrayList<>();
        parts.add(masterName());
        for (String d : details()) {
            if (!d.isEmpty()) {
                parts.add(d);
            }
        }
        parts.add(fixedGlobalBatch == 0 ? "per-replica batch fixed" : "global batch " + fixedGlobalBatch
                + " fixed (per-replica batch " + fixedGlobalBatch + "/P)");
        parts.add("lr scaling " + lrScaling);
        parts.add(warmupEpochs == 0 ? "no warm-up" : "warm-up " + warmupEpochs + " epochs");
        return String.join(", ", parts);
    }
}
