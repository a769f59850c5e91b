package org.sqzspark.job.upstream;

import org.apache.spark.TaskFailedReason;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.SparkPlugin;
import org.sqzspark.job.cluster.SparkSetup;
import org.sqzspark.model.NativeThreads;

/**
 * Keeps Spark's task threads from slowing the one that trains (registered in {@code spark.plugins}
 * by {@link SparkSetup}).
 *
 * <ul>
 *   <li>Each task thread gets a timer slack of {@value #TIMER_SLACK_NS} ns, which the threads it
 *   starts inherit. Gradient sharing's transport (DL4J's {@code AeronUdpTransport}, started from the
 *   first training task of an executor, and from the driver) polls for messages in a loop that
 *   sleeps 1 µs at a time: with Linux's default 50 µs slack that thread woke about 18,000 times a
 *   second and took about 24% of a core, preempting the training thread's OpenMP team.</li>
 *   <li>libnd4j spreads elementwise ops over as many threads as a replica's OpenMP team
 *   ({@link NativeThreads#teamSize()}), unless {@code SD_MASTER_THREADS} says otherwise: with one
 *   thread, as executors had before, a step of the network at P=1 and two threads took 18.7-19.8 ms
 *   (median) against 16.8-16.9 with two.</li>
 *   <li>A task thread hands its OpenMP workers back when the task ends
 *   ({@link NativeThreads#releaseTeam()}): idle task threads of earlier epochs otherwise keep theirs,
 *   and once the process has more OpenMP threads than cores libgomp stops spinning at barriers.</li>
 * </ul>
 *
 * <p>These are tunings of libnd4j and DL4J's transport on a few cores, not defects: each can go
 * when the bench (docs/performance.md) no longer shows the step it saves, for example when DL4J's
 * Aeron transport stops polling in 1 µs sleeps.
 */
public final class NativeThreadsPlugin implements SparkPlugin {

    /** Timer slack of task threads and the driver's training thread: wakes timed sleeps within 1 ms. */
    public static final long TIMER_SLACK_NS = 1_000_000;

    @Override
    public DriverPlugin driverPlugin() {
        return null;
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new ExecutorPlugin() {
            @Override
            public void onTaskStart() {
                NativeThreads.timerSlack(TIMER_SLACK_NS);
                NativeThreads.masterThreads(NativeThreads.teamSize());
            }

            @Override
            public void onTaskSucceeded() {
                NativeThreads.releaseTeam();
            }

            @Override
            public void onTaskFailed(TaskFailedReason failureReason) {
                NativeThreads.releaseTeam();
            }
        };
    }
}
