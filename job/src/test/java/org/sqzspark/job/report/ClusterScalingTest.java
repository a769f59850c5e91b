package org.sqzspark.job.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterScalingTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int IMAGES = 2560;

    @TempDir
    Path tmp;

    /**
     * A completed cluster run as the job writes it: two epochs, the second at {@code stepSeconds} a
     * step, every node sending and receiving the given bytes per step, the driver the sum of them.
     */
    static ObjectNode run(String master, int nodes, double linkMbit, double stepSeconds, double sent, double received) {
        int steps = (IMAGES / nodes + 31) / 32;
        ObjectNode root = JSON.createObjectNode();
        root.put("runId", master + "-" + nodes + "-" + linkMbit).put("startedAt", "2026-12-05T08:00:00Z")
                .put("completed", true).put("trainImages", IMAGES).put("testImages", 100).put("stepsPerEpoch", steps);
        ObjectNode config = root.putObject("config");
        config.put("partitions", nodes).put("batchPerReplica", 32).put("trainingMaster", master.toUpperCase())
                .put("epochs", 2);
        config.putObject("model").put("learningRate", 0.002).put("optimizer", "NESTEROV").put("momentum", 0.9);
        root.putObject("environment").put("master", "spark://10.231.0.1:7077").put("executors", nodes)
                .put("linkMbit", linkMbit);
        root.putObject("layout").put("executors", nodes).put("workersPerExecutor", 1);
        ArrayNode epochs = root.putArray("epochs");
        for (int e = 1; e <= 2; e++) {
            ObjectNode epoch = epochs.addObject().put("epoch", e).put("testAccuracy", 0.2)
                    .put("fitSeconds", (e == 1 ? 3 : 1) * stepSeconds * steps);
            ArrayNode traffic = epoch.putArray("traffic");
            for (int n = 1; n <= nodes; n++) {
                traffic.addObject().put("executorId", String.valueOf(n)).put("host", "10.231.0." + (10 + n))
                        .put("sentBytes", (long) (sent * steps)).put("receivedBytes", (long) (received * steps));
            }
            traffic.addObject().put("executorId", "driver").put("host", "10.231.0.1")
                    .put("sentBytes", (long) (nodes * received * steps)).put("receivedBytes", (long) (nodes * sent * steps));
        }
        return root;
    }

    private static List<ObjectNode> runs() {
        // averaging: 3 MB each way per node and step, 0.3 s + 0.1 s per node of overhead and compute
        List<ObjectNode> runs = new ArrayList<>();
        for (int n : new int[] {1, 2, 4}) {
            double wire = 2 * n * 3e6 * 8 / 1e9;
            runs.add(run("averaging", n, 1000, 0.3 + 0.1 * n + wire, 3e6, 3e6));
            // sharing: the driver's bytes (n² · 2e5 a step over 80 / n steps) pass a 1 Gbit/s head once an epoch
            double epochWire = n * n * 2e5 * 8 / 1e9;
            runs.add(run("shared", n, 1000, 0.35 + 0.01 * (n - 1) + epochWire, 2e5, 2e5 * (n - 1)));
        }
        return runs;
    }

    @Test
    void theModelCalibratedOnOneAndTwoNodesPredictsFourAndTheReportDrawsBoth() throws Exception {
        Path results = Files.createDirectories(tmp.resolve("results"));
        List<RunRecord> records = new ArrayList<>();
        for (ObjectNode run : runs()) {
            String file = "run-" + run.get("runId").asText() + ".json";
            Files.writeString(results.resolve(file), JSON.writeValueAsString(run));
            records.add(RunRecord.of(file, run));
        }

        ClusterScaling.Analysis analysis = ClusterScaling.of(records, 0, 0);

        assertEquals(1000, analysis.calibrationMbit());
        assertEquals(List.of("averaging", "shared"),
                analysis.calibrations().stream().map(ClusterModel.Calibration::master).toList());
        assertEquals(6, analysis.checks().size());
        assertTrue(analysis.worstUnfittedError() < 0.01, "4 nodes predicted: " + analysis.checks());
        ClusterModel.Measured four = analysis.runs().stream()
                .filter(m -> m.master().equals("averaging") && m.nodes() == 4).findFirst().orElseThrow();
        assertEquals(3e6, four.nodeSent(), 1);
        assertEquals(4 * 3e6, four.headSent(), 4);

        Report.Written w = Report.write(results.toString(), tmp.resolve("report").toString(), 0.5, new Configuration());
        assertTrue(w.charts().containsAll(List.of(ClusterScaling.SPEEDUP_PNG, ClusterScaling.EFFICIENCY_PNG)),
                w.charts().toString());
        String html = Files.readString(tmp.resolve("report").resolve(Report.HTML_NAME));
        assertTrue(html.contains("Cluster scaling: measured against the cost model"), "the model's table");
        assertTrue(html.contains("1000 Mbit/s links"), "runs over links of a stated rate are recipes of their own");
    }

    @Test
    void anEpochInWhichAnExecutorTrainedForTheFirstTimeIsNotTimed() {
        ObjectNode run = run("shared", 2, 100, 0.2, 1e5, 1e5);
        ArrayNode epochs = (ArrayNode) run.get("epochs");
        // epoch 1 trained on executor 1 alone; executor 2 joined in epoch 2, which took 5 times as long
        ((ArrayNode) epochs.get(0).get("traffic")).remove(1);
        ObjectNode second = (ObjectNode) epochs.get(1);
        second.put("fitSeconds", 5 * second.get("fitSeconds").asDouble());
        epochs.add(second.deepCopy().put("epoch", 3).put("fitSeconds", second.get("fitSeconds").asDouble() / 5));
        run.with("config").put("epochs", 3);

        ClusterModel.Measured m = ClusterScaling.measured(RunRecord.of("run-a.json", run)).orElseThrow();
        assertEquals(0.2, m.stepSeconds(), 1e-9, "the step of epoch 3, the first in which both had trained before");

        epochs.remove(2);
        m = ClusterScaling.measured(RunRecord.of("run-a.json", run)).orElseThrow();
        assertEquals(1.0, m.stepSeconds(), 1e-9, "without a warm epoch, the epochs after the first");
    }

    @Test
    void embeddedRunsAreNoClusterRuns() {
        ObjectNode run = run("averaging", 2, 1000, 0.5, 1, 1);
        ((ObjectNode) run.get("environment")).put("linkMbit", 0);
        assertTrue(ClusterScaling.of(List.of(RunRecord.of("run-a.json", run)), 0, 0).runs().isEmpty());
        assertTrue(ClusterScaling.charts(ClusterScaling.of(List.of(), 0, 0)).isEmpty());
    }
}
