package org.sqzspark.model;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.deeplearning4j.nn.api.FwdPassType;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.schedule.FixedSchedule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ComputationGraph} that spreads each minibatch over its threads: the minibatch is cut
 * into shards along the example dimension, one per thread of the graph's team
 * ({@link NativeThreads#shardThreads()}), each shard's forward and backward pass runs on a thread of
 * its own with single-threaded native ops, and the shards' gradients are summed into the graph's
 * own before its updater runs once. Training computes what it would on the whole minibatch: DL4J
 * sums the examples' gradients in backprop and divides by the minibatch size in the updater, and
 * the score is the shards' scores weighted by their sizes. Only the dropout masks are drawn
 * differently (each shard thread's generator is seeded from the calling thread's at every step).
 *
 * <p>Why: the network's ops are small (a step at batch 64 is about 360 native ops, most of 10-300
 * µs), and spread over a team of two they gained nothing on a 2-core AMD EPYC: 1,934 images/s
 * against 2,118 on one thread, the second thread spinning at OpenMP barriers between ops. Two
 * copies of the network on 32 examples each, one thread apiece, trained at 2,543 images/s together.
 *
 * <p>Shards have at least {@value #MIN_SHARD} examples; a minibatch too small for two, masks,
 * and a team of one take DL4J's path unchanged. Inference (the output layers' outputs, without
 * masks or an output workspace) is sharded the same way. The shard copies share this graph's
 * parameter array (no copy per step); each has its own gradient array and workspaces. Listeners
 * see shard 0's activations in {@code onForwardPass}.
 */
public class ShardedGraph extends ComputationGraph {

    /** The fewest examples a shard gets: below that, a shard's fixed per-op costs outweigh the thread. */
    public static final int MIN_SHARD = 16;

    private static final Logger log = LoggerFactory.getLogger(ShardedGraph.class);
    private static final VarHandle LABELS = labelsField();
    private static final AtomicLong SHARDED_STEPS = new AtomicLong();
    private static final ExecutorService SHARD_THREADS = Executors.newCachedThreadPool(new ShardThreads());
    private static final Object MASTER_THREADS_LOCK = new Object();
    private static int stepsSharding;
    private static int masterThreadsBefore;

    /** Shard copies 1..k-1 of this graph (shard 0 runs on this graph itself). */
    private transient List<ComputationGraph> copies;
    /** The regularization term of the score, as last computed. */
    private transient double lastRegularization;
    /** See {@link #l2Roots()}: the parameter array they were laid out for, and the values. */
    private transient INDArray l2RootsFor;
    private transient INDArray l2Roots;
    private transient INDArray l2Scaled;

    public ShardedGraph(ComputationGraphConfiguration configuration) {
        super(configuration);
    }

    /**
     * A sharded graph on {@code net}'s configuration (the same object, with its step counts) and
     * parameter array (shared, not copied), with a copy of its updater state and its listeners.
     */
    public static ShardedGraph of(ComputationGraph net) {
        if (net instanceof ShardedGraph sharded) {
            return sharded;
        }
        ShardedGraph sharded = new ShardedGraph(net.getConfiguration());
        sharded.init(net.params(), false);
        ComputationGraphUpdater updater = net.getUpdater(false);
        INDArray state = updater == null ? null : updater.getStateViewArray();
        if (state != null) {
            sharded.getUpdater().setStateViewArray(state);
        }
        if (net.getListeners() != null) {
            sharded.setListeners(net.getListeners());
        }
        return sharded;
    }

    /** How many shards a minibatch of {@code examples} is cut into on a team of {@code team} threads. */
    public static int shards(long examples, int team) {
        return (int) Math.max(1, Math.min(team, examples / MIN_SHARD));
    }

    @Override
    public void computeGradientAndScore() {
        INDArray[] inputs = getInputs();
        INDArray[] labels = (INDArray[]) LABELS.get(this);
        int threads = NativeThreads.shardThreads();
        int shards = inputs == null || labels == null || hasMasks() ? 1 : shards(inputs[0].size(0), threads);
        if (shards == 1) {
            super.computeGradientAndScore();
            return;
        }
        long examples = inputs[0].size(0);
        long[] bounds = bounds(examples, shards);
        int[] teams = teams(threads, shards);
        List<ComputationGraph> copies = copies(shards - 1);
        List<Future<Double>> running = new ArrayList<>(shards - 1);
        beginSharding(teams[0]);
        try {
            for (int s = 1; s < shards; s++) {
                ComputationGraph copy = copies.get(s - 1);
                INDArray[] in = shard(inputs, bounds[s], bounds[s + 1]);
                INDArray[] out = shard(labels, bounds[s], bounds[s + 1]);
                long seed = Nd4j.getRandom().nextLong();
                int team = teams[s];
                running.add(SHARD_THREADS.submit(() -> {
                    double[] score = new double[1];
                    NativeThreads.runWithTeam(team, () -> {
                        Nd4j.getRandom().setSeed(seed);
                        copy.setInputs(in);
                        copy.setLabels(out);
                        copy.computeGradientAndScore();
                        score[0] = copy.score();
                        copy.clearLayersStates();
                    });
                    return score[0];
                }));
            }
            double[] own = new double[1];
            try {
                super.setInputs(shard(inputs, 0, bounds[1]));
                super.setLabels(shard(labels, 0, bounds[1]));
                NativeThreads.runWithTeam(teams[0], () -> {
                    super.computeGradientAndScore();
                    own[0] = score;
                });
            } finally {
                super.setInputs(inputs);
                super.setLabels(labels);
            }
            // the copies' scores are their losses alone; this graph's adds the regularization term once
            double losses = (own[0] - lastRegularization) * (bounds[1] - bounds[0]);
            List<Double> scores = await(running);
            for (int s = 1; s < shards; s++) {
                flattenedGradients.addi(copies.get(s - 1).getFlattenedGradients());
                losses += scores.get(s - 1) * (bounds[s + 1] - bounds[s]);
            }
            score = losses / examples + lastRegularization;
            SHARDED_STEPS.incrementAndGet();
        } finally {
            awaitQuietly(running);
            endSharding();
        }
    }

    @Override
    protected INDArray[] outputOfLayersDetached(boolean train, FwdPassType fwdPassType, int[] layerIndexes,
                                                INDArray[] features, INDArray[] fMask, INDArray[] lMasks,
                                                boolean clearLayerInputs, boolean detachedInputs,
                                                MemoryWorkspace outputWorkspace) {
        boolean plain = train || fwdPassType != FwdPassType.STANDARD || outputWorkspace != null
                || anyNonNull(fMask) || anyNonNull(lMasks) || features == null
                || !Arrays.equals(layerIndexes, getOutputLayerIndices());
        int threads = NativeThreads.shardThreads();
        int shards = plain ? 1 : shards(features[0].size(0), threads);
        if (shards == 1) {
            return super.outputOfLayersDetached(train, fwdPassType, layerIndexes, features, fMask, lMasks,
                    clearLayerInputs, detachedInputs, outputWorkspace);
        }
        long[] bounds = bounds(features[0].size(0), shards);
        int[] teams = teams(threads, shards);
        List<ComputationGraph> copies = copies(shards - 1);
        List<Future<INDArray[]>> running = new ArrayList<>(shards - 1);
        beginSharding(teams[0]);
        try {
            for (int s = 1; s < shards; s++) {
                ComputationGraph copy = copies.get(s - 1);
                INDArray[] in = shard(features, bounds[s], bounds[s + 1]);
                int team = teams[s];
                running.add(SHARD_THREADS.submit(() -> {
                    INDArray[][] out = new INDArray[1][];
                    NativeThreads.runWithTeam(team, () -> out[0] = copy.output(false, true, in));
                    return out[0];
                }));
            }
            INDArray[][] own = new INDArray[1][];
            INDArray[] first = shard(features, 0, bounds[1]);
            NativeThreads.runWithTeam(teams[0], () -> own[0] = super.outputOfLayersDetached(false,
                    FwdPassType.STANDARD, layerIndexes, first, null, null, clearLayerInputs, detachedInputs, null));
            List<INDArray[]> parts = new ArrayList<>(shards);
            parts.add(own[0]);
            parts.addAll(await(running));
            INDArray[] outputs = new INDArray[own[0].length];
            try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                for (int o = 0; o < outputs.length; o++) {
                    INDArray[] pieces = new INDArray[shards];
                    for (int s = 0; s < shards; s++) {
                        pieces[s] = parts.get(s)[o];
                    }
                    outputs[o] = Nd4j.concat(0, pieces);
                }
            }
            return outputs;
        } finally {
            awaitQuietly(running);
            endSharding();
        }
    }

    @Override
    public ShardedGraph clone() {
        return of(super.clone());
    }

    /**
     * DL4J's regularization term of the score (0.5 x l2 x the sum of squares of each regularized
     * parameter array), as one product and one BLAS dot product over the whole parameter array
     * instead of a libnd4j {@code norm2} per array: 26 ops a step, about 2.6% of a step on one thread.
     * Parameters with anything but a fixed L2 coefficient take DL4J's own sum.
     */
    @Override
    public double calcRegularizationScore(boolean backpropParamsOnly) {
        INDArray roots = l2Roots();
        if (roots == null) {
            lastRegularization = super.calcRegularizationScore(backpropParamsOnly);
            return lastRegularization;
        }
        if (l2Scaled == null || l2Scaled.length() != roots.length()) {
            try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                l2Scaled = Nd4j.createUninitialized(roots.dataType(), roots.shape());
            }
        }
        Nd4j.exec(new MulOp(params(), roots, l2Scaled));
        lastRegularization = 0.5 * Nd4j.getBlasWrapper().dot(l2Scaled, l2Scaled);
        return lastRegularization;
    }

    /**
     * The square root of each parameter's L2 coefficient (0 where it has none), laid out as the
     * parameter array; null where a parameter has any other regularization.
     */
    private INDArray l2Roots() {
        INDArray params = params();
        if (l2RootsFor == params) {
            return l2Roots;
        }
        l2RootsFor = params;
        l2Roots = null;
        INDArray roots;
        try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
            roots = Nd4j.zeros(params.dataType(), params.shape());
        }
        long covered = 0;
        for (Layer layer : getLayers()) {
            if (layer.numParams() == 0) {
                continue;
            }
            if (!(layer.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BaseLayer conf)) {
                return null;
            }
            for (Map.Entry<String, INDArray> entry : layer.paramTable().entrySet()) {
                double l2 = 0;
                for (Regularization r : conf.getRegularizationByParam(entry.getKey())) {
                    if (!(r instanceof L2Regularization l && l.getL2() instanceof FixedSchedule fixed)) {
                        return null;
                    }
                    l2 += fixed.getValue();
                }
                INDArray view = entry.getValue();
                long from = view.offset() - params.offset();
                if (from < 0 || from + view.length() > params.length() || !view.data().sameUnderlyingData(params.data())) {
                    return null;
                }
                roots.get(NDArrayIndex.point(0), NDArrayIndex.interval(from, from + view.length())).assign(Math.sqrt(l2));
                covered += view.length();
            }
        }
        if (covered != params.length()) {
            return null;
        }
        l2Roots = roots;
        return roots;
    }

    /** Training steps computed in shards in this JVM so far, by any graph. */
    public static long shardedSteps() {
        return SHARDED_STEPS.get();
    }

    /** Whether the regularization term is summed in one product ({@link #calcRegularizationScore}). */
    boolean sumsL2InOneProduct() {
        return l2Roots() != null;
    }

    /** Shard copies built so far: 0 until a minibatch was cut into shards. */
    int shardCopies() {
        return copies == null ? 0 : copies.size();
    }

    private boolean hasMasks() {
        return anyNonNull(getInputMaskArrays()) || anyNonNull(getLabelMaskArrays());
    }

    private static boolean anyNonNull(INDArray[] arrays) {
        if (arrays != null) {
            for (INDArray a : arrays) {
                if (a != null) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The shard copies, built on first use and again whenever this graph's parameter array is no
     * longer the one they share (after {@code init} with another array).
     */
    private List<ComputationGraph> copies(int count) {
        if (copies == null || copies.size() < count || copies.get(0).params() != params()) {
            List<ComputationGraph> built = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                ComputationGraph copy = new ShardCopy(getConfiguration().clone());
                copy.init(params(), false);
                built.add(copy);
            }
            copies = built;
            log.info("Minibatches cut into up to {} shards, each on a thread of its own, on copies of the network"
                    + " that share its parameters", count + 1);
        }
        return copies;
    }

    /** Examples {@code [bounds[s], bounds[s+1])} go to shard s; the first shards take the remainder. */
    static long[] bounds(long examples, int shards) {
        long[] bounds = new long[shards + 1];
        for (int s = 0; s < shards; s++) {
            bounds[s + 1] = bounds[s] + examples / shards + (s < examples % shards ? 1 : 0);
        }
        return bounds;
    }

    /** The team's threads dealt out to the shards, the first shards taking the remainder. */
    static int[] teams(int team, int shards) {
        int[] teams = new int[shards];
        for (int s = 0; s < shards; s++) {
            teams[s] = Math.max(1, team / shards + (s < team % shards ? 1 : 0));
        }
        return teams;
    }

    private static INDArray[] shard(INDArray[] arrays, long from, long to) {
        INDArray[] shard = new INDArray[arrays.length];
        for (int i = 0; i < arrays.length; i++) {
            INDArray a = arrays[i];
            INDArrayIndex[] index = new INDArrayIndex[a.rank()];
            index[0] = NDArrayIndex.interval(from, to);
            for (int d = 1; d < index.length; d++) {
                index[d] = NDArrayIndex.all();
            }
            shard[i] = a.get(index);
        }
        return shard;
    }

    /** The shards' results in order, once all have ended; the first failure is rethrown as it was. */
    private static <T> List<T> await(List<Future<T>> running) {
        List<T> results = new ArrayList<>(running.size());
        Throwable failure = null;
        for (Future<T> f : running) {
            try {
                results.add(f.get());
            } catch (ExecutionException e) {
                failure = failure == null ? e.getCause() : failure;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = failure == null ? e : failure;
            }
        }
        if (failure instanceof RuntimeException r) {
            throw r;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException("a shard of the minibatch failed", failure);
        }
        return results;
    }

    /** Waits for every shard to end, whatever it ended in (a failure is already on its way up). */
    private static void awaitQuietly(List<? extends Future<?>> running) {
        boolean interrupted = false;
        for (Future<?> f : running) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (ExecutionException e) {
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * libnd4j's elementwise ops spread over {@code threads} threads while any graph is sharding a
     * minibatch (each shard thread is a team of its own), the setting before restored after the last.
     */
    private static void beginSharding(int threads) {
        synchronized (MASTER_THREADS_LOCK) {
            if (stepsSharding++ == 0) {
                masterThreadsBefore = NativeThreads.masterThreads(threads);
            }
        }
    }

    private static void endSharding() {
        synchronized (MASTER_THREADS_LOCK) {
            if (--stepsSharding == 0) {
                NativeThreads.masterThreads(masterThreadsBefore);
            }
        }
    }

    private static VarHandle labelsField() {
        try {
            return MethodHandles.privateLookupIn(ComputationGraph.class, MethodHandles.lookup())
                    .findVarHandle(ComputationGraph.class, "labels", INDArray[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(new IllegalStateException("this DL4J's ComputationGraph has no"
                    + " INDArray[] 'labels' (written against 1.0.0-M2): revisit ShardedGraph", e));
        }
    }

    /** A shard's copy: its score is the shard's loss alone, the graph adds the regularization term once. */
    private static final class ShardCopy extends ComputationGraph {
        ShardCopy(ComputationGraphConfiguration configuration) {
            super(configuration);
        }

        @Override
        public double calcRegularizationScore(boolean backpropParamsOnly) {
            return 0;
        }
    }

    /** Daemon threads, so that a JVM whose work is done does not wait for them. */
    private static final class ShardThreads implements ThreadFactory {
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(Runnable task) {
            Thread t = new Thread(task, "minibatch-shard-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        }
    }
}
