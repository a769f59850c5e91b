package org.sqzspark.job.upstream;

import java.io.Serializable;
import java.lang.reflect.Field;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDDLike;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.core.storage.StatsStorageRouter;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.ThresholdAlgorithm;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RepartitionStrategy;
import org.deeplearning4j.spark.api.Repartitioner;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.parameterserver.conf.SharedTrainingConfiguration;
import org.deeplearning4j.spark.parameterserver.pw.SharedTrainingWrapper;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingWorker;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;
import org.nd4j.parameterserver.distributed.v2.ModelParameterServer;
import org.sqzspark.model.ShardedGraph;

/**
 * DL4J's gradient-sharing master, minus two costs that buy nothing, and with its residual clipped
 * by {@link ResidualClipping}:
 * <ul>
 * <li>the {@code count()} it runs on the training RDD before every fit. The count only feeds
 * training statistics that this master never reports (its {@code getTrainingStats()} returns
 * null), and costs a whole extra pass over the epoch's data: every minibatch was decoded from its
 * records once to be counted and once more to be trained on;</li>
 * <li>a network built and dropped by every executor at every epoch after its first
 * ({@link NetworkOncePerExecutor}).</li>
 * </ul>
 * Its replicas also start a training session at the step the driver's network has reached, start
 * every later fit from the driver's parameters, and draw their dropout masks from a seed of the
 * run's (see {@link NetworkOncePerExecutor}).
 *
 * <p>It also gives each session's replicas the step count the driver's network has reached
 * ({@code StepCount}): DL4J 1.0.0-M2 counts from the gradient messages an executor has received,
 * which restarts the learning-rate schedule after {@code --resume}. It can go when a DL4J release
 * skips the count where no statistics are collected, keeps the worker's network across fits and
 * carries the iteration count into the workers: then {@code CifarRddsTest} (no pass to count the
 * epoch) and {@code ResumedScheduleIT} pass with the stock {@code SharedTrainingMaster}. The start
 * from the driver's parameters can go when DL4J's wrapper stops dropping the updates that arrive
 * between fits, or renews its broadcast of the network at every fit: then
 * {@code StandaloneClusterIT} passes ten runs in a row without it.
 */
public final class SharedTrainingWithoutCount extends SharedTrainingMaster {

    /** The builder's default residual post-processing: clip to 5x the threshold every 5 steps. */
    public static final ResidualClipping RESIDUAL_CLIPPING = new ResidualClipping(5.0, 5);

    /**
     * What {@link SharedTrainingMaster.Builder} builds from the same settings: training straight
     * from the RDD's partitions as they are (no repartitioning, nothing persisted), minibatches of
     * {@code batchPerWorker} examples each, and the builder's defaults for the rest (residual
     * clipping at 5x the threshold every 5 steps, here by {@link ResidualClipping}; periodic GC
     * every 5 s).
     */
    public SharedTrainingWithoutCount(VoidConfiguration voidConf, int numWorkers, ThresholdAlgorithm threshold,
                               int batchPerWorker, int workersPerNode, int prefetch, Repartitioner repartitioner) {
        super(voidConf, numWorkers, RDDTrainingApproach.Direct, null, false, RepartitionStrategy.Balanced,
                Repartition.Never, threshold, RESIDUAL_CLIPPING.clone(), batchPerWorker,
                batchPerWorker, 0L, workersPerNode, prefetch, repartitioner, true, 5000, false);
    }

    @Override
    public <T, R extends JavaRDDLike<T, R>> long getTotalDataSetObjectCount(JavaRDDLike<T, R> trainingData) {
        return 0;
    }

    /** The driver's parameters as the current fit started; DL4J's own broadcast is the first fit's. */
    private transient Broadcast<INDArray> driverParameters;

    @Override
    public SharedTrainingWorker getWorkerInstance(SparkComputationGraph graph) {
        SharedTrainingWorker w = super.getWorkerInstance(graph);
        ComputationGraph net = graph.getNetwork();
        if (driverParameters != null) {
            driverParameters.unpersist(false);
        }
        driverParameters = graph.getSparkContext().broadcast(net.params().dup());
        return new NetworkOncePerExecutor(w.getInstanceId(), w.getBroadcastModel(), w.getBroadcastConfiguration(),
                w.getListeners(), w.getRouter(), w.getWorkerTogglePeriodicGC(), w.getWorkerPeriodicGCFrequency(),
                new StepCount(net.getIterationCount(), net.getEpochCount(),
                        net.getConfiguration().getDefaultConfiguration().getSeed()), driverParameters);
    }

    /**
     * A worker that builds the executor's network from the broadcast one only the first time it is
     * asked for it in a training session.
     * <p>
     * With one replica per executor, DL4J's {@code SharedTrainingWrapper} trains the network it got
     * at its first fit for the whole session. At every later fit it still asks the worker for a
     * network, which DL4J builds and initialises from the broadcast parameters and updater state
     * (727,626 and 1,455,252 values) and then uses only for its class, to hand it the listeners (none
     * here), and to set the iteration and epoch counts of its configuration (the broadcast
     * configuration object, whichever graph holds it). Here, later calls of the same session in the
     * same JVM get a graph on that configuration that is constructed but not initialised: all of
     * those uses work on it, and training is unchanged. A session is the master's instance id, the key
     * the wrapper itself resets on. With two or more replicas per executor the wrapper asks only once.
     * <p>
     * The network a session trains starts at the driver's step count. DL4J 1.0.0-M2's wrapper sets
     * the step and epoch counts of that network from its JVM's {@code ModelParameterServer}, which
     * counts only the steps named in gradient messages it has received: 0 in a new executor (after
     * {@code --resume}, or in any run's first epoch until another replica's first message
     * arrives). The warm-up then restarted at its first step, and Adam's bias correction at its
     * first, in every resumed run. Here the parameter server's counts are set to the driver's before
     * the wrapper reads them. It can go when DL4J takes the counts from the broadcast network.
     * <p>
     * The training thread's random generator, which draws the dropout masks, is seeded from the
     * run's seed, the driver's step count and the partition, at every epoch: ND4J seeds each thread's
     * generator from the clock, so two runs of one configuration trained on different masks.
     */
    public static final class NetworkOncePerExecutor extends SharedTrainingWorker {
        private static final long serialVersionUID = 1L;
        /** The session whose network this JVM's wrapper already holds. */
        private static long builtFor = Long.MIN_VALUE;
        private static int built;
        private static int resynchronised;
        private final StepCount start;
        private final Broadcast<INDArray> driverParameters;

        NetworkOncePerExecutor(long instanceId, Broadcast<NetBroadcastTuple> model,
                               Broadcast<SharedTrainingConfiguration> configuration, List<TrainingListener> listeners,
                               StatsStorageRouter router, Boolean periodicGc, Integer periodicGcFrequency,
                               StepCount start, Broadcast<INDArray> driverParameters) {
            super(instanceId, model, configuration, listeners, router, periodicGc, periodicGcFrequency);
            this.start = start;
            this.driverParameters = driverParameters;
        }

        @Override
        public ComputationGraph getInitialModelGraph() {
            TaskContext task = TaskContext.get();
            int partition = task == null ? 0 : task.partitionId();
            Nd4j.getRandom().setSeed(start.seed() * 1_000_003L + start.iteration() * 1_009L + partition);
            synchronized (NetworkOncePerExecutor.class) {
                // listeners make the wrapper initialise whatever it is given
                boolean listeners = getListeners() != null && !getListeners().isEmpty();
                if (builtFor == getInstanceId() && !listeners) {
                    resynchronise(driverParameters.getValue());
                    return new ComputationGraph(getBroadcastModel().getValue().getGraphConfiguration());
                }
                // one replica: its minibatch in shards over the executor's cores (ShardedGraph); with more, the
                // wrapper builds the others as plain graphs, and each keeps its team of the cores
                ComputationGraph net = super.getInitialModelGraph();
                if (getBroadcastConfiguration().getValue().getNumberOfWorkersPerNode() == 1) {
                    net = ShardedGraph.of(net);
                }
                if (builtFor != getInstanceId()) {
                    start.toParameterServer();
                }
                builtFor = getInstanceId();
                built++;
                return net;
            }
        }

        /**
         * Sets the parameters of the network this JVM's wrapper trains to the driver's as this fit
         * started (DL4J's own broadcast of the network is made once, at the first fit, and not renewed). The driver's copy is the run's model: the initial parameters plus every
         * encoded update that reached it from any replica. A replica's own copy misses whatever
         * arrived after its last fit ended, since DL4J's wrapper drops incoming updates between fits
         * (its consumer's bypass mode) and clears the residual not yet sent; without this, those
         * losses add up from epoch to epoch, the replicas drift apart and the driver's sum of their
         * updates stops matching either of them.
         */
        private void resynchronise(INDArray driverParameters) {
            Model kept = keptNetwork();
            if (kept != null && driverParameters != null) {
                kept.params().assign(driverParameters);
                resynchronised++;
            }
        }

        /** The network of this JVM's wrapper, the one whose fit is starting. */
        private static Model keptNetwork() {
            try {
                Field instance = SharedTrainingWrapper.class.getDeclaredField("INSTANCE");
                instance.setAccessible(true);
                Object wrapper = instance.get(null);
                Field model = SharedTrainingWrapper.class.getDeclaredField("originalModel");
                model.setAccessible(true);
                return wrapper == null ? null : (Model) model.get(wrapper);
            } catch (ReflectiveOperationException | ClassCastException e) {
                throw new IllegalStateException("this DL4J's SharedTrainingWrapper has no INSTANCE with a Model"
                        + " 'originalModel' (written against 1.0.0-M2): revisit"
                        + " SharedTrainingWithoutCount.NetworkOncePerExecutor", e);
            }
        }

        /** Fits in this JVM that started from the driver's parameters on the network already built. */
        public static int resynchronisations() {
            synchronized (NetworkOncePerExecutor.class) {
                return resynchronised;
            }
        }

        /** Networks built from a broadcast one in this JVM so far. */
        public static int networksBuilt() {
            synchronized (NetworkOncePerExecutor.class) {
                return built;
            }
        }
    }

    /**
     * The step and epoch counts of the driver's network when a fit starts, and the run's seed.
     */
    record StepCount(int iteration, int epoch, long seed) implements Serializable {

        /** The counts DL4J's wrapper gives the network of a new session in this JVM. */
        void toParameterServer() {
            ModelParameterServer server = ModelParameterServer.getInstance();
            counter(server, "iterationNumber").set(iteration);
            counter(server, "epochNumber").set(epoch);
        }

        private static AtomicInteger counter(ModelParameterServer server, String name) {
            try {
                Field field = ModelParameterServer.class.getDeclaredField(name);
                field.setAccessible(true);
                return (AtomicInteger) field.get(server);
            } catch (ReflectiveOperationException | ClassCastException e) {
                throw new IllegalStateException("this DL4J's ModelParameterServer has no AtomicInteger '" + name
                        + "' (written against 1.0.0-M2): revisit SharedTrainingWithoutCount.StepCount", e);
            }
        }
    }
}
