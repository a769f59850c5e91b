package org.sqzspark.model;

import java.util.Collection;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A 2D convolution over channels-last (NHWC) activations computed as matrix products: a 1x1
 * convolution is one product of the {@code [N*H*W, C]} activations with the weights, a k x k one
 * the same product over a patch matrix built from k*k shifted views. Parameters, their shapes
 * ({@code [out, in, kH, kW]}), initialisation and outputs are those of DL4J's
 * {@link ConvolutionLayer} in NHWC; only the computation differs (see {@link GemmConvolutionLayer}).
 *
 * <p>Padding is explicit and symmetric ({@link ConvolutionMode#Truncate}); dilation is 1.
 */
public class GemmConvolution extends ConvolutionLayer {

    /** Whether backpropagation computes dL/dx; false for a first layer, whose input is the data. */
    private boolean inputGradient = true;

    /** For JSON deserialisation. */
    public GemmConvolution() {
        setCnn2dDataFormat(CNN2DFormat.NHWC);
    }

    /** The convolution described by {@code builder}, in NHWC. */
    public GemmConvolution(ConvolutionLayer.Builder builder) {
        super(builder);
        setCnn2dDataFormat(CNN2DFormat.NHWC);
    }

    /**
     * This convolution without dL/dx in backpropagation, for a layer that reads the network's
     * input: it returns zeros instead, and saves the most expensive product of its backward pass.
     */
    public GemmConvolution withoutInputGradient() {
        GemmConvolution copy = (GemmConvolution) clone();
        copy.inputGradient = false;
        return copy;
    }

    /** Whether backpropagation computes dL/dx (see {@link #withoutInputGradient}). */
    public boolean isInputGradient() {
        return inputGradient;
    }

    /** For JSON deserialisation. */
    public void setInputGradient(boolean inputGradient) {
        this.inputGradient = inputGradient;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GemmConvolution other && super.equals(o) && inputGradient == other.inputGradient;
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + Boolean.hashCode(inputGradient);
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> trainingListeners,
                             int layerIndex, INDArray layerParamsView, boolean initializeParams,
                             DataType networkDataType) {
        LayerValidation.assertNInNOutSet("GemmConvolution", getLayerName(), layerIndex, getNIn(), getNOut());
        if (getConvolutionMode() == ConvolutionMode.Same || getConvolutionMode() == ConvolutionMode.Causal) {
            throw new IllegalStateException("GemmConvolution " + getLayerName() + " takes explicit padding"
                    + " (ConvolutionMode.Truncate or Strict), not " + getConvolutionMode());
        }
        for (int d : getDilation()) {
            if (d != 1) {
                throw new IllegalStateException("GemmConvolution " + getLayerName() + " supports dilation 1 only");
            }
        }
        NativeThreads.useConfiguredTeam();
        GemmConvolutionLayer layer = new GemmConvolutionLayer(conf, networkDataType);
        layer.setListeners(trainingListeners);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(layerParamsView);
        Map<String, INDArray> paramTable = initializer().init(conf, layerParamsView, initializeParams);
        layer.setParamTable(paramTable);
        layer.setConf(conf);
        return layer;
    }
}
