package org.sqzspark.model;

import com.sun.jna.Function;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOps;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * The OpenMP team size of the threads that run this network. ND4J 1.0.0-M2 honours
 * {@code OMP_NUM_THREADS} when it starts, then sets the team size to 4 regardless (deeplearning4j
 * issue #9668). OpenMP keeps that setting per thread, so it holds for the thread that started ND4J,
 * and the value came back on that thread after being corrected once. On 2 cores that thread ran
 * oneDNN's matrix products and pooling on teams of 4: the process used 1.1 of its 2 cores, and about
 * 29,000 context switches a second went to OpenMP barriers, with {@code OMP_NUM_THREADS} at 1 or 2.
 * {@link #useConfiguredTeam()} checks the calling thread's team against {@link #teamSize()} and
 * corrects it; every layer of this network calls it before its ops.
 *
 * <p>libnd4j also runs elementwise ops over up to {@code SD_MASTER_THREADS} threads (default: all
 * cores); {@link #masterThreads(int)} sets that for training through Spark.
 *
 * <p>Every thread that has run a parallel op keeps its team's workers, and while the process has
 * more of them than cores, libgomp cuts the spinning at each barrier to about 100 iterations, so a
 * team waits for its slowest thread asleep in the kernel. A Spark JVM collects such threads: the
 * driver's, and the task threads of earlier epochs and evaluations. {@link #releaseTeam()} lets a
 * thread that is done hand its workers back. {@link #timerSlack(long)} sets how late a thread's
 * timed sleeps may wake, which threads it starts inherit.
 */
public final class NativeThreads {

    /** The environment variable that overrides the master-thread setting (read by libnd4j at start). */
    public static final String MASTER_THREADS_ENV = "SD_MASTER_THREADS";
    /** OpenMP's team size variable, read by ND4J and by the OpenMP runtime. */
    public static final String OMP_THREADS_ENV = "OMP_NUM_THREADS";

    /** OpenMP 5.0's {@code omp_pause_soft}: release resources that the next parallel region recreates. */
    private static final int OMP_PAUSE_SOFT = 1;
    private static final int PR_SET_TIMERSLACK = 29;
    private static final int PR_GET_TIMERSLACK = 30;

    /** {@value #OMP_THREADS_ENV} as a positive number, else 0 (OpenMP ignores anything else too). */
    private static final int CONFIGURED_TEAM = parseTeam(System.getenv(OMP_THREADS_ENV));
    /** Team size for replicas sharing this JVM's cores; 0: none set. */
    private static volatile int sharedTeam;
    /** Replicas training at once in this JVM, as {@link #shareProcessors(int)} was last told; 0: none set. */
    private static volatile int replicasSharing;
    /** The team of a thread running one shard of a minibatch ({@link ShardedGraph}); null: none. */
    private static final ThreadLocal<Integer> THREAD_TEAM = new ThreadLocal<>();

    private NativeThreads() {
    }

    /** Sets the calling thread's OpenMP team size to {@link #teamSize()} if it is not that already. */
    public static void useConfiguredTeam() {
        int wanted = teamSize();
        // ND4J's backend must load first: NativeOpsHolder reads its configuration
        Nd4j.getExecutioner();
        NativeOps ops = NativeOpsHolder.getInstance().getDeviceNativeOps();
        if (ops.ompGetMaxThreads() != wanted) {
            ops.setOmpNumThreads(wanted);
        }
    }

    /**
     * Sets how many threads libnd4j may spread one elementwise op over, unless
     * {@value #MASTER_THREADS_ENV} is set in the environment (libnd4j reads it at start); returns
     * the setting before, to restore it.
     */
    public static int masterThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("master threads must be at least 1, found " + threads);
        }
        int before = Nd4j.getEnvironment().maxMasterThreads();
        if (System.getenv(MASTER_THREADS_ENV) == null) {
            Nd4j.getEnvironment().setMaxMasterThreads(threads);
        }
        return before;
    }

    /**
     * Divides this JVM's processors among {@code replicas} copies of the network training at once
     * in it, each on a thread of its own, unless {@value #OMP_THREADS_ENV} gives the team of each;
     * 0 undoes it. Without this, each of P replicas would run teams of all the cores.
     */
    public static void shareProcessors(int replicas) {
        if (replicas < 0) {
            throw new IllegalArgumentException("replicas must be at least 0, found " + replicas);
        }
        replicasSharing = replicas;
        sharedTeam = replicas == 0 || CONFIGURED_TEAM > 0 ? 0
                : Math.max(1, Runtime.getRuntime().availableProcessors() / replicas);
    }

    /**
     * How many threads one replica may spread a minibatch's shards over ({@link ShardedGraph}): its
     * {@link #teamSize()}, but no more than its share of the processors when replicas share this
     * JVM ({@link #shareProcessors(int)}), even where {@value #OMP_THREADS_ENV} gives each a larger
     * team: shards add threads, where a team only widens the ops.
     */
    public static int shardThreads() {
        int team = teamSize();
        int replicas = replicasSharing;
        return replicas > 1 && THREAD_TEAM.get() == null
                ? Math.max(1, Math.min(team, Runtime.getRuntime().availableProcessors() / replicas)) : team;
    }

    /**
     * Runs {@code task} on the calling thread with {@link #teamSize()} at {@code team} there, as a
     * thread running one shard of a minibatch does; the thread's team before is restored after.
     */
    public static void runWithTeam(int team, Runnable task) {
        if (team < 1) {
            throw new IllegalArgumentException("team must be at least 1, found " + team);
        }
        Integer before = THREAD_TEAM.get();
        THREAD_TEAM.set(team);
        try {
            task.run();
        } finally {
            if (before == null) {
                THREAD_TEAM.remove();
            } else {
                THREAD_TEAM.set(before);
            }
        }
    }

    /**
     * The team size of a thread running this network: inside {@link #runWithTeam}, the team given
     * there; else {@value #OMP_THREADS_ENV} when it holds a positive number; else the share set by
     * {@link #shareProcessors(int)}; else the available processors.
     */
    public static int teamSize() {
        Integer own = THREAD_TEAM.get();
        if (own != null) {
            return own;
        }
        if (CONFIGURED_TEAM > 0) {
            return CONFIGURED_TEAM;
        }
        int shared = sharedTeam;
        return shared > 0 ? shared : Runtime.getRuntime().availableProcessors();
    }

    /**
     * Ends the calling thread's OpenMP workers ({@code omp_pause_resource_all}); its next parallel
     * op starts them again. Returns false where the OpenMP runtime has no such call.
     */
    public static boolean releaseTeam() {
        Function pause = Calls.PAUSE;
        return pause != null && pause.invokeInt(new Object[] {OMP_PAUSE_SOFT}) == 0;
    }

    /**
     * Sets the calling thread's timer slack (Linux {@code PR_SET_TIMERSLACK}): how much later than
     * asked its timed sleeps may end, so that the kernel can wake it together with other timers.
     * Threads inherit the value of the thread that starts them. Returns the value before, or -1
     * where it cannot be set.
     */
    public static long timerSlack(long nanos) {
        if (nanos < 1) {
            throw new IllegalArgumentException("timer slack must be at least 1 ns, found " + nanos);
        }
        Function prctl = Calls.PRCTL;
        if (prctl == null) {
            return -1;
        }
        long before = prctl.invokeInt(new Object[] {PR_GET_TIMERSLACK, 0L, 0L, 0L, 0L});
        if (before < 0 || prctl.invokeInt(new Object[] {PR_SET_TIMERSLACK, nanos, 0L, 0L, 0L}) != 0) {
            return -1;
        }
        return before;
    }

    /** Native functions looked up once, among the libraries loaded (ND4J's OpenMP runtime, libc); null where absent. */
    private static final class Calls {
        static final Function PAUSE = lookup("omp_pause_resource_all");
        static final Function PRCTL = lookup("prctl");

        private static Function lookup(String symbol) {
            try {
                // ND4J's backend loads libnd4j and the OpenMP runtime it was built with
                Nd4j.getExecutioner();
                Pointer address = Loader.addressof(symbol);
                return address == null || address.isNull() ? null
                        : Function.getFunction(new com.sun.jna.Pointer(address.address()));
            } catch (LinkageError | RuntimeException e) {
                return null;
            }
        }
    }

    private static int parseTeam(String value) {
        if (value != null) {
            try {
                return Math.max(0, Integer.parseInt(value.trim()));
            } catch (NumberFormatException e) {
                return 0;
            }
        }
        return 0;
    }
}
