package org.sqzspark.job.upstream;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

    @Test
    void aTaskThreadHandsItsOpenMpWorkersBackWhenTheTaskEnds() throws InterruptedException {
        List<Integer> during = sc.parallelize(List.of(1, 2), 2).map(i -> {
            NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(3);
            INDArray a = Nd4j.rand(DataType.FLOAT, 256, 256);
            a.mmul(a);
            return threadsNamed(TASK_THREADS) - javaTaskThreads();
        }).collect();
        assumeTrue(during.stream().anyMatch(workers -> workers > 0),
                "this platform's matrix product runs no OpenMP team");
        long deadline = System.nanoTime() + 5_000_000_000L;
        int workers = threadsNamed(TASK_THREADS) - javaTaskThreads();
        while (workers > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
            workers = threadsNamed(TASK_THREADS) - javaTaskThreads();
        }
        assertEquals(0, workers, "OpenMP workers left behind by tasks that ended");
    }

    private static int javaTaskThreads() {
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("Executor task launch worker"))
                .count();
    }

    private static int threadsNamed(String name) {
        int count = 0;
        String[] tasks = new File("/proc/self/task").list();
        for (String task : tasks == null ? new String[0] : tasks) {
            try {
                if (Files.readString(Path.of("/proc/self/task", task, "comm")).trim().equals(name)) {
                    count++;
                }
            } catch (IOException e) {
                // the thread ended while listed
            }
        }
        return count;
    }
}
