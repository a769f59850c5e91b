package org.sqzspark.job.upstream;

import org.apache.spark.api.java.JavaRDD;
import org.deeplearning4j.spark.api.Repartitioner;

/**
 * Leaves the training RDD as it is. Its P partitions are the P replicas' shares; DL4J's default
 * repartitioner would rebalance them into more, smaller partitions.
 */
public final class KeepPartitions implements Repartitioner {

    private static final long serialVersionUID = 1L;

    @Override
    public <T> JavaRDD<T> repartition(JavaRDD<T> input, int minObjectsPerPartition, int numExecutors) {
        return input;
    }
}
