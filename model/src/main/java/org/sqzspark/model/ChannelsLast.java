package org.sqzspark.model;

import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Turns NCHW images (the layout of the data and of the graph's input) into the NHWC layout the
 * network computes in, and its gradient back.
 */
public final class ChannelsLast implements InputPreProcessor {

    private static final long serialVersionUID = 1L;

    @Override
    public INDArray preProcess(INDArray input, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
        if (input.rank() != 4) {
            throw new IllegalArgumentException("expected NCHW images of rank 4, got rank " + input.rank());
        }
        return GemmConvolutionLayer.copy(input.permute(0, 2, 3, 1), workspaceMgr, ArrayType.ACTIVATIONS);
    }

    @Override
    public INDArray backprop(INDArray output, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
        return GemmConvolutionLayer.copy(output.permute(0, 3, 1, 2), workspaceMgr, ArrayType.ACTIVATION_GRAD);
    }

    @Override
    public ChannelsLast clone() {
        return new ChannelsLast();
    }

    @Override
    public InputType getOutputType(InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeConvolutional conv)) {
            throw new IllegalStateException("ChannelsLast takes convolutional input, got " + inputType);
        }
        return InputType.convolutional(conv.getHeight(), conv.getWidth(), conv.getChannels(), CNN2DFormat.NHWC);
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArray(INDArray maskArray, MaskState currentMaskState,
                                                          int minibatchSize) {
        return new Pair<>(maskArray, currentMaskState);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChannelsLast;
    }

    @Override
    public int hashCode() {
        return ChannelsLast.class.hashCode();
    }
}
