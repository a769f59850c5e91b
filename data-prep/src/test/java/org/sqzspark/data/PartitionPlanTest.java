package org.sqzspark.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PartitionPlanTest {

    @Test
    void splitsIntoContiguousRangesThatDifferByAtMostOne() {
        int[][] cases = {{10, 3}, {7, 7}, {40, 1}, {50_000, 48}, {5_000, 12}, {101, 4}};
        for (int[] c : cases) {
            PartitionPlan plan = PartitionPlan.of(c[0], c[1]);
            int min = Integer.MAX_VALUE;
            int max = 0;
            int next = 0;
            for (int p = 0; p < plan.parts(); p++) {
                assertEquals(next, plan.start(p), "partitions must be contiguous: " + plan);
                assertEquals(plan.end(p) - plan.start(p), plan.size(p));
                min = Math.min(min, plan.size(p));
                max = Math.max(max, plan.size(p));
                next = plan.end(p);
            }
            assertEquals(c[0], next, "partitions must cover every item once: " + plan);
            assertTrue(max - min <= 1, "sizes " + min + ".." + max + " in " + plan);
            assertEquals(c[0], plan.items());
            assertEquals(c[1], plan.parts());
        }
    }

    @Test
    void usesSparkParallelCollectionBoundaries() {
        PartitionPlan plan = PartitionPlan.of(10, 4);

        // Spark: start(i) = i * length / numSlices with long arithmetic
        assertEquals(0, plan.start(0));
        assertEquals(2, plan.start(1));
        assertEquals(5, plan.start(2));
        assertEquals(7, plan.start(3));
        assertEquals(10, plan.end(3));
    }

    @Test
    void avoidsOverflowForLargeCounts() {
        PartitionPlan plan = PartitionPlan.of(Integer.MAX_VALUE, 3);

        assertEquals(Integer.MAX_VALUE, plan.end(2));
        assertEquals((int) (2L * Integer.MAX_VALUE / 3), plan.start(2));
    }

    @Test
    void rejectsFewerThanOnePartition() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PartitionPlan.of(40, 0));

        assertTrue(e.getMessage().contains("partitions (P=0) must be at least 1"), e.getMessage());
    }

    @Test
    void rejectsMorePartitionsThanRecords() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PartitionPlan.of(40, 48));

        assertEquals("partitions (P=48) exceeds the 40 training records; lower --partitions or raise --train-limit",
                e.getMessage());
    }

    @Test
    void rejectsPartitionIndexOutsidePlan() {
        PartitionPlan plan = PartitionPlan.of(10, 2);

        assertThrows(IndexOutOfBoundsException.class, () -> plan.start(2));
        assertThrows(IndexOutOfBoundsException.class, () -> plan.end(-1));
    }
}
