package org.sqzspark.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import scala.Tuple2;

/**
 * Mean loss of a network over an RDD of minibatches, computed on the executors (dropout off).
 *
 * <p>DL4J's {@code SparkComputationGraph.calculateScore} broadcasts the driver's live parameter
 * array; in local mode the executors then share that very array, and the next gradient-sharing
 * fit fails. This scorer broadcasts a serialized copy instead, as DL4J's own evaluation does.
 */
final class LossScorer {

    private LossScorer() {
    }

    /** Mean per-example loss of {@code net} over {@code data}. */
    static double meanLoss(JavaSparkContext sc, ComputationGraph net, JavaRDD<DataSet> data) {
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
                    int size = batch.numExamples();
                    sum += copy.score(batch, false) * size;
                    n += size;
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
}
