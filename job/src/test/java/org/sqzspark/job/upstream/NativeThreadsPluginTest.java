package org.sqzspark.job.upstream;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.sqzspark.job.cluster.SparkSetup;
import org.sqzspark.model.NativeThreads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class NativeThreadsPluginTest {

    /** The kernel's name of Spark's task threads, and of the OpenMP workers they start: 15 characters. */
    private static final String TASK_THREADS = "Executor task l";

    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        // libnd4j starts its own threads on first use: here, not in a task, whose name they would take
        Nd4j.rand(DataType.FLOAT, 64, 64).mmul(Nd4j.rand(DataType.FLOAT, 64, 64));
        sc = new JavaSparkContext(SparkSetup.conf("local[2]").setAppName("NativeThreadsPluginTest"));
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    @Test
    void theConfigurationAddsTheJobsPluginsOnceAndKeepsOthers() {
        String other = "com.example.OtherPlugin";
        String ours = String.join(",", SparkSetup.JOB_PLUGINS);
        SparkConf conf = SparkSetup.conf("local[1]").set(SparkSetup.PLUGINS, other);
        System.setProperty(SparkSetup.PLUGINS, other + ", " + NativeThreadsPlugin.class.getName());
        try {
            assertEquals(other + "," + ours, SparkSetup.conf("local[1]").get(SparkSetup.PLUGINS));
            System.setProperty(SparkSetup.PLUGINS, other);
            assertEquals(other + "," + ours, SparkSetup.conf("local[1]").get(SparkSetup.PLUGINS));
        } finally {
            System.clearProperty(SparkSetup.PLUGINS);
        }
        assertEquals(other, conf.get(SparkSetup.PLUGINS), "a configuration set afterwards is the caller's");
        assertEquals(ours, SparkSetup.conf("local[1]").get(SparkSetup.PLUGINS));
    }

    @Test
    void everyTaskRunsWithTheWiderTimerSlack() {
        List<Long> slack = sc.parallelize(List.of(1, 2, 3, 4), 4)
                .map(i -> NativeThreads.timerSlack(NativeThreadsPlugin.TIMER_SLACK_NS))
                .collect();
        assertEquals(List.of(NativeThreadsPlugin.TIMER_SLACK_NS, NativeThreadsPlugin.TIMER_SLACK_NS,
                NativeThreadsPlugin.TIMER_SLACK_NS, NativeThreadsPlugin.TIMER_SLACK_NS), slack);
    }

    @Test
    void everyTaskSpreadsElementwiseOpsOverTheReplicasTeam() {
        assumeTrue(System.getenv(NativeThreads.MASTER_THREADS_ENV) == null, "SD_MASTER_THREADS is set");
        assumeTrue(NativeThreads.teamSize() > 1, "a team of one thread");
        int before = NativeThreads.masterThreads(1);
        try {
            List<Integer> master = sc.parallelize(List.of(1, 2), 2)
                    .map(i -> Nd4j.getEnvironment().maxMasterThreads())
                    .collect();
            assertEquals(List.of(NativeThreads.teamSize(), NativeThreads.teamSize()), master);
        } finally {
            NativeThreads.masterThreads(before);
        }
    }

    /**
     * Follows the threads by their kernel ids: the OpenMP workers are the threads named after a task
     * thread that appeared while the tasks ran and are no task thread. Threads of that name from
     * earlier tests in this JVM are left out: libnd4j starts its own pool once per process, named
     * after the thread that first used it, a task thread if an earlier test used ND4J first in a task.
     */
    @Test
    void aTaskThreadHandsItsOpenMpWorkersBackWhenTheTaskEnds() throws InterruptedException {
        Set<String> before = threadIdsNamed(TASK_THREADS);
        List<List<Set<String>>> seen = sc.parallelize(List.of(1, 2), 2).map(i -> {
            NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(3);
            INDArray a = Nd4j.rand(DataType.FLOAT, 256, 256);
            a.mmul(a);
            String self = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
            return List.of(Set.of(self), threadIdsNamed(TASK_THREADS));
        }).collect();
        Set<String> workers = new TreeSet<>();
        seen.forEach(task -> workers.addAll(task.get(1)));
        workers.removeAll(before);
        seen.forEach(task -> workers.removeAll(task.get(0)));
        assumeTrue(!workers.isEmpty(), "this platform's matrix product runs no OpenMP team");
        long deadline = System.nanoTime() + 5_000_000_000L;
        workers.retainAll(threadIdsNamed(TASK_THREADS));
        while (!workers.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
            workers.retainAll(threadIdsNamed(TASK_THREADS));
        }
        assertEquals(Set.of(), workers, "OpenMP workers left behind by tasks that ended");
    }

    /** Kernel ids of this process's threads named {@code name}. */
    private static Set<String> threadIdsNamed(String name) {
        Set<String> ids = new TreeSet<>();
        String[] tasks = new File("/proc/self/task").list();
        for (String task : tasks == null ? new String[0] : tasks) {
            try {
                if (Files.readString(Path.of("/proc/self/task", task, "comm")).trim().equals(name)) {
                    ids.add(task);
                }
            } catch (IOException e) {
                // the thread ended while listed
            }
        }
        return ids;
    }
}
