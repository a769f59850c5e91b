package org.sqzspark.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.CnnLossLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The network the job trains (NHWC, {@link GemmConvolution}) is the reference network built from
 * DL4J's own NCHW layers: same layers, parameter count and shapes, and for the same weights the
 * same outputs and gradients.
 */
class SqueezeNetLayoutsTest {

    private static final ModelConfig NO_DROPOUT = new ModelConfig(10, 7, Optimizer.SGD, 0.01, 0, 0, 0.0);

    private static ComputationGraph reference;
    private static ComputationGraph gemm;

    @BeforeAll
    static void build() {
        reference = SqueezeNetV11.buildReference(NO_DROPOUT);
        gemm = SqueezeNetV11.build(NO_DROPOUT);
        Nd4j.getRandom().setSeed(11);
        // weights away from torchvision's small conv10 init, so that every layer's gradient is sizeable
        reference.setParams(Nd4j.rand(DataType.FLOAT, 1, reference.numParams()).subi(0.5).muli(0.2));
        gemm.setParams(reference.params().dup());
    }

    @Test
    void sameLayersParametersAndShapes() {
        assertEquals(SqueezeNetV11.PARAMETERS, gemm.numParams());
        Map<String, INDArray> expected = reference.paramTable();
        Map<String, INDArray> actual = gemm.paramTable();
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()));
        expected.forEach((name, p) -> assertEquals(Arrays.toString(p.shape()),
                Arrays.toString(actual.get(name).shape()), name));
        assertInstanceOf(GemmConvolutionLayer.class, gemm.getLayer("fire5_expand3x3"));
        assertInstanceOf(GemmConvolutionLayer.class, gemm.getLayer("conv1"));
    }

    @Test
    void sameOutputsForTheSameWeights() {
        INDArray x = images(16, 1);
        INDArray expected = reference.outputSingle(x);
        INDArray actual = gemm.outputSingle(x);
        assertEquals(0, maxDifference(expected, actual), 1e-5);
    }

    @Test
    void sameScoreAndGradientsForTheSameWeights() {
        assertSameScoreAndGradients(gemm);
    }

    private static void assertSameScoreAndGradients(ComputationGraph net) {
        INDArray x = images(16, 2);
        INDArray y = labels(16);
        reference.setInputs(x);
        reference.setLabels(y);
        reference.computeGradientAndScore();
        net.setInputs(x);
        net.setLabels(y);
        net.computeGradientAndScore();
        assertEquals(reference.score(), net.score(), 1e-5);
        Map<String, INDArray> expected = reference.gradient().gradientForVariable();
        Map<String, INDArray> actual = net.gradient().gradientForVariable();
        assertEquals(expected.keySet(), actual.keySet());
        for (Map.Entry<String, INDArray> e : expected.entrySet()) {
            INDArray want = e.getValue();
            double scale = Math.max(1e-3, want.norm2Number().doubleValue());
            double diff = want.sub(actual.get(e.getKey()).reshape(want.shape())).norm2Number().doubleValue();
            assertTrue(diff / scale < 1e-3, e.getKey() + ": relative difference " + diff / scale);
        }
    }

    @Test
    void configurationSurvivesJson() {
        ComputationGraphConfiguration conf = SqueezeNetV11.configuration(NO_DROPOUT);
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
        assertEquals(conf, back);
        ComputationGraph rebuilt = new ComputationGraph(back);
        rebuilt.init(gemm.params().dup(), false);
        INDArray x = images(4, 3);
        assertEquals(0, maxDifference(gemm.outputSingle(x), rebuilt.outputSingle(x)), 0);
    }

    @Test
    void aClonedNetworkComputesTheSame() {
        // Spark's training masters clone the network; DL4J's MergeVertex.clone() loses its axis
        ComputationGraph copy = gemm.clone();
        INDArray x = images(4, 4);
        assertEquals(0, maxDifference(gemm.outputSingle(x), copy.outputSingle(x)), 0);
    }

    /**
     * One convolution against DL4J's NCHW layer, including strides, padding and non-ReLU
     * activations (the NCHW layer is the reference: DL4J 1.0.0-M2's own NHWC backward pass returns
     * uninitialised weight gradients).
     */
    @ParameterizedTest
    @CsvSource({
        "9, 1, 1, 0, RELU", "9, 3, 1, 1, RELU", "9, 3, 1, 0, RELU", "9, 3, 2, 0, RELU", "9, 3, 2, 1, TANH",
        "9, 1, 1, 0, IDENTITY", "1, 3, 1, 1, RELU", "1, 3, 1, 1, TANH", "3, 3, 1, 1, RELU"})
    void singleConvolutionMatchesDl4j(int size, int kernel, int stride, int padding, Activation activation) {
        Nd4j.getRandom().setSeed(size * 1000L + kernel * 100L + stride * 10L + padding);
        INDArray x = Nd4j.rand(DataType.FLOAT, 3, size, size, 5).subi(0.5);
        MultiLayerNetwork expected = single(size, kernel, stride, padding, activation, false);
        MultiLayerNetwork actual = single(size, kernel, stride, padding, activation, true);
        actual.setParams(expected.params().dup());
        INDArray xNchw = x.permute(0, 3, 1, 2).dup();
        LayerWorkspaceMgr noWorkspaces = LayerWorkspaceMgr.noWorkspaces();
        Layer want = expected.getLayer(0);
        Layer got = actual.getLayer(0);
        want.setInput(xNchw, noWorkspaces);
        got.setInput(x, noWorkspaces);
        INDArray out = got.activate(true, noWorkspaces);
        assertEquals(0, maxDifference(want.activate(true, noWorkspaces).permute(0, 2, 3, 1), out), 1e-5);

        INDArray epsilon = Nd4j.rand(DataType.FLOAT, out.shape()).subi(0.5);
        Pair<Gradient, INDArray> wantGrad = want.backpropGradient(epsilon.permute(0, 3, 1, 2).dup(), noWorkspaces);
        Pair<Gradient, INDArray> gotGrad = got.backpropGradient(epsilon, noWorkspaces);
        for (String param : List.of("W", "b")) {
            INDArray w = wantGrad.getFirst().getGradientFor(param);
            assertEquals(0, maxDifference(w, gotGrad.getFirst().getGradientFor(param)), 1e-4, param);
        }
        assertEquals(0, maxDifference(wantGrad.getSecond().permute(0, 2, 3, 1), gotGrad.getSecond()), 1e-5);
    }

    private static MultiLayerNetwork single(int size, int kernel, int stride, int padding, Activation activation,
                                            boolean gemmLayer) {
        ConvolutionLayer.Builder builder = new ConvolutionLayer.Builder(kernel, kernel)
                .stride(stride, stride)
                .padding(padding, padding)
                .nOut(4)
                .activation(activation);
        CNN2DFormat format = gemmLayer ? CNN2DFormat.NHWC : CNN2DFormat.NCHW;
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(5)
                .dataType(DataType.FLOAT)
                .updater(new Sgd(0.1))
                .convolutionMode(ConvolutionMode.Truncate)
                .list()
                .layer(gemmLayer ? new GemmConvolution(builder) : builder.build())
                .layer(new CnnLossLayer.Builder(LossFunctions.LossFunction.MSE).activation(Activation.IDENTITY)
                        .format(format).build())
                .setInputType(InputType.convolutional(size, size, 5, format))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        net.initGradientsView();
        return net;
    }

    private static INDArray images(int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(DataType.FLOAT, n, 3, 32, 32).subi(0.5).muli(4);
    }

    private static INDArray labels(int n) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 10);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % 10, 1f);
        }
        return y;
    }

    private static double maxDifference(INDArray a, INDArray b) {
        return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE).reshape(a.shape())).amaxNumber().doubleValue();
    }
}
