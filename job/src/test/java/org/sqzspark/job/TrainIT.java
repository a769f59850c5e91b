package org.sqzspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Trains the real network with each DL4J training master at P=2 on local[2]. */
class TrainIT {

    @TempDir
    static Path tmp;
    static Path data;

    @BeforeAll
    static void writeData() throws Exception {
        data = SyntheticCifar.write(tmp.resolve("cifar"), 200, 40, 7);
    }

    @ParameterizedTest
    @EnumSource(TrainingMasterKind.class)
    void learnsSeparableDataWithTwoReplicas(TrainingMasterKind kind) {
        TrainConfig config = TestConfigs.separable(data, tmp.resolve("out-" + kind), 2, kind);
        List<RunResult> results = Main.execute(List.of(config));
        RunResult run = results.get(0);
        assertEquals(2, run.layout().partitions());
        assertEquals(config.epochs(), run.epochs().size());
        assertTrue(run.finalTestAccuracy() >= 0.9,
                kind + " reached only " + run.finalTestAccuracy() + " test accuracy: " + run.epochs());
        assertTrue(run.epochs().get(0).trainLoss() > run.epochs().get(run.epochs().size() - 1).trainLoss(),
                "training loss did not fall: " + run.epochs());
    }
}
