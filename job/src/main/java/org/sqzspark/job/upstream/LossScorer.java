package org.sqzspark.job.upstream;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sqzspark.job.train.Divergence;
import scala.Tuple2;

/**
 * Mean cross-entropy of a network over an RDD of minibatches, computed on the executors (dropout off).
 *
 * <p>DL4J's {@code SparkComputationGraph.calculateScore} broadcasts the driver's live parameter
 * array; in local mode the executors then share that very array, and the next gradient-sharing
 * fit fails. This scorer broadcasts a serialized copy instead, as DL4J's own evaluation does.
 *
 * <p>It can go when {@code SparkComputationGraph.calculateScore} broadcasts a copy of the
 * parameters (as DL4J's evaluation does): {@code TrainIT}'s gradient-sharing runs, which score
 * the loss between fits, then pass with it.
 */
public final class LossScorer {

    private LossScorer() {
    }

    /** Smallest probability taken into the logarithm, as DL4J's softmax cross-entropy clips it. */
    private static final double MIN_PROBABILITY = 1e-10;

    /**
     * Mean per-example cross-entropy of {@code net} over {@code data}: the loss alone, without the
     * L2 penalty that DL4J's {@code score} adds (with weight decay 5e-4 that was about 1.4 of the 3.8
     * reported after the first epoch).
     */
    public static double meanLoss(JavaSparkContext sc, ComputationGraph net, JavaRDD<DataSet> data) {
        Broadcast<String> conf = sc.broadcast(net.getConfiguration().toJson());
        Broadcast<byte[]> params;
        try {
            params = sc.broadcast(Nd4j.toByteArray(net.params()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialize the network's parameters", e);
        }
        try {
            Tuple2<Double, Long> total = data.mapPartitions(batches -> {
                List<Tuple2<Double, Long>> out = new ArrayList<>(1);
                if (!batches.hasNext()) {
                    return out.iterator();
                }
                ComputationGraph copy = new ComputationGraph(ComputationGraphConfiguration.fromJson(conf.value()));
                copy.init(Nd4j.fromByteArray(params.value()), false);
                double sum = 0;
                long n = 0;
                while (batches.hasNext()) {
                    DataSet batch = batches.next();
                    sum += crossEntropySum(copy.outputSingle(false, batch.getFeatures()), batch.getLabels());
                    n += batch.numExamples();
                }
                out.add(new Tuple2<>(sum, n));
                return out.iterator();
            }).fold(new Tuple2<>(0.0, 0L), (a, b) -> new Tuple2<>(a._1() + b._1(), a._2() + b._2()));
            return total._2() == 0 ? Double.NaN : total._1() / total._2();
        } finally {
            conf.unpersist(false);
            params.unpersist(false);
        }
    }

    /**
     * Summed cross-entropy of softmax outputs against one-hot labels; NaN when any output is NaN or
     * infinite, which the clipping would otherwise hide (see {@link Divergence}).
     */
    static double crossEntropySum(INDArray probabilities, INDArray labels) {
        if (!Double.isFinite(probabilities.sumNumber().doubleValue())) {
            return Double.NaN;
        }
        INDArray clipped = Transforms.max(probabilities, MIN_PROBABILITY, true);
        return -Transforms.log(clipped, false).muli(labels).sumNumber().doubleValue();
    }
}
