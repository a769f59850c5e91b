package org.sqzspark.job;

import org.apache.spark.api.java.JavaRDDLike;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.ThresholdAlgorithm;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RepartitionStrategy;
import org.deeplearning4j.spark.api.Repartitioner;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;

/**
 * DL4J's gradient-sharing master, minus the {@code count()} it runs on the training RDD before every
 * fit, and with its residual clipped by {@link ResidualClipping}. The count only feeds training
 * statistics that this master never reports (its {@code getTrainingStats()} returns null), and
 * costs a whole extra pass over the epoch's data: every minibatch was decoded from its records
 * once to be counted and once more to be trained on.
 */
final class SharedTrainingWithoutCount extends SharedTrainingMaster {

    /**
     * What {@link SharedTrainingMaster.Builder} builds from the same settings: training straight
     * from the RDD's partitions as they are (no repartitioning, nothing persisted), minibatches of
     * {@code batchPerWorker} examples each, and the builder's defaults for the rest (residual
     * clipping at 5x the threshold every 5 steps, here by {@link ResidualClipping}; periodic GC
     * every 5 s).
     */
    SharedTrainingWithoutCount(VoidConfiguration voidConf, int numWorkers, ThresholdAlgorithm threshold,
                               int batchPerWorker, int workersPerNode, int prefetch, Repartitioner repartitioner) {
        super(voidConf, numWorkers, RDDTrainingApproach.Direct, null, false, RepartitionStrategy.Balanced,
                Repartition.Never, threshold, new ResidualClipping(5.0, 5), batchPerWorker,
                batchPerWorker, 0L, workersPerNode, prefetch, repartitioner, true, 5000, false);
    }

    @Override
    protected <T, R extends JavaRDDLike<T, R>> long getTotalDataSetObjectCount(JavaRDDLike<T, R> trainingData) {
        return 0;
    }
}
