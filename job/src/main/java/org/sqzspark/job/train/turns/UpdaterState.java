package org.sqzspark.job.train.turns;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The network's updater state as one flat view (momentum, Adam's moments), or null for plain SGD. */
final class UpdaterState {

    private UpdaterState() {
    }

    /** The live view: writing it changes the state the next step uses. */
    static INDArray of(ComputationGraph net) {
        ComputationGraphUpdater updater = net.getUpdater();
        INDArray view = updater.getStateViewArray();
        return view == null || view.isEmpty() ? null : view;
    }
}
