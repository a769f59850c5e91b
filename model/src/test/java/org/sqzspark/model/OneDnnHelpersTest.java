package org.sqzspark.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.Nd4jCpu;

/**
 * The oneDNN kernels (DL4J's layer helpers) compute the same network as DL4J's own layers: same
 * parameters in, same outputs and gradients out, on the reference (NCHW) graph. Skipped on a
 * native build without oneDNN.
 */
class OneDnnHelpersTest {

    private static final String DISABLE = "org.eclipse.deeplearning4j.helpers.disable";

    @AfterEach
    void restore() {
        System.clearProperty(DISABLE);
    }

    private static ComputationGraph build(boolean helpers) {
        System.setProperty(DISABLE, Boolean.toString(!helpers));
        return SqueezeNetV11.buildReference(new ModelConfig(10, 7, Optimizer.SGD, 0.01, 0, 0, 0.0));
    }

    @Test
    void helpersRunConvolutionAndPoolingOnOneDnnBuilds() {
        assumeTrue(Nd4jCpu.Environment.getInstance().isUseMKLDNN(), "native build without oneDNN");
        ComputationGraph net = build(true);
        assertTrue(((ConvolutionLayer) net.getLayer("fire5_expand3x3")).getHelper() instanceof MKLDNNConvHelper);
        assertTrue(((SubsamplingLayer) net.getLayer("pool3")).getHelper() instanceof MKLDNNSubsamplingHelper);
        assertNull(((ConvolutionLayer) build(false).getLayer("fire5_expand3x3")).getHelper());
    }

    @Test
    void helpersGiveTheSameOutputsAndGradientsAsTheReferenceLayers() {
        assumeTrue(Nd4jCpu.Environment.getInstance().isUseMKLDNN(), "native build without oneDNN");
        ComputationGraph reference = build(false);
        ComputationGraph onednn = build(true);
        onednn.setParams(reference.params().dup());

        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.rand(DataType.FLOAT, 8, 3, 32, 32).subi(0.5).muli(4);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 8, 10);
        for (int i = 0; i < 8; i++) {
            y.putScalar(i, i % 10, 1f);
        }
        assertTrue(reference.outputSingle(x).equalsWithEps(onednn.outputSingle(x), 1e-4));

        DataSet batch = new DataSet(x, y);
        reference.setInputs(batch.getFeatures());
        reference.setLabels(batch.getLabels());
        reference.computeGradientAndScore();
        onednn.setInputs(batch.getFeatures());
        onednn.setLabels(batch.getLabels());
        onednn.computeGradientAndScore();
        assertEquals(reference.score(), onednn.score(), 1e-4);
        Gradient expected = reference.gradient();
        Gradient actual = onednn.gradient();
        INDArray diff = expected.gradient().sub(actual.gradient());
        double scale = Math.max(1e-6, expected.gradient().norm2Number().doubleValue());
        assertTrue(diff.norm2Number().doubleValue() / scale < 1e-3,
                "relative gradient difference " + diff.norm2Number().doubleValue() / scale);
    }
}
