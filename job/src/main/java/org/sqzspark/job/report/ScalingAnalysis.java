package org.sqzspark.job.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The report's figures, from the runs of a results folder: runs grouped into recipes, one run per
 * recipe and P, and per P the time, speedup, efficiency, time to the target accuracy and
 * throughput, and per recipe the statistical scaling limit. Every figure is computed here, by the
 * definitions the report states, and nowhere else.
 */
public final class ScalingAnalysis {

    /** Test-accuracy drop from P=1 that still counts as holding accuracy: 2 points. */
    public static final double ACCURACY_TOLERANCE = 0.02;
    /**
     * Slack of the scaling-limit comparison, far below one test image in 10,000, so that a run exactly
     * 2 points below P=1 counts as within despite binary rounding of the difference.
     */
    private static final double ROUNDING_SLACK = 1e-9;
    /** Test accuracy of a network that predicts one class of ten balanced ones: 10%. */
    public static final double CHANCE_ACCURACY = 0.1;
    /** Cross-entropy of a uniform guess over ten classes: ln 10. */
    public static final double CHANCE_LOSS = Math.log(10);
    /** How near chance accuracy (2 points) and ln 10 (0.05) a run that did not learn ends. */
    private static final double CHANCE_ACCURACY_TOLERANCE = 0.02;
    private static final double CHANCE_LOSS_TOLERANCE = 0.05;

    private final double targetAccuracy;
    private final List<RecipeResult> recipes;

    private ScalingAnalysis(double targetAccuracy, List<RecipeResult> recipes) {
        this.targetAccuracy = targetAccuracy;
        this.recipes = recipes;
    }

    /**
     * The run the figures of one (recipe, P) come from.
     *
     * @param partitions   P
     * @param run          the latest completed run, or the latest run when none completed
     * @param superseded   other runs of the same recipe and P, not used
     * @param time         time(P): the run's training seconds
     * @param speedup      time(1)/time(P), empty without a completed reference P=1 run or for an incomplete run
     * @param efficiency   speedup/P, empty like the speedup
     * @param timeToTarget fit seconds up to the first epoch at the target accuracy, empty if not reached
     * @param throughput   training images times finished epochs over training seconds
     */
    public record Row(int partitions, RunRecord run, List<RunRecord> superseded, double time,
                      OptionalDouble speedup, OptionalDouble efficiency, OptionalDouble timeToTarget,
                      double throughput) {

        /** True when every epoch of the run finished; only such rows count for speedup and scaling limit. */
        public boolean complete() {
            return run.completed();
        }

        /** True when the run stopped because its training loss or parameters turned NaN or infinite. */
        public boolean diverged() {
            return run.diverged();
        }

        /** True when the run completed yet did not learn: see {@link #atChanceLevel(RunRecord)}. */
        public boolean atChanceLevel() {
            return ScalingAnalysis.atChanceLevel(run);
        }

        /** Test accuracy after the run's last finished epoch. */
        public double finalAccuracy() {
            return run.finalTestAccuracy();
        }
    }

    /**
     * One recipe's curve.
     *
     * @param recipe       the settings other than P
     * @param name         short name, unique in the report
     * @param rows         one row per P, ascending
     * @param reference    the completed P=1 run that speedup and accuracy are measured against, if any
     * @param ownReference true when the reference is this recipe's own P=1 run, false when it is the plain
     *                     recipe's
     * @param scalingLimit the largest P whose final accuracy is within 2 points of the reference's
     */
    public record RecipeResult(Recipe recipe, String name, List<Row> rows, Optional<RunRecord> reference,
                               boolean ownReference, OptionalInt scalingLimit) {

        /** The reference accuracy less 2 points, or NaN without a reference. */
        public double accuracyThreshold() {
            return reference.map(r -> r.finalTestAccuracy() - ACCURACY_TOLERANCE).orElse(Double.NaN);
        }

        /** Rows of completed runs. */
        public List<Row> completeRows() {
            return rows.stream().filter(Row::complete).toList();
        }
    }

    /** The target accuracy of the time-to-target figures. */
    public double targetAccuracy() {
        return targetAccuracy;
    }

    /** The recipes: plain ones first, then by name. */
    public List<RecipeResult> recipes() {
        return recipes;
    }

    /** Every run the figures use, one per recipe and P. */
    public List<RunRecord> usedRuns() {
        return recipes.stream().flatMap(r -> r.rows().stream()).map(Row::run).toList();
    }

    /** Runs left out because a later run of the same recipe and P exists. */
    public List<RunRecord> supersededRuns() {
        return recipes.stream().flatMap(r -> r.rows().stream()).flatMap(row -> row.superseded().stream()).toList();
    }

    /**
     * Groups runs into recipes and computes every figure.
     *
     * @param runs           runs of a results folder, in any order
     * @param targetAccuracy test accuracy of the time-to-target figures, in (0, 1]
     */
    public static ScalingAnalysis of(List<RunRecord> runs, double targetAccuracy) {
        Map<Recipe, List<RunRecord>> byRecipe = runs.stream()
                .collect(Collectors.groupingBy(RunRecord::recipe, LinkedHashMap::new, Collectors.toList()));
        Map<Recipe, Map<Integer, Selection>> selected = new LinkedHashMap<>();
        byRecipe.forEach((recipe, list) -> selected.put(recipe, select(list)));
        Map<Recipe, String> names = names(byRecipe.keySet());

        List<RecipeResult> results = new ArrayList<>();
        for (Map.Entry<Recipe, Map<Integer, Selection>> e : selected.entrySet()) {
            Recipe recipe = e.getKey();
            Optional<RunRecord> own = completeP1(selected.get(recipe));
            Optional<RunRecord> reference = own.isPresent() ? own : plainReference(recipe, selected);
            List<Row> rows = new ArrayList<>();
            Map<Integer, Double> finalAccuracy = new TreeMap<>();
            for (Selection s : e.getValue().values()) {
                rows.add(row(s, reference, targetAccuracy));
                if (s.run.completed()) {
                    finalAccuracy.put(s.run.partitions(), s.run.finalTestAccuracy());
                }
            }
            OptionalInt limit = reference.isEmpty() ? OptionalInt.empty()
                    : scalingLimit(reference.get().finalTestAccuracy(), finalAccuracy);
            results.add(new RecipeResult(recipe, names.get(recipe), List.copyOf(rows), reference, own.isPresent(),
                    limit));
        }
        results.sort(Comparator.comparing((RecipeResult r) -> !r.recipe().isPlain()).thenComparing(RecipeResult::name));
        return new ScalingAnalysis(targetAccuracy, List.copyOf(results));
    }

    /** time(P): the run's training seconds, the sum of its epochs' fit seconds. */
    public static double time(RunRecord run) {
        return run.trainSeconds();
    }

    /** speedup(P) = time(1) / time(P). */
    public static double speedup(double time1, double timeP) {
        return time1 / timeP;
    }

    /** efficiency(P) = speedup(P) / P. */
    public static double efficiency(double speedup, int partitions) {
        return speedup / partitions;
    }

    /**
     * Time to the target: the fit seconds of the epochs up to and including the first whose test
     * accuracy is at least the target, summed in epoch order; empty when no epoch reaches it.
     */
    public static OptionalDouble timeToTarget(List<RunRecord.Epoch> epochs, double target) {
        double seconds = 0;
        for (RunRecord.Epoch e : epochs) {
            seconds += e.fitSeconds();
            if (e.testAccuracy() >= target) {
                return OptionalDouble.of(seconds);
            }
        }
        return OptionalDouble.empty();
    }

    /**
     * A run that completed but did not learn: its final test accuracy within 2 points of chance (10%)
     * and its final training loss within 0.05 of ln 10, the loss of a uniform guess. Such a network
     * died (too high a learning rate for its batch, say) but stayed finite: a result, not a fault.
     */
    public static boolean atChanceLevel(RunRecord run) {
        return run.completed()
                && Math.abs(run.finalTestAccuracy() - CHANCE_ACCURACY) <= CHANCE_ACCURACY_TOLERANCE
                && Math.abs(run.finalTrainLoss() - CHANCE_LOSS) <= CHANCE_LOSS_TOLERANCE;
    }

    /** Throughput: training images times finished epochs over training seconds (Spark's overhead included). */
    public static double throughput(RunRecord run) {
        return (double) run.trainImages() * run.epochs().size() / run.trainSeconds();
    }

    /**
     * The statistical scaling limit: the largest P whose final test accuracy is at least the reference
     * accuracy less 2 points; empty when no P is.
     *
     * @param referenceAccuracy final test accuracy of the reference P=1 run
     * @param finalAccuracyByP  final test accuracy of each completed run of the recipe, by P
     */
    public static OptionalInt scalingLimit(double referenceAccuracy, Map<Integer, Double> finalAccuracyByP) {
        return finalAccuracyByP.entrySet().stream()
                .filter(e -> holdsAccuracy(e.getValue(), referenceAccuracy))
                .mapToInt(Map.Entry::getKey)
                .max();
    }

    /** True when an accuracy is at least the reference accuracy less 2 points. */
    public static boolean holdsAccuracy(double accuracy, double referenceAccuracy) {
        return accuracy >= referenceAccuracy - ACCURACY_TOLERANCE - ROUNDING_SLACK;
    }

    private record Selection(RunRecord run, List<RunRecord> superseded) {
    }

    /** Per P, the latest completed run, else the latest run; the others are superseded. */
    private static Map<Integer, Selection> select(List<RunRecord> runs) {
        Map<Integer, List<RunRecord>> byP = runs.stream()
                .collect(Collectors.groupingBy(RunRecord::partitions, TreeMap::new, Collectors.toList()));
        Map<Integer, Selection> out = new TreeMap<>();
        Comparator<RunRecord> preference = Comparator.comparing(RunRecord::completed)
                .thenComparing(RunRecord::startInstant)
                .thenComparing(RunRecord::runId)
                .reversed();
        byP.forEach((p, list) -> {
            List<RunRecord> sorted = list.stream().sorted(preference).toList();
            out.put(p, new Selection(sorted.get(0), sorted.subList(1, sorted.size())));
        });
        return out;
    }

    private static Optional<RunRecord> completeP1(Map<Integer, Selection> rows) {
        Selection s = rows == null ? null : rows.get(1);
        return s != null && s.run.completed() ? Optional.of(s.run) : Optional.empty();
    }

    /**
     * The plain recipe's completed P=1 run: same settings without the remedies. With the global batch
     * fixed at G, the plain recipe at batch G first (its P=1 run trains exactly like this recipe's
     * would), else the one plain recipe of the same settings at any batch.
     */
    private static Optional<RunRecord> plainReference(Recipe recipe, Map<Recipe, Map<Integer, Selection>> selected) {
        if (recipe.isPlain()) {
            return Optional.empty();
        }
        if (recipe.fixedGlobalBatch() == 0) {
            return completeP1(selected.get(recipe.plain(recipe.batchPerReplica())));
        }
        Optional<RunRecord> sameBatch = completeP1(selected.get(recipe.plain(recipe.fixedGlobalBatch())));
        if (sameBatch.isPresent()) {
            return sameBatch;
        }
        List<RunRecord> candidates = selected.entrySet().stream()
                .filter(e -> e.getKey().isPlain() && e.getKey().sameBaseAs(recipe))
                .map(e -> completeP1(e.getValue()))
                .flatMap(Optional::stream)
                .toList();
        return candidates.size() == 1 ? Optional.of(candidates.get(0)) : Optional.empty();
    }

    private static Row row(Selection s, Optional<RunRecord> reference, double target) {
        RunRecord run = s.run;
        double time = time(run);
        OptionalDouble speedup = OptionalDouble.empty();
        OptionalDouble efficiency = OptionalDouble.empty();
        if (run.completed() && reference.isPresent()) {
            double sp = speedup(time(reference.get()), time);
            speedup = OptionalDouble.of(sp);
            efficiency = OptionalDouble.of(efficiency(sp, run.partitions()));
        }
        return new Row(run.partitions(), run, List.copyOf(s.superseded), time, speedup, efficiency,
                timeToTarget(run.epochs(), target), throughput(run));
    }

    /** Base names, with the distinguishing settings added where two recipes share one. */
    private static Map<Recipe, String> names(Set<Recipe> recipes) {
        Map<String, List<Recipe>> byBase = recipes.stream()
                .collect(Collectors.groupingBy(Recipe::baseName, LinkedHashMap::new, Collectors.toList()));
        Map<Recipe, String> names = new LinkedHashMap<>();
        byBase.forEach((base, group) -> {
            if (group.size() == 1) {
                names.put(group.get(0), base);
                return;
            }
            int fields = group.get(0).details().size();
            for (Recipe r : group) {
                List<String> differing = new ArrayList<>();
                for (int i = 0; i < fields; i++) {
                    int field = i;
                    long distinct = group.stream().map(g -> g.details().get(field)).distinct().count();
                    if (distinct > 1 && !r.details().get(i).isEmpty()) {
                        differing.add(r.details().get(i));
                    }
                }
                String master = r.masterName();
                names.put(r, base.substring(0, base.length() - master.length() - 3) + " (" + master + ", "
                        + String.join(", ", differing) + ")");
            }
        });
        return names;
    }
}
