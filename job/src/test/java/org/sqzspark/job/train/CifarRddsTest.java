package org.sqzspark.job.train;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.spark.Partition;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.ThresholdAlgorithm;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;
import org.sqzspark.data.ChannelStats;
import org.sqzspark.data.CifarImages;
import org.sqzspark.data.DataSetEncoder;
import org.sqzspark.job.TestConfigs;
import org.sqzspark.job.upstream.KeepPartitions;
import org.sqzspark.job.upstream.ResidualClipping;
import org.sqzspark.job.upstream.SharedTrainingWithoutCount;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        return CifarRdds.minibatches(CifarRdds.partitioned(sc, images, parts).rdd(), BATCH, stats, seed).glom().collect();
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
    void tasksCarryNoRecordsTheSharesAreBroadcastAndClosingFreesThem() throws IOException {
        CifarRdds.Shares shares = CifarRdds.partitioned(sc, images, 2);
        JavaRDD<DataSet> batches = CifarRdds.minibatches(shares.rdd(), BATCH, stats, 3);
        // what a task carries besides the stage's closure: its partition; 23 records are 70 KB
        for (Partition p : batches.rdd().partitions()) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(p);
            }
            assertTrue(bytes.size() < 2048, "partition " + p.index() + ": " + bytes.size() + " bytes");
        }
        assertEquals(RECORDS, batches.map(DataSet::numExamples).reduce(Integer::sum));
        assertEquals(2, shares.broadcasts().size());

        shares.close();
        SparkException e = assertThrows(SparkException.class, batches::count);
        assertTrue(String.valueOf(e.getMessage()).contains("destroyed"), e.getMessage());
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
        assertNull(field(master, "storageLevel"), "the epoch's minibatches are decoded as consumed, not persisted");
    }

    @Test
    void theSharedMasterTrainsWithoutCountingTheEpochFirst() {
        TrainConfig config = TestConfigs.separable(Path.of("unused"), Path.of("unused"), 2, TrainingMasterKind.SHARED);
        SharedTrainingWithoutCount master = (SharedTrainingWithoutCount) TrainingMasters.create(config,
                ReplicaLayout.of(TrainingMasterKind.SHARED, 2, 1), sc.getConf(), true);
        // any pass over this RDD fails: counting it would
        JavaRDD<Integer> unreadable = sc.parallelize(List.of(1, 2, 3), 2).map(x -> {
            throw new IllegalStateException("the RDD was read");
        });
        assertEquals(0, master.getTotalDataSetObjectCount(unreadable));
        assertThrows(SparkException.class, unreadable::count, "the RDD cannot be counted");
    }

    @Test
    void theSharedMasterHasTheSettingsDl4jsBuilderGives() throws IllegalAccessException {
        TrainConfig config = TestConfigs.separable(Path.of("unused"), Path.of("unused"), 4, TrainingMasterKind.SHARED);
        SharedTrainingMaster ours = (SharedTrainingMaster) TrainingMasters.create(config,
                ReplicaLayout.of(TrainingMasterKind.SHARED, 4, 2), sc.getConf(), true);
        SharedTrainingMaster built = new SharedTrainingMaster.Builder((VoidConfiguration) field(ours, "voidConfiguration"),
                4, (ThresholdAlgorithm) field(ours, "thresholdAlgorithm"), config.batchPerReplica())
                .batchSizePerWorker(config.batchPerReplica())
                .workersPerNode(2)
                .repartitionData(Repartition.Never)
                .repartitioner(new KeepPartitions())
                .rddTrainingApproach(RDDTrainingApproach.Direct)
                .storageLevel(null)
                .workerPrefetchNumBatches(2)
                .residualPostProcessor(new ResidualClipping(5.0, 5))
                .build();
        for (var field : SharedTrainingMaster.class.getDeclaredFields()) {
            if (Modifier.isStatic(field.getModifiers()) || field.getName().equals("instanceId")
                    || field.getName().equals("rng")) {
                continue;
            }
            field.setAccessible(true);
            assertEquals(describe(field.get(built), 2), describe(field.get(ours), 2), field.getName());
        }
    }

    /** A JDK value as itself, else its class and, down to {@code depth} levels, its fields' values. */
    private static String describe(Object value, int depth) throws IllegalAccessException {
        if (value == null || value instanceof Enum<?> || value.getClass().getName().startsWith("java.")) {
            return String.valueOf(value);
        }
        StringBuilder out = new StringBuilder(value.getClass().getName());
        if (depth == 0) {
            return out.toString();
        }
        for (Class<?> c = value.getClass(); c != Object.class; c = c.getSuperclass()) {
            for (var field : c.getDeclaredFields()) {
                if (!Modifier.isStatic(field.getModifiers())) {
                    field.setAccessible(true);
                    out.append(' ').append(field.getName()).append('=').append(describe(field.get(value), depth - 1));
                }
            }
        }
        return out.toString();
    }

    private static Object field(Object master, String name) throws IllegalAccessException {
        try {
            var field = SharedTrainingMaster.class.getDeclaredField(name);
            field.setAccessible(true);
            return field.get(master);
        } catch (NoSuchFieldException e) {
            throw new AssertionError(e);
        }
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
