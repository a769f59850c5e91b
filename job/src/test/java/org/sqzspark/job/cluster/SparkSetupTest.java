package org.sqzspark.job.cluster;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SparkSetupTest {

    @Test
    void aFiveMegabyteTaskResultGoesToTheDriverDirectlyUnlessTheUserSetsOtherwise() {
        assertEquals(List.of(false), resultsFetchedFromTheBlockManager(SparkSetup.conf("local[1]")));
        assertEquals(List.of(true), resultsFetchedFromTheBlockManager(
                SparkSetup.conf("local[1]").set("spark.task.maxDirectResultSize", "1m")));
    }

    /** For each task of a job returning 5.9 MB (Adam's state is that size), whether the driver fetched it. */
    private static List<Boolean> resultsFetchedFromTheBlockManager(SparkConf conf) {
        List<Boolean> fetched = new CopyOnWriteArrayList<>();
        try (JavaSparkContext sc = new JavaSparkContext(conf.setAppName("SparkSetupTest")
                .set("spark.ui.enabled", "false"))) {
            sc.sc().addSparkListener(new SparkListener() {
                @Override
                public void onTaskEnd(SparkListenerTaskEnd end) {
                    // set when the driver starts fetching an indirect result from the block manager
                    fetched.add(end.taskInfo().gettingResult() || end.taskInfo().gettingResultTime() > 0);
                }
            });
            byte[] result = sc.parallelize(List.of(1), 1).map(i -> new byte[5_900_000]).first();
            assertEquals(5_900_000, result.length);
            // the listener bus delivers asynchronously
            long deadline = System.currentTimeMillis() + 10_000;
            while (fetched.isEmpty() && System.currentTimeMillis() < deadline) {
                Thread.onSpinWait();
            }
        }
        return fetched;
    }
}
