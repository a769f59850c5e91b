package org.sqzspark.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SqueezeNetV11Test {

    private static ComputationGraph net;

    @BeforeAll
    static void buildOnce() {
        net = SqueezeNetV11.build(ModelConfig.defaults());
    }

    @Test
    void hasTheParameterCountOfTorchvisionSqueezenet11() {
        assertEquals(SqueezeNetV11.PARAMETERS, net.numParams());
    }

    @Test
    void fireModulesHaveV11Widths() {
        // fire9: squeeze 512 -> 64 (1x1), expand 64 -> 256 (1x1) and 64 -> 256 (3x3)
        assertEquals(512L * 64 + 64, net.getLayer("fire9_squeeze").numParams());
        assertEquals(64L * 256 + 256, net.getLayer("fire9_expand1x1").numParams());
        assertEquals(64L * 256 * 9 + 256, net.getLayer("fire9_expand3x3").numParams());
        assertEquals(3L * 64 * 9 + 64, net.getLayer("conv1").numParams());
        assertEquals(512L * 10 + 10, net.getLayer("conv10").numParams());
    }

    @Test
    void outputsOneProbabilityRowPerImage() {
        INDArray images = Nd4j.rand(DataType.FLOAT, 5, 3, 32, 32).subi(0.5);
        INDArray out = net.outputSingle(images);
        assertArrayEquals(new long[] {5, 10}, out.shape());
        INDArray rowSums = out.sum(1);
        for (int i = 0; i < 5; i++) {
            assertEquals(1.0, rowSums.getDouble(i), 1e-5);
            assertTrue(out.getRow(i).minNumber().doubleValue() >= 0);
        }
    }

    @Test
    void sameSeedGivesSameWeights() {
        ComputationGraph other = SqueezeNetV11.build(ModelConfig.defaults());
        assertEquals(net.params(), other.params());
    }

    @Test
    void classCountChangesOnlyConv10() {
        ModelConfig hundred = new ModelConfig(100, 1, Optimizer.SGD, 0.01, 0, 0, 0.5);
        ComputationGraph cifar100 = SqueezeNetV11.build(hundred);
        assertEquals(SqueezeNetV11.PARAMETERS + 90L * 512 + 90, cifar100.numParams());
    }

    @Test
    void rejectsLearningRateOutOfRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelConfig.defaults().withLearningRate(-1));
        assertTrue(e.getMessage().contains("learning rate"), e.getMessage());
    }
}
