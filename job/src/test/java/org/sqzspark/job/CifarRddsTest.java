package org.sqzspark.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.sqzspark.data.ChannelStats;
import org.sqzspark.data.CifarImages;
import org.sqzspark.data.DataSetEncoder;

class CifarRddsTest {

    private static final int RECORDS = 23;
    private static final int BATCH = 4;

    private static JavaSparkContext sc;
    private static CifarImages images;
    private static ChannelStats stats;

    @BeforeAll
    static void start() {
        sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("CifarRddsTest")
                .set("spark.ui.enabled", "false"));
        Random random = new Random(7);
        byte[] labels = new byte[RECORDS];
        byte[] pixels = new byte[RECORDS * 3072];
        for (int i = 0; i < RECORDS; i++) {
            labels[i] = (byte) (i % 10);
        }
        random.nextBytes(pixels);
        images = CifarImages.of(labels, pixels);
        stats = ChannelStats.of(images);
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    private static List<List<DataSet>> minibatches(int parts, long seed) {
        return CifarRdds.minibatches(CifarRdds.partitioned(sc, images, parts), BATCH, stats, seed).glom().collect();
    }

    @Test
    void withoutASeedEachPartitionYieldsItsShareInOrderWithASmallerLastBatch() {
        List<List<DataSet>> parts = minibatches(2, -1);
        assertEquals(2, parts.size());
        int from = 0;
        for (List<DataSet> part : parts) {
            int records = part.stream().mapToInt(DataSet::numExamples).sum();
            List<DataSet> expected = DataSetEncoder.minibatches(images.slice(from, from + records), BATCH, stats);
            assertEquals(expected.size(), part.size());
            for (int b = 0; b < part.size(); b++) {
                assertEquals(expected.get(b).getFeatures(), part.get(b).getFeatures());
                assertEquals(expected.get(b).getLabels(), part.get(b).getLabels());
            }
            from += records;
        }
        assertEquals(RECORDS, from);
        assertEquals(List.of(4, 4, 3), parts.get(0).stream().map(DataSet::numExamples).toList());
    }

    @Test
    void aSeedReshufflesEachShareWithinItsPartitionAndTheSameSeedAgain() {
        List<List<DataSet>> plain = minibatches(2, -1);
        List<List<DataSet>> shuffled = minibatches(2, 5);
        List<List<DataSet>> again = minibatches(2, 5);
        for (int p = 0; p < 2; p++) {
            assertArrayEquals(sortedLabels(plain.get(p)), sortedLabels(shuffled.get(p)), "partition " + p);
            assertEquals(labelOrder(shuffled.get(p)), labelOrder(again.get(p)));
        }
        assertNotEquals(List.of(labelOrder(plain.get(0)), labelOrder(plain.get(1))),
                List.of(labelOrder(shuffled.get(0)), labelOrder(shuffled.get(1))));
    }

    @Test
    void gradientSharingKeepsNoSerializedCopyOfTheEpoch() throws ReflectiveOperationException {
        TrainConfig config = TestConfigs.separable(Path.of("data"), Path.of("out"), 2, TrainingMasterKind.SHARED);
        SharedTrainingMaster master = (SharedTrainingMaster) TrainingMasters.create(config,
                ReplicaLayout.of(TrainingMasterKind.SHARED, 2, 1), sc.getConf(), true);
        var field = SharedTrainingMaster.class.getDeclaredField("storageLevel");
        field.setAccessible(true);
        assertNull(field.get(master), "the epoch's minibatches are decoded as consumed, not persisted");
    }

    private static List<Integer> labelOrder(List<DataSet> batches) {
        List<Integer> order = new ArrayList<>();
        for (DataSet ds : batches) {
            for (int i = 0; i < ds.numExamples(); i++) {
                order.add(ds.getLabels().getRow(i).argMax().getInt(0));
            }
        }
        return order;
    }

    private static int[] sortedLabels(List<DataSet> batches) {
        int[] labels = labelOrder(batches).stream().mapToInt(Integer::intValue).toArray();
        Arrays.sort(labels);
        return labels;
    }
}
