package org.sqzspark.job.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SparkSetupTest {

    @TempDir
    Path tmp;

    @Test
    void anEmbeddedRunLogsCompressedEventsIntoTheSparkEventsFolderOfItsResultsWhichExistsBeforeSparkStarts() {
        SparkConf conf = SparkSetup.conf("local[1]");
        String out = tmp.resolve("results").toUri().toString();
        SparkSetup.eventLog(conf, out, new Configuration());
        assertEquals("true", conf.get("spark.eventLog.enabled"));
        assertEquals("true", conf.get("spark.eventLog.compress"));
        assertEquals(out.replaceAll("/$", "") + "/spark-events", conf.get("spark.eventLog.dir"));
        assertTrue(Files.isDirectory(tmp.resolve("results").resolve("spark-events")));
    }

    @Test
    void theUsersEventLogSettingsWinOverTheEmbeddedDefaults() {
        SparkConf off = SparkSetup.conf("local[1]").set("spark.eventLog.enabled", "false");
        SparkSetup.eventLog(off, tmp.resolve("off").toString(), new Configuration());
        assertFalse(Files.exists(tmp.resolve("off")), "no event-log folder when event logging is off");

        Path elsewhere = tmp.resolve("my-events");
        SparkConf dir = SparkSetup.conf("local[1]").set("spark.eventLog.dir", elsewhere.toString());
        SparkSetup.eventLog(dir, tmp.resolve("results").toString(), new Configuration());
        assertEquals(elsewhere.toString(), dir.get("spark.eventLog.dir"));
        assertTrue(Files.isDirectory(elsewhere), "the user's folder is created");
        assertFalse(Files.exists(tmp.resolve("results")));
    }

    @Test
    void aClusterRunLeavesEventLoggingToSparkConfAndCreatesTheFolderItNames() {
        SparkConf plain = SparkSetup.conf("spark://head:7077");
        SparkSetup.eventLog(plain, tmp.resolve("results").toString(), new Configuration());
        assertFalse(plain.contains("spark.eventLog.enabled"));
        assertFalse(Files.exists(tmp.resolve("results")));

        Path events = tmp.resolve("cluster-events");
        SparkConf logged = SparkSetup.conf("spark://head:7077").set("spark.eventLog.enabled", "true")
                .set("spark.eventLog.dir", events.toUri().toString());
        SparkSetup.eventLog(logged, tmp.resolve("results").toString(), new Configuration());
        assertTrue(Files.isDirectory(events));
    }

    @Test
    void anEventLogFolderThatCannotBeCreatedIsRefusedNamingItAndHowToTurnLoggingOff() throws Exception {
        Path file = Files.writeString(tmp.resolve("results"), "not a folder");
        SparkConf conf = SparkSetup.conf("local[1]");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SparkSetup.eventLog(conf, file.toString(), new Configuration()));
        assertTrue(e.getMessage().startsWith("cannot create the event-log folder " + file + "/spark-events"
                + " (spark.eventLog.dir)"), e.getMessage());
        assertTrue(e.getMessage().contains("spark.eventLog.enabled=false"), e.getMessage());
    }

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
