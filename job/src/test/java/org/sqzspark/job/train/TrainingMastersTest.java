package org.sqzspark.job.train;

import java.nio.file.Path;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import org.sqzspark.job.TestConfigs;
import org.sqzspark.job.upstream.ExecutorPortSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingMastersTest {

    @Test
    void executorsBindPortsAboveTheParameterServers() {
        ExecutorPortSupplier ports = new ExecutorPortSupplier(40123);
        assertEquals(40123, ports.portFor(null));
        assertEquals(40123, ports.portFor("driver"));
        assertEquals(40124, ports.portFor("0"));
        assertEquals(40125, ports.portFor("1"));
        assertEquals(40170, ports.portFor("46"));
    }

    @Test
    void aPortWithNoRoomForExecutorsIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ExecutorPortSupplier(65000));
        assertTrue(e.getMessage().contains("65000"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> new ExecutorPortSupplier(64000).portFor("2000"));
    }

    @Test
    void networkMaskIsTheConfiguredOneElseTheControllersSlash24() {
        SparkConf conf = new SparkConf(false);
        assertEquals("192.168.1.0/24", TrainingMasters.networkMask(conf, "192.168.1.10"));
        assertNull(TrainingMasters.networkMask(conf, "127.0.0.1"), "one host: executors announce 127.0.0.1");
        assertNull(TrainingMasters.networkMask(conf, null));
        conf.set(TrainingMasters.CONF_AERON_NETWORK_MASK, "10.0.0.0/16");
        assertEquals("10.0.0.0/16", TrainingMasters.networkMask(conf, "192.168.1.10"));
    }

    @Test
    void anUnresolvableControllerIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingMasters.networkMask(new SparkConf(false), "no-such-host.invalid"));
        assertTrue(e.getMessage().contains("no-such-host.invalid"), e.getMessage());
    }

    @Test
    void embeddedReplicasTrainingAtOnceAreAllOfGradientSharingsAndAsManyAveragingTasksAsSlots() {
        Path nowhere = Path.of("unused");
        TrainConfig shared = TestConfigs.separable(nowhere, nowhere, 8, TrainingMasterKind.SHARED);
        assertEquals(8, Trainer.replicasAtOnce(shared, ReplicaLayout.of(TrainingMasterKind.SHARED, 8, 1), 2));
        TrainConfig averaging = TestConfigs.separable(nowhere, nowhere, 8, TrainingMasterKind.AVERAGING);
        assertEquals(2, Trainer.replicasAtOnce(averaging, ReplicaLayout.of(TrainingMasterKind.AVERAGING, 8, 1), 2));
        TrainConfig one = TestConfigs.separable(nowhere, nowhere, 1, TrainingMasterKind.AVERAGING);
        assertEquals(1, Trainer.replicasAtOnce(one, ReplicaLayout.of(TrainingMasterKind.AVERAGING, 1, 1), 2));
    }
}
