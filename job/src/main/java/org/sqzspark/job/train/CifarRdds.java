package org.sqzspark.job.train;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.dataset.DataSet;
import org.sqzspark.data.ChannelStats;
import org.sqzspark.data.CifarImages;
import org.sqzspark.data.DataSetEncoder;
import org.sqzspark.data.PartitionPlan;

/**
 * The Spark side of the data: records kept compact (one byte per pixel) in exactly P partitions,
 * decoded into normalized minibatches on the executors.
 */
public final class CifarRdds {

    private CifarRdds() {
    }

    /**
     * The records split into exactly {@code parts} contiguous, near-equal shares, one
     * {@link CifarImages} element per partition. Each share goes to the executors as a broadcast,
     * once per executor that trains on it (again to a replacement executor): a partition of
     * {@code sc.parallelize} carries its records inside every task, cached or not, so each epoch's
     * and each evaluation's tasks shipped them all again (25 MB per task for 8,192 images). Close
     * the result when the run ends, to free the broadcasts.
     */
    static Shares partitioned(JavaSparkContext sc, CifarImages images, int parts) {
        PartitionPlan plan = PartitionPlan.of(images.size(), parts);
        List<Broadcast<CifarImages>> shares = new ArrayList<>(parts);
        List<Integer> indices = new ArrayList<>(parts);
        for (int p = 0; p < parts; p++) {
            shares.add(sc.broadcast(images.slice(plan.start(p), plan.end(p))));
            indices.add(p);
        }
        // a list of exactly `parts` elements in `parts` slices: one share per partition
        return new Shares(sc.parallelize(indices, parts).map(p -> shares.get(p).value()), shares);
    }

    /** The partitioned records, and the broadcasts they are read from. */
    record Shares(JavaRDD<CifarImages> rdd, List<Broadcast<CifarImages>> broadcasts) implements AutoCloseable {
        /** Frees the broadcasts on the driver and the executors; {@link #rdd()} cannot be computed after. */
        @Override
        public void close() {
            broadcasts.forEach(Broadcast::destroy);
        }
    }

    /**
     * Normalized minibatches of each partition's records. With a non-negative seed each partition
     * is reshuffled first (seed, partition index), so every epoch sees new minibatches while each
     * replica keeps its own share of the data.
     */
    static JavaRDD<DataSet> minibatches(JavaRDD<CifarImages> partitions, int batch, ChannelStats stats,
                                        long shuffleSeed) {
        return partitions.mapPartitionsWithIndex((index, shares) -> decode(shares, index, batch, stats, shuffleSeed),
                true);
    }

    /**
     * One synchronous round of parameter averaging: the {@code round}-th group of
     * {@code perReplica} consecutive minibatches of every partition. {@code minibatches} should be
     * cached, so a round only skips over the minibatches of earlier rounds.
     */
    static JavaRDD<DataSet> round(JavaRDD<DataSet> minibatches, int round, int perReplica) {
        long skip = (long) round * perReplica;
        return minibatches.mapPartitions(batches -> {
            List<DataSet> out = new ArrayList<>(perReplica);
            for (long i = 0; i < skip && batches.hasNext(); i++) {
                batches.next();
            }
            while (out.size() < perReplica && batches.hasNext()) {
                out.add(batches.next());
            }
            return out.iterator();
        }, true);
    }

    /**
     * The minibatches of each of {@code parts} partitions of {@code images}, in the driver: the same
     * shares as {@link #partitioned} and the same minibatches, in the same order, as
     * {@link #minibatches} decodes from them.
     */
    static List<Iterator<DataSet>> partitionsInDriver(CifarImages images, int parts, int batch, ChannelStats stats,
                                                      long shuffleSeed) {
        PartitionPlan plan = PartitionPlan.of(images.size(), parts);
        List<Iterator<DataSet>> out = new ArrayList<>(parts);
        for (int p = 0; p < parts; p++) {
            out.add(decode(List.of(images.slice(plan.start(p), plan.end(p))).iterator(), p, batch, stats, shuffleSeed));
        }
        return out;
    }

    /**
     * The partition's minibatches, each encoded only when the consumer asks for it: a partition
     * never holds more than one decoded minibatch at a time, however large its share.
     */
    public static Iterator<DataSet> decode(Iterator<CifarImages> shares, int index, int batch, ChannelStats stats,
                                    long shuffleSeed) {
        return new Iterator<>() {
            private CifarImages share;
            private int from;

            @Override
            public boolean hasNext() {
                while (share == null || from >= share.size()) {
                    if (!shares.hasNext()) {
                        return false;
                    }
                    CifarImages next = shares.next();
                    share = shuffleSeed >= 0 ? next.shuffled(shuffleSeed * 1_000_003L + index) : next;
                    from = 0;
                }
                return true;
            }

            @Override
            public DataSet next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int to = Math.min(share.size(), from + batch);
                DataSet out = DataSetEncoder.encode(share, from, to, stats);
                from = to;
                return out;
            }
        };
    }
}
