package org.sqzspark.job.report;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterModelTest {

    private static final double T = 0.2;
    /** Training images of every run: strong scaling, an epoch on N nodes has 1/N of the steps. */
    private static final int IMAGES = 1920;

    private static int steps(int nodes, int r) {
        return ClusterModel.stepsPerEpoch(IMAGES, nodes * r, 32);
    }

    /** A run as a cluster that follows {@code truth} exactly would measure it. */
    private static ClusterModel.Measured run(ClusterModel.Calibration truth, int nodes, int r, double mbit) {
        int steps = steps(nodes, r);
        ClusterModel.Cluster c = new ClusterModel.Cluster(nodes, r, mbit, mbit, T, steps);
        int p = nodes * r;
        double step = truth.stepSeconds(c);
        if (truth.master().equals(ClusterModel.AVERAGING)) {
            return new ClusterModel.Measured(truth.master(), nodes, r, mbit, step, r * truth.bytesOut(),
                    r * truth.bytesIn(), truth.headOutShare() * nodes * r * truth.bytesIn(),
                    truth.headInShare() * nodes * r * truth.bytesOut(), steps, "run-" + nodes + ".json");
        }
        double u = truth.bytesOut();
        // the head's bytes of an epoch, a quarter of them sent, spread over its steps
        double head = (truth.epochHeadBytes() + truth.epochHeadBytesPerNode() * nodes) / steps;
        return new ClusterModel.Measured(truth.master(), nodes, r, mbit, step, r * u, truth.bytesIn() * (p - r) * u,
                head / 4, 3 * head / 4, steps, "run-" + nodes + ".json");
    }

    private static void calibratedOnTwoRunsPredictsTheOthers(ClusterModel.Calibration truth) {
        List<ClusterModel.Measured> runs = new ArrayList<>();
        for (double mbit : new double[] {1000, 100}) {
            for (int n : new int[] {1, 2, 4}) {
                runs.add(run(truth, n, 2, mbit));
            }
        }
        ClusterModel.Calibration fitted = ClusterModel.calibrate(runs, truth.master(), 1000, T).orElseThrow();

        assertEquals(truth.fixed(), fitted.fixed(), 1e-9);
        assertEquals(truth.perUnit(), fitted.perUnit(), 1e-9);
        List<ClusterModel.Check> checks = ClusterModel.check(runs, List.of(fitted), 1000);
        assertEquals(6, checks.size());
        assertEquals(2, checks.stream().filter(ClusterModel.Check::fitted).count());
        for (ClusterModel.Check c : checks) {
            assertEquals(0, c.error(), 1e-9, "run on " + c.run().nodes() + " nodes at " + c.run().linkMbit());
        }
        // 24 nodes: never faster per step than one node's compute
        assertTrue(fitted.stepSeconds(new ClusterModel.Cluster(24, 2, 1000, 1000, T, steps(24, 2))) >= 2 * T);
    }

    @Test
    void parameterAveragingCalibratedOnOneAndTwoNodesPredictsFourNodesAndASlowerLink() {
        calibratedOnTwoRunsPredictsTheOthers(
                new ClusterModel.Calibration(ClusterModel.AVERAGING, T, 0.05, 0.03, 6e6, 5e6, 0.8, 1, 0, 0));
    }

    @Test
    void gradientSharingCalibratedOnOneAndTwoNodesPredictsFourNodesAndASlowerLink() {
        calibratedOnTwoRunsPredictsTheOthers(
                new ClusterModel.Calibration(ClusterModel.SHARED, T, 0.04, 0.002, 1.1, 4e5, 0, 0, 1e6, 6e6));
    }

    @Test
    void averagingsStepGrowsWithTheHeadsLinkWhichCarriesEveryNodesParameters() {
        ClusterModel.Calibration c = new ClusterModel.Calibration(ClusterModel.AVERAGING, T, 0, 0, 1e6, 1e6, 1, 1, 0, 0);
        // 1 MB in and out per replica: 4 nodes x 2 replicas at 100 Mbit/s is 8 MB each way over the head's link
        ClusterModel.Step s = c.step(new ClusterModel.Cluster(4, 2, 100, 100, T, 10));
        assertEquals(2 * 8e6 * 8 / 100e6, s.wire(), 1e-9);
        assertEquals(2 * T + s.wire(), s.total(), 1e-9);
    }

    @Test
    void sharingsHeadTrafficOfAnEpochAddsToTheStepOverTheEpochsSteps() {
        // no overhead, updates of 1 kB: the stream hides in the compute; 6 MB per node and epoch through the head
        ClusterModel.Calibration c = new ClusterModel.Calibration(ClusterModel.SHARED, T, 0, 0, 1, 1e3, 0, 0, 0, 6e6);
        ClusterModel.Step s = c.step(new ClusterModel.Cluster(4, 1, 100, 100, T, 15));
        assertEquals(4 * 6e6 * 8 / 100e6 / 15, s.total() - T, 1e-9);
        // the same images on twice the nodes: half the steps, twice the bytes, four times the cost per step
        ClusterModel.Step eight = c.step(new ClusterModel.Cluster(8, 1, 100, 100, T, 8));
        assertEquals(4 * (s.total() - T), eight.total() - T, 0.3 * (s.total() - T));
    }

    @Test
    void noCalibrationWithoutRunsOnOneAndTwoNodesAtTheRate() {
        ClusterModel.Calibration truth = new ClusterModel.Calibration(ClusterModel.SHARED, T, 0.04, 0.002, 1, 4e5, 0, 0,
                1e6, 6e6);
        List<ClusterModel.Measured> runs = List.of(run(truth, 1, 1, 1000), run(truth, 2, 1, 100));
        assertFalse(ClusterModel.calibrate(runs, ClusterModel.SHARED, 1000, T).isPresent());
        assertFalse(ClusterModel.calibrate(runs, ClusterModel.AVERAGING, 1000, T).isPresent());
    }

    @Test
    void stepsPerEpochAreTheLargestSharesMinibatches() {
        assertEquals(782, ClusterModel.stepsPerEpoch(50_000, 2, 32));
        assertEquals(33, ClusterModel.stepsPerEpoch(50_000, 48, 32));
    }
}
