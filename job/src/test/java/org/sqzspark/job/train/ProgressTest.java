package org.sqzspark.job.train;

import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.sqzspark.data.PartitionPlan;
import org.sqzspark.job.TestConfigs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a progress line says, from counts and times given to it. */
class ProgressTest {

    /** 3,200 images in 200 minibatches over 2 replicas: 100 steps an epoch. */
    private static Progress.State state(long taken, double epochSeconds, double sinceCount, long imagesEarlier,
                                        double runSeconds, long imagesAfterEpoch) {
        return new Progress.State(2, 1, 2, 100, taken, 200, 3_200, epochSeconds, sinceCount, imagesEarlier,
                runSeconds, imagesAfterEpoch, "sweep");
    }

    @Test
    void lineShowsStepsRateAndTimeLeftOfTheEpochAndTheSweep() {
        // half the epoch in 10 s: 160 images/s; then 1,600 images of this epoch and 9,600 after it
        String line = Progress.line(state(100, 10, 0, 0, 10, 9_600));
        assertEquals("P=2 epoch 1/2: step 50/100 (50%), 160 images/s, epoch 10 s left, sweep ~1 min 10 s left",
                line);
    }

    @Test
    void timeLeftCountsDownBetweenTwoCounts() {
        String line = Progress.line(state(100, 10, 4, 0, 10, 0));
        assertTrue(line.contains("epoch 6 s left, sweep ~6 s left"), line);
    }

    @Test
    void sweepsTimeLeftIsAtTheRunsRateWithItsEvaluationsIncluded() {
        // an epoch trained earlier; 40 s of wall-clock for 4,800 images: 120 images/s, not the epoch's 160
        String line = Progress.line(state(100, 10, 0, 3_200, 40, 4_400));
        assertTrue(line.contains("160 images/s, epoch 10 s left, sweep ~50 s left"), line);
    }

    @Test
    void timeLeftPastWithNoNewCountIsAtTheRateUpToNow() {
        // half the epoch counted 10 s in, nothing since for 20 s: 1,600 images at 1,600 / 30 s
        String line = Progress.line(state(100, 10, 20, 0, 10, 0));
        assertTrue(line.contains("160 images/s, epoch 30 s left, sweep ~30 s left"), line);
    }

    @Test
    void lineBeforeAnyMinibatchIsCountedSaysSo() {
        String line = Progress.line(state(0, 10, 10, 0, 10, 0));
        assertEquals("P=2 epoch 1/2: step 0/100 (0%), images/s and time left once the first steps are counted", line);
    }

    @Test
    void aCountAboveTheEpochsMinibatchesStopsAtItsLastStep() {
        String line = Progress.line(state(205, 10, 0, 0, 10, 0));
        assertTrue(line.startsWith("P=2 epoch 1/2: step 100/100 (100%), 320 images/s, epoch 0 s left"), line);
    }

    @Test
    void durationsReadInSecondsMinutesOrHours() {
        assertEquals("42 s", Progress.duration(41.6));
        assertEquals("4 min 05 s", Progress.duration(245));
        assertEquals("2 h 14 min", Progress.duration(2 * 3600 + 14 * 60 + 59));
    }

    @Test
    void quietCountsNothingAndStartsNoThread() {
        TrainConfig config = TestConfigs.separable(java.nio.file.Path.of("data"), java.nio.file.Path.of("out"), 2,
                TrainingMasterKind.AVERAGING);
        List<Iterator<DataSet>> partitions = List.of(List.<DataSet>of().iterator());
        try (Progress.Run run = new Progress(List.of(config), 100, true).start(null, config, PartitionPlan.of(100, 2),
                16, 4)) {
            run.epochStart(1);
            assertSame(partitions, run.countedInDriver(partitions));
            assertTrue(Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.getName().startsWith(Progress.THREAD_NAME)));
            run.epochEnd();
        }
    }
}
