package org.sqzspark.job.report;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report's arithmetic, exactly as its definitions state, on runs with known numbers. */
class ScalingAnalysisTest {

    private static RunRecord record(ObjectNode run) {
        return RunRecord.of("run-" + run.get("runId").asText() + ".json", run);
    }

    private static ObjectNode plain(int p, double... accuracy) {
        return ReportFixture.run("2026-01-01T10:00:0" + p % 10 + "Z", p, "shared", accuracy, true);
    }

    private static ObjectNode remedied(int p, double... accuracy) {
        ObjectNode run = ReportFixture.run("2026-01-01T11:00:0" + p % 10 + "Z", p, "shared", accuracy, true);
        return ReportFixture.remedy(run, "LINEAR", 2, 0, ReportFixture.LEARNING_RATE * p);
    }

    /** Both recipes of the fixture. */
    private static List<RunRecord> fixture() {
        return ReportFixture.runs().stream().map(ScalingAnalysisTest::record).toList();
    }

    private static ScalingAnalysis.RecipeResult recipe(ScalingAnalysis a, String name) {
        return a.recipes().stream().filter(r -> r.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " not among " + a.recipes().stream()
                        .map(ScalingAnalysis.RecipeResult::name).toList()));
    }

    private static ScalingAnalysis.Row row(ScalingAnalysis.RecipeResult r, int p) {
        return r.rows().stream().filter(x -> x.partitions() == p).findFirst().orElseThrow();
    }

    @Test
    void groupsRunsIntoRecipesNamedByTheirRemedies() {
        ScalingAnalysis a = ScalingAnalysis.of(fixture(), 0.5);
        assertEquals(List.of("plain (shared)", "lr linear + warmup 2 (shared)"),
                a.recipes().stream().map(ScalingAnalysis.RecipeResult::name).toList());
        assertEquals(List.of(1, 2, 4, 8), recipe(a, "plain (shared)").rows().stream()
                .map(ScalingAnalysis.Row::partitions).toList());
    }

    @Test
    void timeIsTrainingSecondsAndSpeedupAndEfficiencyFollowExactly() {
        ScalingAnalysis.RecipeResult plain = recipe(ScalingAnalysis.of(fixture(), 0.5), "plain (shared)");
        double[] times = {400, 250, 160, 125};
        for (int i = 0; i < times.length; i++) {
            int p = ReportFixture.PARTITIONS.get(i);
            ScalingAnalysis.Row row = row(plain, p);
            assertEquals(times[i], row.time(), 0.0, "time(" + p + ")");
            assertEquals(400.0 / times[i], row.speedup().getAsDouble(), 0.0, "speedup(" + p + ")");
            assertEquals(400.0 / times[i] / p, row.efficiency().getAsDouble(), 0.0, "efficiency(" + p + ")");
        }
        assertEquals(1.6, row(plain, 2).speedup().getAsDouble(), 0.0);
        assertEquals(0.8, row(plain, 2).efficiency().getAsDouble(), 0.0);
        assertEquals(2.5, row(plain, 4).speedup().getAsDouble(), 0.0);
        assertEquals(0.625, row(plain, 4).efficiency().getAsDouble(), 0.0);
        assertEquals(3.2, row(plain, 8).speedup().getAsDouble(), 0.0);
        assertEquals(0.4, row(plain, 8).efficiency().getAsDouble(), 0.0);
        assertEquals(1.0, row(plain, 1).speedup().getAsDouble(), 0.0);

        ScalingAnalysis.RecipeResult remedied = recipe(ScalingAnalysis.of(fixture(), 0.5),
                "lr linear + warmup 2 (shared)");
        assertTrue(remedied.ownReference());
        assertEquals(4.0, row(remedied, 8).speedup().getAsDouble(), 0.0);
        assertEquals(0.5, row(remedied, 8).efficiency().getAsDouble(), 0.0);
    }

    @Test
    void timeToTargetSumsFitSecondsUpToTheFirstEpochAtTheTarget() {
        List<RunRecord.Epoch> epochs = List.of(new RunRecord.Epoch(1, 0.3, 10.5, 0),
                new RunRecord.Epoch(2, 0.5, 20.25, 0), new RunRecord.Epoch(3, 0.4, 30, 0),
                new RunRecord.Epoch(4, 0.6, 40, 0));
        assertEquals(30.75, ScalingAnalysis.timeToTarget(epochs, 0.5).getAsDouble(), 0.0);
        assertEquals(10.5, ScalingAnalysis.timeToTarget(epochs, 0.3).getAsDouble(), 0.0);
        assertEquals(100.75, ScalingAnalysis.timeToTarget(epochs, 0.55).getAsDouble(), 0.0);
        assertEquals(OptionalDouble.empty(), ScalingAnalysis.timeToTarget(epochs, 0.61));
        assertEquals(OptionalDouble.empty(), ScalingAnalysis.timeToTarget(List.of(), 0.1));

        ScalingAnalysis a = ScalingAnalysis.of(fixture(), 0.5);
        ScalingAnalysis.RecipeResult plain = recipe(a, "plain (shared)");
        assertEquals(300.0, row(plain, 1).timeToTarget().getAsDouble(), 0.0);
        assertEquals(250.0, row(plain, 2).timeToTarget().getAsDouble(), 0.0);
        assertTrue(row(plain, 4).timeToTarget().isEmpty());
        ScalingAnalysis.RecipeResult remedied = recipe(a, "lr linear + warmup 2 (shared)");
        assertEquals(150.0, row(remedied, 2).timeToTarget().getAsDouble(), 0.0);
        assertEquals(93.75, row(remedied, 4).timeToTarget().getAsDouble(), 0.0);
        assertEquals(100.0, row(remedied, 8).timeToTarget().getAsDouble(), 0.0);
    }

    @Test
    void throughputIsTrainingImagesTimesEpochsOverTrainingSeconds() {
        ScalingAnalysis.RecipeResult plain = recipe(ScalingAnalysis.of(fixture(), 0.5), "plain (shared)");
        assertEquals(50_000.0 * 4 / 400, row(plain, 1).throughput(), 0.0);
        assertEquals(1600.0, row(plain, 8).throughput(), 0.0);
    }

    @Test
    void scalingLimitIsTheLargestPWithinTwoPointsOfP1() {
        ScalingAnalysis a = ScalingAnalysis.of(fixture(), 0.5);
        // plain: 60% at P=1, 58% at P=2 (exactly 2 points lower: within), 45% at P=4
        assertEquals(OptionalInt.of(2), recipe(a, "plain (shared)").scalingLimit());
        assertEquals(0.58, recipe(a, "plain (shared)").accuracyThreshold(), 1e-12);
        // remedied: 61% at P=1, 59.5% at P=4, 55% at P=8
        assertEquals(OptionalInt.of(4), recipe(a, "lr linear + warmup 2 (shared)").scalingLimit());

        Map<Integer, Double> byP = new TreeMap<>(Map.of(1, 0.50, 2, 0.47, 4, 0.4799, 8, 0.481));
        assertEquals(OptionalInt.of(8), ScalingAnalysis.scalingLimit(0.50, byP), "the largest P, even past a dip");
        assertEquals(OptionalInt.of(1), ScalingAnalysis.scalingLimit(0.50, Map.of(1, 0.50, 2, 0.4799)));
        assertEquals(OptionalInt.empty(), ScalingAnalysis.scalingLimit(0.50, Map.of(2, 0.3)));
    }

    @Test
    void recipeWithoutItsOwnP1IsMeasuredAgainstThePlainP1() {
        List<RunRecord> runs = new ArrayList<>();
        runs.add(record(plain(1, 0.3, 0.4, 0.5, 0.6)));
        runs.add(record(plain(2, 0.3, 0.4, 0.5, 0.55)));
        runs.add(record(remedied(2, 0.3, 0.4, 0.5, 0.59)));
        runs.add(record(remedied(4, 0.3, 0.4, 0.5, 0.57)));
        ScalingAnalysis.RecipeResult r = recipe(ScalingAnalysis.of(runs, 0.5), "lr linear + warmup 2 (shared)");
        assertFalse(r.ownReference());
        assertEquals(1, r.reference().orElseThrow().partitions());
        assertEquals(400.0 / 250, row(r, 2).speedup().getAsDouble(), 0.0);
        assertEquals(400.0 / 160 / 4, row(r, 4).efficiency().getAsDouble(), 0.0);
        assertEquals(OptionalInt.of(2), r.scalingLimit(), "59% is within 2 points of plain P=1's 60%, 57% is not");
    }

    @Test
    void withoutAnyP1SpeedupAndScalingLimitAreBlank() {
        ScalingAnalysis.RecipeResult r = ScalingAnalysis.of(List.of(record(plain(2, 0.1, 0.2, 0.3, 0.4))), 0.5)
                .recipes().get(0);
        assertTrue(r.reference().isEmpty());
        assertTrue(row(r, 2).speedup().isEmpty());
        assertTrue(row(r, 2).efficiency().isEmpty());
        assertTrue(r.scalingLimit().isEmpty());
    }

    @Test
    void latestCompletedRunOfARecipeAndPIsUsedAndTheOthersSuperseded() {
        ObjectNode older = plain(2, 0.1, 0.2, 0.3, 0.4);
        ObjectNode newer = ReportFixture.run("2026-02-01T10:00:00Z", 2, "shared", new double[] {0.2, 0.3, 0.4, 0.5},
                true);
        ObjectNode newestIncomplete = ReportFixture.run("2026-03-01T10:00:00Z", 2, "shared", new double[] {0.35},
                false);
        ScalingAnalysis a = ScalingAnalysis.of(List.of(record(older), record(newestIncomplete), record(newer),
                record(plain(1, 0.3, 0.4, 0.5, 0.6))), 0.5);
        ScalingAnalysis.Row row = row(a.recipes().get(0), 2);
        assertEquals(newer.get("runId").asText(), row.run().runId());
        assertEquals(2, row.superseded().size());
        assertEquals(2, a.supersededRuns().size());
        assertEquals(0.5, row.finalAccuracy(), 0.0);
    }

    @Test
    void incompleteRunIsShownButLeftOutOfSpeedupAndScalingLimit() {
        List<RunRecord> runs = List.of(record(plain(1, 0.3, 0.4, 0.5, 0.6)),
                record(ReportFixture.run("2026-01-02T00:00:00Z", 2, "shared", new double[] {0.59, 0.6}, false)));
        ScalingAnalysis.RecipeResult r = ScalingAnalysis.of(runs, 0.5).recipes().get(0);
        ScalingAnalysis.Row incomplete = row(r, 2);
        assertFalse(incomplete.complete());
        assertTrue(incomplete.speedup().isEmpty());
        assertEquals(125.0, incomplete.time(), 0.0, "time so far");
        assertEquals(OptionalInt.of(1), r.scalingLimit());
        assertEquals(List.of(1), r.completeRows().stream().map(ScalingAnalysis.Row::partitions).toList());
    }

    @Test
    void resultsWithoutRemedyFieldsReadAsPlainAndUnknownFieldsAreIgnored() {
        ObjectNode old = plain(4, 0.1, 0.2, 0.3, 0.4);
        old.put("someFutureField", "x");
        ((ObjectNode) old.get("config")).putObject("anotherFutureSetting").put("a", 1);
        RunRecord r = record(old);
        assertTrue(r.recipe().isPlain());
        assertEquals("none", r.recipe().lrScaling());
        assertEquals(ReportFixture.LEARNING_RATE, r.peakLearningRate(), 0.0);

        RunRecord scaled = record(remedied(4, 0.1, 0.2, 0.3, 0.4));
        assertEquals("linear", scaled.recipe().lrScaling());
        assertEquals(2, scaled.recipe().warmupEpochs());
        assertEquals(4e-4, scaled.peakLearningRate(), 0.0);
    }

    @Test
    void fixedGlobalBatchRunsAreOneRecipeWhateverTheirPerReplicaBatch() {
        List<RunRecord> runs = new ArrayList<>();
        for (int p : List.of(1, 2, 8)) {
            ObjectNode run = ReportFixture.run("2026-01-01T12:00:0" + p + "Z", p, "averaging",
                    new double[] {0.1, 0.2, 0.3, 0.4}, true);
            ((ObjectNode) run.get("config")).put("batchPerReplica", 256 / p);
            runs.add(record(ReportFixture.remedy(run, "NONE", 0, 256, ReportFixture.LEARNING_RATE)));
        }
        ScalingAnalysis a = ScalingAnalysis.of(runs, 0.5);
        assertEquals(1, a.recipes().size());
        assertEquals("global batch 256 (averaging)", a.recipes().get(0).name());
        assertTrue(a.recipes().get(0).ownReference());
    }

    @Test
    void recipesSharingANameAreToldApartByWhatDiffers() {
        ObjectNode batch64 = plain(1, 0.1, 0.2, 0.3, 0.4);
        ((ObjectNode) batch64.get("config")).put("batchPerReplica", 64);
        batch64.put("runId", "b64");
        ObjectNode every4 = ReportFixture.run("2026-01-01T12:00:00Z", 2, "averaging", new double[] {0.1}, true);
        ((ObjectNode) every4.get("config")).put("averagingFrequency", 4);
        ScalingAnalysis a = ScalingAnalysis.of(List.of(record(plain(1, 0.1, 0.2, 0.3, 0.4)), record(batch64),
                record(every4)), 0.5);
        assertEquals(List.of("plain (averaging every 4)", "plain (shared, batch 32)", "plain (shared, batch 64)"),
                a.recipes().stream().map(ScalingAnalysis.RecipeResult::name).toList());
    }

    @Test
    void averagingFrequencyDoesNotSplitGradientSharingRuns() {
        ObjectNode a = plain(1, 0.1, 0.2, 0.3, 0.4);
        ObjectNode b = plain(2, 0.1, 0.2, 0.3, 0.4);
        ((ObjectNode) b.get("config")).put("averagingFrequency", 7);
        assertEquals(1, ScalingAnalysis.of(List.of(record(a), record(b)), 0.5).recipes().size());
    }
}
