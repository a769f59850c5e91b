package org.sqzspark.job.train.turns;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.deeplearning4j.exception.DL4JInvalidConfigException;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.StepFunction;
import org.deeplearning4j.optimize.solvers.accumulation.EncodingHandler;
import org.deeplearning4j.optimize.solvers.accumulation.GradientsAccumulator;
import org.deeplearning4j.optimize.solvers.accumulation.IndexedTail;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.ResidualPostProcessor;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.ThresholdAlgorithm;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.compression.ThresholdCompression;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What DL4J's {@code SharedTrainingMaster} computes, in turns and strictly synchronously. Each
 * replica keeps its own updater state, residual and threshold algorithm (DL4J's
 * {@link EncodingHandler}, one per replica, with the master's threshold algorithm and residual
 * post-processor). In its turn a replica computes its update with the network's own update rule
 * from the shared parameters, adds it to its residual and threshold-encodes that, as DL4J's
 * {@code EncodedGradientsAccumulator} does; at the end of the round every replica's encoded update
 * is applied to the shared parameters, as each replica on a cluster applies its own and the
 * others'.
 *
 * <p>On a cluster, updates reach the other replicas over the network while they train, so some are
 * applied a step late; here none is. With each replica's learning rate divided by P, the encoded
 * updates plus the residuals left behind sum to the mean of the replicas' updates: synchronous SGD
 * (momentum is linear, so momentum SGD stays exact), up to what the encoding holds back.
 */
public final class SharingInTurns implements ReplicasInTurns {

    private final ComputationGraph net;
    private final List<Replica> replicas = new ArrayList<>();
    private final INDArray roundUpdate;
    private final Turn turn = new Turn();

    /**
     * @param net           the shared network, whose update rule (with the replica's learning rate) every replica
     *                      uses; trained in place
     * @param replicas      P
     * @param threshold     the training master's threshold algorithm; each replica adapts a copy
     * @param postProcessor the training master's residual post-processor (null: none); each replica uses a copy
     */
    public SharingInTurns(ComputationGraph net, int replicas, ThresholdAlgorithm threshold,
                          ResidualPostProcessor postProcessor) {
        if (replicas < 1) {
            throw new IllegalArgumentException("replicas must be positive, was " + replicas);
        }
        this.net = net;
        INDArray params = net.params();
        INDArray state = UpdaterState.of(net);
        for (int i = 0; i < replicas; i++) {
            EncodingHandler encoder = new EncodingHandler(threshold.clone(),
                    postProcessor == null ? null : postProcessor.clone(), null, false);
            this.replicas.add(new Replica(state == null || replicas == 1 ? null : state.dup(),
                    Nd4j.zeros(params.dataType(), params.shape()), encoder));
        }
        this.roundUpdate = Nd4j.zeros(params.dataType(), params.shape());
        net.setGradientsAccumulator(turn);
    }

    @Override
    public int replicas() {
        return replicas.size();
    }

    @Override
    public int fitEpoch(List<Iterator<DataSet>> partitions, int stepsBefore) {
        if (partitions.size() != replicas.size()) {
            throw new IllegalArgumentException(partitions.size() + " partitions for " + replicas.size() + " replicas");
        }
        INDArray params = net.params();
        INDArray state = UpdaterState.of(net);
        int rounds = 0;
        while (true) {
            boolean trained = false;
            for (int i = 0; i < replicas.size(); i++) {
                Iterator<DataSet> data = partitions.get(i);
                if (!data.hasNext()) {
                    continue;
                }
                Replica replica = replicas.get(i);
                if (replica.state != null) {
                    state.assign(replica.state);
                }
                net.getConfiguration().setIterationCount(stepsBefore + rounds);
                turn.replica = replica;
                net.fit(data.next());
                if (replica.state != null) {
                    replica.state.assign(state);
                }
                trained = true;
            }
            if (!trained) {
                break;
            }
            params.subi(roundUpdate);
            Nd4j.getMemoryManager().memset(roundUpdate);
            rounds++;
        }
        turn.replica = null;
        net.getConfiguration().setIterationCount(stepsBefore + rounds);
        if (state != null && replicas.size() > 1) {
            // what the driver keeps (checkpoints, the saved model): the replicas' mean state
            state.assign(0);
            replicas.forEach(r -> state.addi(r.state));
            state.divi(replicas.size());
        }
        return rounds;
    }

    /** What replica {@code i} has not yet shared: its updates less what its encoded messages carried. */
    public INDArray residual(int i) {
        return replicas.get(i).residual;
    }

    /** One replica: its updater state (null when it is the network's own), residual and encoder. */
    private record Replica(INDArray state, INDArray residual, EncodingHandler encoder) {
    }

    /**
     * The accumulator DL4J's optimizer hands each step's update to: the update goes into the replica's
     * residual, which is encoded (and reduced by what the message carries, in place, as in DL4J); the
     * message is decoded into the round's update. Nothing is applied during the round.
     */
    private final class Turn implements GradientsAccumulator {
        private static final long serialVersionUID = 1L;
        private transient Replica replica;

        @Override
        public void storeUpdate(INDArray update, int iteration, int epoch) {
            replica.residual.addi(update);
            INDArray message = replica.encoder.encodeUpdates(iteration, epoch, replica.residual);
            if (message == null) {
                return;
            }
            int encoding = message.data().getInt(3);
            if (encoding == ThresholdCompression.FLEXIBLE_ENCODING) {
                Nd4j.getExecutioner().thresholdDecode(message, roundUpdate);
            } else if (encoding == ThresholdCompression.BITMAP_ENCODING) {
                Nd4j.getExecutioner().bitmapDecode(message, roundUpdate);
            } else {
                throw new DL4JInvalidConfigException("unknown update encoding " + encoding);
            }
        }

        @Override
        public void applyUpdate(StepFunction function, INDArray params, INDArray updates, boolean isFinalStep) {
            // the round's updates are applied when every replica has taken its turn
        }

        @Override
        public void applyUpdate(StepFunction function, INDArray params, INDArray updates, double alpha) {
            // as above
        }

        @Override
        public boolean hasAnything() {
            return false;
        }

        @Override
        public void receiveUpdate(INDArray array) {
            throw new UnsupportedOperationException("replicas in turns exchange no messages");
        }

        @Override
        public void setExternalSource(IndexedTail source) {
            throw new UnsupportedOperationException("replicas in turns have no external source");
        }

        @Override
        public IndexedTail getExternalSource() {
            return null;
        }

        @Override
        public void markExternalUpdates(boolean updatesAvailable) {
            // no external updates
        }

        @Override
        public void reset() {
            // nothing is pending between steps
        }

        @Override
        public void touch() {
            // no per-thread state to create
        }
    }
}
