package org.sqzspark.job.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.sqzspark.job.results.ResultStore;
import org.sqzspark.model.ModelConfig;
import org.sqzspark.model.Optimizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which arithmetic a run uses, the replicas' learning rate under gradient sharing, and what results record. */
class ArithmeticTest {

    private static TrainConfig config(TrainingMasterKind master, int partitions, Optimizer optimizer, int frequency,
                                      LrScaling scaling, int warmupEpochs) {
        ModelConfig model = new ModelConfig(10, 42, optimizer, 0.002, 0.9, 5e-4, 0.5);
        return new TrainConfig("data", false, "out", "local[*]", partitions, 10, 32, 0, master, frequency,
                TrainConfig.DEFAULT_THRESHOLD, 100, 100, scaling, warmupEpochs, 0, model, Execution.TURNS);
    }

    @Test
    void theDefaultsAreSynchronousSgdByAveragingEveryMinibatch() {
        ModelConfig model = ModelConfig.defaults();
        assertEquals(TrainingMasterKind.AVERAGING, TrainConfig.DEFAULT_TRAINING_MASTER);
        assertEquals(1, TrainConfig.DEFAULT_AVERAGING_FREQUENCY);
        assertEquals(Optimizer.NESTEROV, model.optimizer());
        assertEquals(Arithmetic.SYNCHRONOUS_SGD, Arithmetic.of(TrainConfig.DEFAULT_TRAINING_MASTER,
                TrainConfig.DEFAULT_AVERAGING_FREQUENCY, model.optimizer(), 48));
    }

    @Test
    void namesTheArithmeticOfEachMasterAndUpdateRule() {
        assertEquals(Arithmetic.SYNCHRONOUS_SGD, config(TrainingMasterKind.AVERAGING, 8, Optimizer.SGD, 1,
                LrScaling.NONE, 0).arithmetic());
        assertEquals(Arithmetic.SYNCHRONOUS_SGD_ENCODED, config(TrainingMasterKind.SHARED, 8, Optimizer.NESTEROV, 1,
                LrScaling.NONE, 0).arithmetic());
        assertEquals(Arithmetic.LOCAL_SGD, config(TrainingMasterKind.AVERAGING, 8, Optimizer.NESTEROV, 4,
                LrScaling.NONE, 0).arithmetic());
        assertEquals(Arithmetic.MEAN_OF_ADAM_STEPS, config(TrainingMasterKind.SHARED, 2, Optimizer.ADAM, 1,
                LrScaling.NONE, 0).arithmetic());
        assertEquals(Arithmetic.SYNCHRONOUS_SGD, config(TrainingMasterKind.AVERAGING, 1, Optimizer.ADAM, 1,
                LrScaling.NONE, 0).arithmetic(), "one replica is plain training, whatever the rule");
        assertFalse(Arithmetic.MEAN_OF_ADAM_STEPS.isSynchronousSgd());
        assertTrue(Arithmetic.SYNCHRONOUS_SGD_ENCODED.isSynchronousSgd());
    }

    @Test
    void gradientSharingGivesEachReplicaTheRateOverP() {
        TrainConfig shared = config(TrainingMasterKind.SHARED, 4, Optimizer.NESTEROV, 1, LrScaling.SQRT, 2);
        ModelConfig mean = shared.modelFor(100);
        ModelConfig replica = shared.replicaModelFor(100);
        assertEquals(0.004, mean.learningRate(), 1e-12, "sqrt(4) times 0.002 for the mean update");
        assertEquals(0.001, replica.learningRate(), 1e-12);
        assertEquals(0.0005, replica.warmupFrom(), 1e-12);
        assertEquals(200, replica.warmupSteps());
        TrainConfig averaging = config(TrainingMasterKind.AVERAGING, 4, Optimizer.NESTEROV, 1, LrScaling.SQRT, 2);
        assertEquals(averaging.modelFor(100), averaging.replicaModelFor(100), "averaging: the replicas' rate is the rate");
    }

    @Test
    void resultsRecordTheArithmeticAndHowTheReplicasRan() throws Exception {
        TrainConfig config = config(TrainingMasterKind.SHARED, 2, Optimizer.ADAM, 1, LrScaling.NONE, 0);
        JsonNode json = new ObjectMapper().readTree(new ObjectMapper().writeValueAsBytes(config));
        assertEquals("MEAN_OF_ADAM_STEPS", json.path("arithmetic").asText());
        assertEquals("TURNS", json.path("execution").asText());
        assertEquals(config, new ObjectMapper().configure(
                com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
                .readValue(new ObjectMapper().writeValueAsBytes(config), TrainConfig.class), "read back as written");
        int arithmetic = ResultStore.CSV_HEADER.indexOf("arithmetic");
        int execution = ResultStore.CSV_HEADER.indexOf("execution");
        assertTrue(arithmetic > 0 && execution > 0, "CSV columns: " + ResultStore.CSV_HEADER);
    }
}
