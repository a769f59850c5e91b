package org.sqzspark.job.train;

import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.SocketException;
import java.net.UnknownHostException;
import org.apache.spark.SparkConf;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.threshold.AdaptiveThresholdAlgorithm;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;
import org.sqzspark.job.train.turns.AveragingInTurns;
import org.sqzspark.job.train.turns.ReplicasInTurns;
import org.sqzspark.job.train.turns.SharingInTurns;
import org.sqzspark.job.upstream.AveragingWithStepCount;
import org.sqzspark.job.upstream.ExecutorPortSupplier;
import org.sqzspark.job.upstream.KeepPartitions;
import org.sqzspark.job.upstream.SharedTrainingWithoutCount;
import org.sqzspark.model.Optimizer;

/** Builds the DL4J training master for a run; cluster settings come from the Spark configuration. */
final class TrainingMasters {

    /** Aeron UDP port of the gradient-sharing parameter server; executor N binds this + 1 + N. */
    static final String CONF_AERON_PORT = "spark.sqzspark.aeron.port";
    /** Address of the driver that executors reach over Aeron; default: spark.driver.host. */
    static final String CONF_AERON_CONTROLLER = "spark.sqzspark.aeron.controller";
    /** Network (CIDR) whose interface Aeron binds to, e.g. 192.168.1.0/24. */
    static final String CONF_AERON_NETWORK_MASK = "spark.sqzspark.aeron.networkMask";
    private static final int DEFAULT_AERON_PORT = 40123;
    /** Minibatches each worker decodes ahead of the one it trains on. */
    private static final int PREFETCH = 2;

    private TrainingMasters() {
    }

    /** The training master for the run. */
    static TrainingMaster<?, ?> create(TrainConfig config, ReplicaLayout layout, SparkConf sparkConf,
                                       boolean local) {
        return switch (config.trainingMaster()) {
            case SHARED -> shared(config, layout, sparkConf, local);
            case AVERAGING -> new AveragingWithStepCount(new ParameterAveragingTrainingMaster.Builder(layout.partitions(),
                    config.batchPerReplica())
                    .batchSizePerWorker(config.batchPerReplica())
                    .averagingFrequency(config.averagingFrequency())
                    .workerPrefetchNumBatches(PREFETCH)
                    .saveUpdater(true)
                    // the Trainer feeds one averaging round per fit: P partitions of
                    // averagingFrequency minibatches each, used as they are
                    .rddTrainingApproach(RDDTrainingApproach.Direct)
                    .repartionData(Repartition.Never)
                    .storageLevel(null)
                    .rngSeed(config.model().seed()));
        };
    }

    /** A training master for evaluation only: parameter averaging's, which starts no transport. */
    static TrainingMaster<?, ?> evaluating(TrainConfig config) {
        return new ParameterAveragingTrainingMaster.Builder(1, config.batchPerReplica())
                .batchSizePerWorker(config.batchPerReplica())
                .rngSeed(config.model().seed())
                .build();
    }

    /**
     * The replicas of the run in turns on {@code net}, combined as the run's training master combines
     * them: with the same averaging frequency, or the same threshold algorithm and residual clipping.
     */
    static ReplicasInTurns inTurns(TrainConfig config, ComputationGraph net) {
        return switch (config.trainingMaster()) {
            case AVERAGING -> new AveragingInTurns(net, config.partitions(), config.averagingFrequency(),
                    config.model().optimizer() != Optimizer.ADAM);
            case SHARED -> new SharingInTurns(net, config.partitions(), new AdaptiveThresholdAlgorithm(config.threshold()),
                    SharedTrainingWithoutCount.RESIDUAL_CLIPPING);
        };
    }

    private static TrainingMaster<?, ?> shared(TrainConfig config, ReplicaLayout layout, SparkConf sparkConf,
                                               boolean local) {
        // embedded, the parameter server and its one client share this JVM: any free port will do,
        // and two embedded runs on one machine do not collide
        int port = local && !sparkConf.contains(CONF_AERON_PORT) ? EmbeddedPort.PORT
                : sparkConf.getInt(CONF_AERON_PORT, DEFAULT_AERON_PORT);
        String controller = controllerAddress(sparkConf, local);
        VoidConfiguration voidConf = VoidConfiguration.builder()
                .portSupplier(new ExecutorPortSupplier(port))
                .controllerAddress(controller)
                .networkMask(networkMask(sparkConf, controller))
                .build();
        voidConf.setUnicastControllerPort(port);
        // the RDD already has exactly P partitions, one replica's share each, used as they are: nothing
        // persisted, since DL4J's default, MEMORY_ONLY_SER, Java-serializes every minibatch of the epoch
        // one float at a time, and back, before training on it (measured: about 60% of the executor
        // thread's profile samples at P=1); the minibatches are decoded from the cached records
        // instead, as they are consumed
        return new SharedTrainingWithoutCount(voidConf, layout.partitions(), new AdaptiveThresholdAlgorithm(config.threshold()),
                config.batchPerReplica(), layout.workersPerExecutor(), PREFETCH, new KeepPartitions());
    }

    /**
     * The network whose address executors announce to the parameter server: the configured mask,
     * else the controller's /24 (a flat LAN of Pis), else none, and executors announce 127.0.0.1
     * (everything on one host).
     */
    static String networkMask(SparkConf conf, String controller) {
        if (conf.contains(CONF_AERON_NETWORK_MASK)) {
            return conf.get(CONF_AERON_NETWORK_MASK);
        }
        if (controller == null) {
            return null;
        }
        InetAddress address;
        try {
            address = InetAddress.getByName(controller);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("the gradient-sharing controller '" + controller + "' does not resolve:"
                    + " set " + CONF_AERON_CONTROLLER + " to the driver's IP address", e);
        }
        if (!(address instanceof Inet4Address) || address.isLoopbackAddress()) {
            return null;
        }
        byte[] b = address.getAddress();
        return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + ".0/24";
    }

    /** A free UDP port on the loopback address, chosen once per JVM. */
    private static final class EmbeddedPort {
        static final int PORT = freeUdpPort();

        private static int freeUdpPort() {
            try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort() > 65535 - 1024 ? DEFAULT_AERON_PORT : s.getLocalPort();
            } catch (SocketException e) {
                return DEFAULT_AERON_PORT;
            }
        }
    }

    private static String controllerAddress(SparkConf conf, boolean local) {
        if (conf.contains(CONF_AERON_CONTROLLER)) {
            return conf.get(CONF_AERON_CONTROLLER);
        }
        if (local) {
            return "127.0.0.1";
        }
        return conf.get("spark.driver.host", null);
    }
}
