package org.sqzspark.job;

import java.nio.file.Path;
import org.sqzspark.model.ModelConfig;

/**
 * Run settings that learn the synthetic data in about a minute on local[2]. The default recipe
 * (Adam at 1e-4) is gentle enough that no class's score dies behind SqueezeNet's final ReLU; at
 * 3e-4 with 16 images per replica, two classes' scores died in some runs, freezing at 80%.
 */
final class TestConfigs {

    static final String MASTER = "local[2]";
    static final int EPOCHS = 10;
    static final int BATCH = 16;

    private TestConfigs() {
    }

    static ModelConfig model() {
        return ModelConfig.defaults();
    }

    static TrainConfig separable(Path data, Path out, int partitions, TrainingMasterKind kind) {
        return new TrainConfig(data.toString(), false, out.toString(), MASTER, partitions, EPOCHS, BATCH, 0, kind,
                1, TrainConfig.DEFAULT_THRESHOLD, 200, 100, model());
    }
}
