package org.sqzspark.job.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.sqzspark.data.DataSetEncoder;
import org.sqzspark.job.LocalHdfs;
import org.sqzspark.job.StandaloneCluster;
import org.sqzspark.job.SyntheticCifar;
import org.sqzspark.job.TestConfigs;
import org.sqzspark.job.cli.Main;
import org.sqzspark.job.results.ResultStore;
import org.sqzspark.job.train.TrainConfig;
import org.sqzspark.job.train.TrainingData;
import org.sqzspark.job.train.TrainingMasterKind;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job as users run it on a cluster: HDFS (a NameNode and a DataNode) holds the data, a Spark
 * standalone master and two one-core workers run as processes of their own, and the job jar goes
 * in through Spark's submit machinery, reads hdfs:// and writes results and model back to HDFS.
 */
class StandaloneClusterIT {

    private static final Path JAR = Path.of(System.getProperty("user.dir"), "target", "squeezenet-spark-job.jar");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static MiniDFSCluster hdfs;
    static StandaloneCluster spark;
    static Path localData;
    static String hdfsRoot;

    @BeforeAll
    static void start() throws Exception {
        hdfs = LocalHdfs.start(tmp.resolve("hdfs"));
        hdfsRoot = LocalHdfs.root(hdfs);

        localData = SyntheticCifar.write(tmp.resolve("cifar"), 200, 40, 11);
        FileSystem fs = hdfs.getFileSystem();
        fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(localData.toUri()),
                new org.apache.hadoop.fs.Path(hdfsRoot + "/data/cifar10"));

        spark = StandaloneCluster.start(JAR, tmp.resolve("spark"), 2, 1, "3g");
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.close();
        }
        if (hdfs != null) {
            hdfs.shutdown(true);
        }
    }

    /**
     * Two one-core executors, event logs into the test's HDFS (spark-conf names the Pis'); the rest
     * from spark-conf/spark-defaults.conf.
     */
    private static List<String> sparkArgs() throws IOException {
        return List.of("--executor-cores", "1", "--total-executor-cores", "2",
                "--conf", "spark.eventLog.dir=" + hdfsRoot + "/spark-events",
                "--conf", "spark.executor.instances=2",
                "--conf", "spark.executorEnv.OMP_NUM_THREADS=1",
                "--conf", "spark.sqzspark.aeron.port=" + StandaloneCluster.freeUdpPorts(8));
    }

    private List<String> trainArgs(String out, boolean resume) {
        List<String> args = new ArrayList<>(List.of("train", "--data", hdfsRoot + "/data/cifar10", "--out", out,
                "--partitions", "2", "--training-master", "shared", "--epochs", String.valueOf(TestConfigs.EPOCHS),
                "--batch", String.valueOf(TestConfigs.BATCH), "--loss-sample", "200"));
        args.addAll(TestConfigs.RECIPE_OPTIONS);
        if (resume) {
            args.add("--resume");
        }
        return args;
    }

    private static JsonNode runJson(FileSystem fs, String out) throws IOException {
        org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(out);
        if (!fs.exists(dir)) {
            return null;
        }
        for (FileStatus f : fs.listStatus(dir)) {
            String n = f.getPath().getName();
            if (n.startsWith("run-") && n.endsWith(".json")) {
                try (InputStream in = fs.open(f.getPath())) {
                    return JSON.readTree(in);
                }
            }
        }
        return null;
    }

    @Test
    void aLostExecutorStopsGradientSharingAndResumeCompletesTheRunWithEveryEpochOnce() throws Exception {
        String out = hdfsRoot + "/results/lost-executor";
        FileSystem fs = hdfs.getFileSystem();
        Path log = tmp.resolve("lost-executor-driver.log");
        Process driver = spark.launchDriver(sparkArgs(), trainArgs(out, false), log);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        JsonNode run = runJson(fs, out);
        while (run == null || run.path("epochs").size() < 1) {
            assertTrue(driver.isAlive(), "the run ended before an executor could be killed:" + spark.diagnostics(log));
            assertTrue(System.nanoTime() < deadline, "no epoch finished:" + spark.diagnostics(log));
            Thread.sleep(200);
            run = runJson(fs, out);
        }
        List<ProcessHandle> executors = spark.executors();
        assertEquals(2, executors.size(), "executor JVMs: " + executors);
        executors.get(0).destroyForcibly();
        assertTrue(driver.waitFor(10, TimeUnit.MINUTES), "the driver did not end after losing an executor:"
                + spark.diagnostics(log));
        int exit = driver.exitValue();
        String driverLog = Files.readString(log);
        // gradient sharing cannot take in a replacement executor mid-epoch: the run stops, resumable
        assertEquals(Main.EXIT_INTERRUPTED, exit, "the driver did not stop as resumable:" + spark.diagnostics(log));
        assertTrue(driverLog.contains("was lost during epoch") && driverLog.contains("--resume"), driverLog);
        String error = driverLog.lines().filter(l -> l.startsWith("error: ")).findFirst().orElse("");
        assertTrue(error.contains("was lost during epoch") && !error.contains("Exception"),
                "one plain error line: " + error);
        assertFalse(driverLog.contains("Run failed"), "not reported as an unexpected failure: " + driverLog);
        Path resumeLog = tmp.resolve("resume-driver.log");
        assertEquals(0, spark.submit(sparkArgs(), trainArgs(out, true), resumeLog, 15),
                "--resume failed:" + spark.diagnostics(resumeLog));
        assertTrue(Files.readString(resumeLog).contains("Resuming run " + run.path("runId").asText()),
                Files.readString(resumeLog));
        JsonNode finished = runJson(fs, out);
        assertEquals(run.path("runId").asText(), finished.path("runId").asText());
        assertTrue(finished.path("completed").asBoolean(), finished.toString());
        List<Integer> epochs = new ArrayList<>();
        finished.path("epochs").forEach(e -> epochs.add(e.path("epoch").asInt()));
        List<Integer> expected = new ArrayList<>();
        for (int e = 1; e <= TestConfigs.EPOCHS; e++) {
            expected.add(e);
        }
        assertEquals(expected, epochs, "every epoch recorded once");
        String csv;
        try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(out, ResultStore.CSV_NAME))) {
            csv = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertEquals(1 + TestConfigs.EPOCHS, csv.strip().split("\n").length, csv);
        double accuracy = finished.path("epochs").get(TestConfigs.EPOCHS - 1).path("testAccuracy").asDouble();
        assertTrue(accuracy >= 0.9, "the resumed run reached only " + accuracy + ": " + finished.path("epochs"));
        System.out.printf("lost executor: the run stopped with exit 4, --resume completed it; test accuracy per"
                + " epoch %s%n", finished.path("epochs").findValues("testAccuracy"));
    }

    @Test
    void gradientSharingOverTwoExecutorsLearnsFromHdfsAndWritesToHdfs() throws Exception {
        String out = hdfsRoot + "/results/cluster";
        Path log = tmp.resolve("driver.log");
        int exit = spark.submit(sparkArgs(), trainArgs(out, false), log, 15);
        assertEquals(0, exit, "the submitted job failed:" + spark.diagnostics(log));

        FileSystem fs = hdfs.getFileSystem();
        List<String> names = new ArrayList<>();
        for (FileStatus f : fs.listStatus(new org.apache.hadoop.fs.Path(out))) {
            names.add(f.getPath().getName());
        }
        String json = names.stream().filter(n -> n.startsWith("run-") && n.endsWith(".json")).findFirst()
                .orElseThrow(() -> new AssertionError("no run JSON in " + out + ": " + names));
        String model = json.replace(".json", ".model.zip");
        assertTrue(names.contains(model) && names.contains(ResultStore.CSV_NAME), "results in HDFS: " + names);
        // the driver created the event-log folder in HDFS; a finished application's rolled log has a
        // status file without .inprogress
        List<String> statuses = new ArrayList<>();
        for (FileStatus app : fs.listStatus(new org.apache.hadoop.fs.Path(hdfsRoot + "/spark-events"))) {
            for (FileStatus f : fs.listStatus(app.getPath())) {
                statuses.add(app.getPath().getName() + "/" + f.getPath().getName());
            }
        }
        assertTrue(statuses.stream().anyMatch(n -> n.matches("eventlog_v2_app-[^/]+/appstatus_app-[-0-9]+")),
                "a completed application's event log in HDFS: " + statuses);

        JsonNode run;
        try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(out, json))) {
            run = JSON.readTree(in);
        }
        assertEquals(2, run.path("layout").path("executors").asInt(), run.toString());
        assertEquals(1, run.path("layout").path("workersPerExecutor").asInt(), run.toString());
        assertTrue(run.path("environment").path("master").asText().startsWith("spark://"), run.toString());

        // both executor JVMs trained: per-executor task counts from Spark's scheduler events
        JsonNode tasks = run.path("trainingTasks");
        assertEquals(2, tasks.size(), "executors that ran training tasks: " + tasks);
        for (JsonNode executor : tasks) {
            assertTrue(executor.path("tasks").asInt() >= TestConfigs.EPOCHS,
                    "an executor ran fewer training tasks than epochs: " + tasks);
            assertEquals(StandaloneCluster.HOST, executor.path("host").asText(), tasks.toString());
        }

        JsonNode epochs = run.path("epochs");
        assertEquals(TestConfigs.EPOCHS, epochs.size(), run.toString());
        double accuracy = epochs.get(epochs.size() - 1).path("testAccuracy").asDouble();
        assertTrue(accuracy >= 0.9, "gradient sharing over two executors reached only " + accuracy + ": " + epochs);

        String csv;
        try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(out, ResultStore.CSV_NAME))) {
            csv = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertEquals(1 + TestConfigs.EPOCHS, csv.strip().split("\n").length, csv);

        // the model in HDFS loads and predicts the test images as the job evaluated them
        ComputationGraph net;
        try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(out, model))) {
            net = ModelSerializer.restoreComputationGraph(in, false);
        }
        TrainConfig local = TestConfigs.separable(localData, tmp.resolve("unused"), 2, TrainingMasterKind.SHARED);
        TrainingData data = TrainingData.load(local, new Configuration());
        DataSet test = DataSetEncoder.encode(data.test(), 0, data.test().size(), data.stats());
        INDArray predicted = net.outputSingle(test.getFeatures()).argMax(1);
        INDArray actual = test.getLabels().argMax(1);
        double modelAccuracy = predicted.eq(actual).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
                .meanNumber().doubleValue();
        assertEquals(accuracy, modelAccuracy, 1e-9, "the saved model predicts otherwise than the run recorded");
        System.out.printf("standalone cluster: training tasks %s, test accuracy per epoch %s, %.0f s in all%n",
                tasks, epochs.findValues("testAccuracy"), run.path("totalSeconds").asDouble());
    }
}
