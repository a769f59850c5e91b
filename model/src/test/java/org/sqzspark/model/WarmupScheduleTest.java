package org.sqzspark.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;

class WarmupScheduleTest {

    @Test
    void risesLinearlyPerStepThenHolds() {
        WarmupSchedule s = new WarmupSchedule(0.001, 0.004, 3);
        assertEquals(0.001, s.valueAt(0, 0), 1e-15);
        assertEquals(0.002, s.valueAt(1, 0), 1e-15);
        assertEquals(0.003, s.valueAt(2, 0), 1e-15);
        assertEquals(0.004, s.valueAt(3, 1), 1e-15);
        assertEquals(0.004, s.valueAt(1_000_000, 9), 1e-15);
    }

    @Test
    void zeroStepsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new WarmupSchedule(0.1, 0.2, 0));
    }

    @Test
    void theNetworkUsesTheWarmupAndItSurvivesTheJsonConfigurationSparkShips() {
        ModelConfig config = ModelConfig.defaults().withLearningRate(4e-4).withWarmup(100, 1e-4);
        ComputationGraph net = SqueezeNetV11.build(config);
        ComputationGraphConfiguration copy = ComputationGraphConfiguration.fromJson(net.getConfiguration().toJson());
        for (String name : new String[] {"conv1", "conv10"}) {
            LayerVertex vertex = (LayerVertex) copy.getVertices().get(name);
            BaseLayer layer = (BaseLayer) vertex.getLayerConf().getLayer();
            assertEquals(1e-4, layer.getUpdaterByParam("W").getLearningRate(0, 0), 1e-15, name);
            assertEquals(2.5e-4, layer.getUpdaterByParam("W").getLearningRate(50, 0), 1e-15, name);
            assertEquals(4e-4, layer.getUpdaterByParam("W").getLearningRate(100, 1), 1e-15, name);
        }
    }

    @Test
    void withoutWarmupTheRateIsConstant() {
        ComputationGraph net = SqueezeNetV11.build(ModelConfig.defaults());
        BaseLayer layer = (BaseLayer) net.getLayer("conv1").conf().getLayer();
        assertEquals(ModelConfig.DEFAULT_LEARNING_RATE, layer.getUpdaterByParam("W").getLearningRate(0, 0), 1e-15);
        assertEquals(ModelConfig.DEFAULT_LEARNING_RATE, layer.getUpdaterByParam("W").getLearningRate(10_000, 5),
                1e-15);
    }
}
