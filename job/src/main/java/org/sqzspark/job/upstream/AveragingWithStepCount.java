package org.sqzspark.job.upstream;

import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.WorkerConfiguration;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;
import org.sqzspark.model.ShardedGraph;

/**
 * DL4J's parameter averaging, with each round's replicas starting at the step count the driver's
 * network has reached.
 *
 * <p>Works around DL4J 1.0.0-M2: its worker builds the replica's network from
 * {@code ComputationGraphConfiguration.clone()}, which does not copy the iteration and epoch
 * counts, so every round's replicas counted their steps from 0. A learning-rate schedule (the
 * warm-up) then never got past its first {@code averagingFrequency} steps, and Adam's bias
 * correction restarted every round. It can go when a DL4J release copies the counts in
 * {@code clone()} (or in {@code ParameterAveragingTrainingWorker.getInitialModelGraph}):
 * {@code TurnsMatchTrainingMastersIT} then passes with the stock master.
 */
public final class AveragingWithStepCount extends ParameterAveragingTrainingMaster {

    private static final long serialVersionUID = 1L;

    public AveragingWithStepCount(ParameterAveragingTrainingMaster.Builder builder) {
        super(builder);
    }

    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkComputationGraph graph) {
        ComputationGraph net = graph.getNetwork();
        NetBroadcastTuple tuple = new NetBroadcastTuple(net.getConfiguration(), net.params(),
                net.getUpdater().getStateViewArray());
        Broadcast<NetBroadcastTuple> broadcast = graph.getSparkContext().broadcast(tuple);
        WorkerConfiguration configuration = new WorkerConfiguration(true, rddDataSetNumExamples, batchSizePerWorker,
                averagingFrequency, prefetchNumBatches, collectTrainingStats);
        return new Worker(broadcast, saveUpdater, configuration, this, net.getIterationCount(), net.getEpochCount());
    }

    /** DL4J's worker, its network set to the driver's step and epoch counts. */
    private static final class Worker extends ParameterAveragingTrainingWorker {
        private static final long serialVersionUID = 1L;
        private final int iterationCount;
        private final int epochCount;

        Worker(Broadcast<NetBroadcastTuple> broadcast, boolean saveUpdater, WorkerConfiguration configuration,
               AveragingWithStepCount master, int iterationCount, int epochCount) {
            super(broadcast, saveUpdater, configuration, master.getTrainingHookList(), master.listeners,
                    master.getRouterProvider());
            this.iterationCount = iterationCount;
            this.epochCount = epochCount;
        }

        @Override
        public ComputationGraph getInitialModelGraph() {
            ComputationGraph net = ShardedGraph.of(super.getInitialModelGraph());
            net.getConfiguration().setIterationCount(iterationCount);
            net.getConfiguration().setEpochCount(epochCount);
            return net;
        }
    }
}
