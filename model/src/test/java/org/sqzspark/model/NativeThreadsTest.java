package org.sqzspark.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

class NativeThreadsTest {

    @Test
    void buildingTheNetworkLeavesOneMasterThreadUnlessTheEnvironmentSaysOtherwise() {
        assumeTrue(System.getenv(NativeThreads.MASTER_THREADS_ENV) == null, "SD_MASTER_THREADS is set");
        SqueezeNetV11.build(ModelConfig.defaults());
        assertEquals(1, Nd4j.getEnvironment().maxMasterThreads());
    }
}
