package org.sqzspark.job.upstream;

import org.apache.spark.api.java.JavaRDD;
import org.deeplearning4j.spark.api.Repartitioner;

/**
 * Leaves the training RDD as it is. Its P partitions are the P replicas' shares; DL4J's default
 * repartitioner would rebalance them into more, smaller partitions.
 *
 * <p>Works around DL4J 1.0.0-M2's {@code SharedTrainingMaster}, which hands the training RDD to its
 * {@code Repartitioner} even with {@code Repartition.Never} set. It can go when the stock master
 * leaves the RDD alone under {@code Repartition.Never}: {@code TrainIT}'s replicas then still see
 * one partition each, and this class is no longer passed to the builder.
 */
public final class KeepPartitions implements Repartitioner {

    private static final long serialVersionUID = 1L;

    @Override
    public <T> JavaRDD<T> repartition(JavaRDD<T> input, int minObjectsPerPartition, int numExecutors) {
        return input;
    }
}
