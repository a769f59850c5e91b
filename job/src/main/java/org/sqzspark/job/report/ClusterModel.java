package org.sqzspark.job.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A cost model of one synchronous step, and so of an epoch, of data-parallel training on a cluster of
 * N nodes with r replicas each (P = N·r), one executor per node, for each training master's
 * synchronisation pattern. Its terms:
 *
 * <ul>
 *   <li>compute: a node trains its r replicas' minibatches, r·t, where t is one replica's step alone on
 *   a node;</li>
 *   <li>overhead: a + b·x per step, Spark's and DL4J's own work, where x grows with the cluster (N for
 *   parameter averaging, whose driver gathers and averages every executor's result; P − r for gradient
 *   sharing, the other nodes' updates a node decodes and applies);</li>
 *   <li>wire: bytes over links of a given rate, per the master's pattern. Parameter averaging gathers and
 *   broadcasts one after the other: a node receives r·B<sub>in</sub> (parameters and updater state) and
 *   sends r·B<sub>out</sub> each step, and the head node's link carries the sum over nodes (times the
 *   measured share that actually passes it), so
 *   wire = max(r·B<sub>in</sub>/R, h<sub>out</sub>·N·r·B<sub>in</sub>/R<sub>h</sub>)
 *   + max(r·B<sub>out</sub>/R, h<sub>in</sub>·N·r·B<sub>out</sub>/R<sub>h</sub>), added to the step.
 *   Gradient sharing streams each replica's encoded update u to the other nodes while they train: a
 *   node sends r·u and receives k·(P − r)·u, and the step takes the longer of the compute and that
 *   wire. What passes the head's link does not overlap: at each epoch's start the driver sends
 *   every executor the network, its parameters and updater state, and at its end gathers them
 *   back, E<sub>0</sub> + E<sub>1</sub>·N bytes an epoch, which adds
 *   (E<sub>0</sub> + E<sub>1</sub>·N) / R<sub>h</sub> per epoch, over the epoch's steps. With strong
 *   scaling (the same images on more nodes) an epoch has fewer steps as N grows, so this term per
 *   step grows as N², and it is what a slow link costs gradient sharing most.</li>
 * </ul>
 *
 * <p>Calibrated from two measured runs of a master, on 1 and 2 nodes at one link rate: their bytes
 * per step give B, u, k and the head's shares (averaging) or its bytes per epoch E<sub>0</sub> and
 * E<sub>1</sub> (sharing), their step times a and b; one replica's step time t is measured apart
 * (the job's bench, on a node). Everything else is a prediction.
 */
public final class ClusterModel {

    /** Parameter averaging every minibatch. */
    public static final String AVERAGING = "averaging";
    /** Gradient sharing. */
    public static final String SHARED = "shared";
    /**
     * One replica's training step of batch 32 alone on a Raspberry Pi 4 (4 Cortex-A72 cores at 1.5 GHz),
     * estimated until measured: the network's 0.58 GFLOP per step (3.0 M multiply-adds per 32x32 image
     * forward, three times that for forward and backward, 32 images) at 1.6 GFLOP/s, twice the 812
     * MFLOPS a standard Pi 4 reached in double-precision Linpack (sci-pi.org.uk/bench/linpack.html) for
     * single precision's twice as many NEON lanes.
     */
    public static final double PI4_STEP_SECONDS = 0.36;

    /**
     * A cluster to predict for.
     *
     * @param nodes           nodes, one executor each
     * @param replicasPerNode model replicas in one node (r)
     * @param linkMbit        each node's link rate, Mbit/s
     * @param headLinkMbit    the driver's (head node's) link rate, Mbit/s
     * @param stepSeconds     one replica's training step alone on a node, at the batch of the calibration
     * @param stepsPerEpoch   synchronous steps of one epoch on this cluster
     */
    public record Cluster(int nodes, int replicasPerNode, double linkMbit, double headLinkMbit,
                          double stepSeconds, int stepsPerEpoch) {

        public Cluster {
            if (nodes < 1 || replicasPerNode < 1 || !(linkMbit > 0) || !(headLinkMbit > 0) || !(stepSeconds >= 0)
                    || stepsPerEpoch < 1) {
                throw new IllegalArgumentException("nodes, replicas per node and steps per epoch must be at least 1,"
                        + " link rates positive, the step time not negative");
            }
        }

        int replicas() {
            return nodes * replicasPerNode;
        }
    }

    /**
     * One measured run, as the model reads it.
     *
     * @param master          {@value #AVERAGING} or {@value #SHARED}
     * @param nodes           executors (one per node)
     * @param replicasPerNode replicas per executor
     * @param linkMbit        the nodes' link rate the run recorded
     * @param stepSeconds     fit seconds per synchronous step (epochs after the first, averaged)
     * @param nodeSent        bytes a node sent per step, mean over nodes
     * @param nodeReceived    bytes a node received per step
     * @param headSent        bytes the driver's host sent per step (NaN if not measured)
     * @param headReceived    bytes the driver's host received per step (NaN if not measured)
     * @param stepsPerEpoch   the run's synchronous steps per epoch
     * @param file            the run's result file, for messages
     */
    public record Measured(String master, int nodes, int replicasPerNode, double linkMbit, double stepSeconds,
                           double nodeSent, double nodeReceived, double headSent, double headReceived,
                           int stepsPerEpoch, String file) {

        /** Bytes through the head's link (both ways) per epoch; 0 where not measured. */
        double headBytesPerEpoch() {
            double perStep = (Double.isNaN(headSent) ? 0 : headSent) + (Double.isNaN(headReceived) ? 0 : headReceived);
            return perStep * stepsPerEpoch;
        }
    }

    /**
     * What one master costs, calibrated.
     *
     * @param master       {@value #AVERAGING} or {@value #SHARED}
     * @param stepSeconds  t: one replica's step alone on a calibration node
     * @param fixed        a: overhead per step, seconds
     * @param perUnit      b: overhead per step per node (averaging) or per other node's replica (sharing)
     * @param bytesIn      averaging: B_in per replica and step; sharing: k, received over relayed bytes
     * @param bytesOut     averaging: B_out per replica and step; sharing: u, one replica's update
     * @param headOutShare h_out: the part of the nodes' traffic the head sends (averaging)
     * @param headInShare  h_in: the part the head receives (averaging)
     * @param epochHeadBytes        E_0: bytes through the head's link per epoch, whatever the nodes (sharing)
     * @param epochHeadBytesPerNode E_1: bytes through the head's link per epoch and node (sharing)
     */
    public record Calibration(String master, double stepSeconds, double fixed, double perUnit, double bytesIn,
                              double bytesOut, double headOutShare, double headInShare, double epochHeadBytes,
                              double epochHeadBytesPerNode) {

        /** Seconds of one synchronous step on {@code cluster}. */
        public double stepSeconds(Cluster cluster) {
            Step s = step(cluster);
            return s.total();
        }

        /** Gradient sharing: seconds per step of the head's per-epoch traffic on {@code cluster}. */
        double epochWire(Cluster cluster) {
            return (epochHeadBytes + epochHeadBytesPerNode * cluster.nodes()) / (cluster.headLinkMbit() * 1e6 / 8)
                    / cluster.stepsPerEpoch();
        }

        /**
         * One step's parts on {@code cluster}; CPU-bound parts scale with the cluster's step time
         * against the calibration's (the same kind of node doing the same work faster or slower).
         */
        public Step step(Cluster cluster) {
            int n = cluster.nodes();
            int r = cluster.replicasPerNode();
            int p = cluster.replicas();
            double scale = stepSeconds > 0 && cluster.stepSeconds() > 0 ? cluster.stepSeconds() / stepSeconds : 1;
            double rate = cluster.linkMbit() * 1e6 / 8;
            double headRate = cluster.headLinkMbit() * 1e6 / 8;
            double compute = r * (cluster.stepSeconds() > 0 ? cluster.stepSeconds() : stepSeconds);
            if (master.equals(AVERAGING)) {
                double overhead = scale * (fixed + perUnit * n);
                double wire = Math.max(r * bytesIn / rate, headOutShare * n * r * bytesIn / headRate)
                        + Math.max(r * bytesOut / rate, headInShare * n * r * bytesOut / headRate);
                return new Step(compute, overhead, wire, compute + overhead + wire);
            }
            double overhead = scale * (fixed + perUnit * (p - r));
            double stream = Math.max(r * bytesOut / rate, bytesIn * (p - r) * bytesOut / rate);
            double epochWire = epochWire(cluster);
            return new Step(compute, overhead, stream + epochWire, Math.max(compute + overhead, stream) + epochWire);
        }
    }

    /**
     * One step, in seconds: its parts and its total (for gradient sharing, the wire of the updates
     * overlaps the rest, the head's per-epoch share of it does not).
     *
     * @param compute  r·t
     * @param overhead a + b·x
     * @param wire     the links' time
     * @param total    the step
     */
    public record Step(double compute, double overhead, double wire, double total) {
    }

    /**
     * A measured run against the model's prediction of it.
     *
     * @param run       the run
     * @param predicted predicted seconds per step
     * @param fitted    whether the run was one of the two the model was calibrated on
     */
    public record Check(Measured run, double predicted, boolean fitted) {

        /** Relative error of the prediction, (predicted − measured) / measured. */
        public double error() {
            return predicted / run.stepSeconds() - 1;
        }
    }

    private ClusterModel() {
    }

    /**
     * Calibrates {@code master} on its runs at {@code linkMbit} on 1 and 2 nodes (the same replicas
     * per node), with {@code stepSeconds} the measured step of one replica on a node (0 if not
     * measured: compute then counts in the overhead).
     *
     * @return empty when the runs to calibrate on are missing
     */
    public static Optional<Calibration> calibrate(List<Measured> runs, String master, double linkMbit,
                                                  double stepSeconds) {
        Optional<Measured> one = pick(runs, master, 1, linkMbit);
        Optional<Measured> two = pick(runs, master, 2, linkMbit);
        if (one.isEmpty() || two.isEmpty() || one.get().replicasPerNode() != two.get().replicasPerNode()) {
            return Optional.empty();
        }
        Measured m1 = one.get();
        Measured m2 = two.get();
        int r = m1.replicasPerNode();
        double t = stepSeconds;
        if (master.equals(AVERAGING)) {
            double in = (m1.nodeReceived() + m2.nodeReceived()) / 2 / r;
            double out = (m1.nodeSent() + m2.nodeSent()) / 2 / r;
            double hOut = share(m2.headSent(), 2.0 * r * in);
            double hIn = share(m2.headReceived(), 2.0 * r * out);
            Calibration wireOnly = new Calibration(master, t, 0, 0, in, out, hOut, hIn, 0, 0);
            double d1 = m1.stepSeconds() - wireOnly.step(shape(m1, t)).total();
            double d2 = m2.stepSeconds() - wireOnly.step(shape(m2, t)).total();
            double b = d2 - d1;
            return Optional.of(new Calibration(master, t, d1 - b, b, in, out, hOut, hIn, 0, 0));
        }
        // the update's size from the 2-node run: on one node there is no other replica to share with
        double u = m2.nodeSent() / r;
        int others = 2 * r - r;
        double k = share(m2.nodeReceived(), (double) others * u);
        double e1 = Math.max(0, m2.headBytesPerEpoch() - m1.headBytesPerEpoch());
        double e0 = Math.max(0, m1.headBytesPerEpoch() - e1);
        Calibration wireOnly = new Calibration(master, t, 0, 0, k, u, 0, 0, e0, e1);
        double a = m1.stepSeconds() - r * t - wireOnly.epochWire(shape(m1, t));
        double b = (m2.stepSeconds() - r * t - a - wireOnly.epochWire(shape(m2, t))) / others;
        return Optional.of(new Calibration(master, t, a, b, k, u, 0, 0, e0, e1));
    }

    /** Every run of the masters calibrated, against the model's prediction of it. */
    public static List<Check> check(List<Measured> runs, List<Calibration> calibrations, double calibrationMbit) {
        List<Check> checks = new ArrayList<>();
        for (Measured m : runs) {
            for (Calibration c : calibrations) {
                if (c.master().equals(m.master())) {
                    boolean fitted = m.linkMbit() == calibrationMbit && m.nodes() <= 2;
                    checks.add(new Check(m, c.stepSeconds(shape(m, c.stepSeconds())), fitted));
                }
            }
        }
        checks.sort(Comparator.comparing((Check c) -> c.run().master()).thenComparing(c -> -c.run().linkMbit())
                .thenComparingInt(c -> c.run().nodes()));
        return checks;
    }

    /** The cluster a measured run ran on: its link for the nodes and the head alike. */
    static Cluster shape(Measured m, double stepSeconds) {
        return new Cluster(m.nodes(), m.replicasPerNode(), m.linkMbit(), m.linkMbit(), stepSeconds, m.stepsPerEpoch());
    }

    private static Optional<Measured> pick(List<Measured> runs, String master, int nodes, double linkMbit) {
        return runs.stream().filter(m -> m.master().equals(master) && m.nodes() == nodes && m.linkMbit() == linkMbit)
                .reduce((first, later) -> later);
    }

    /** {@code measured / expected}, or 1 where the head was not measured or nothing was expected. */
    private static double share(double measured, double expected) {
        return Double.isNaN(measured) || !(expected > 0) ? 1 : measured / expected;
    }

    /** Synchronous steps of an epoch of {@code images} at P replicas of {@code batch}. */
    public static int stepsPerEpoch(int images, int replicas, int batch) {
        int perReplica = (images + replicas - 1) / replicas;
        return (perReplica + batch - 1) / batch;
    }

    /** "averaging" or "gradient sharing", for tables. */
    public static String label(String master) {
        return master.equals(AVERAGING) ? "parameter averaging" : "gradient sharing";
    }

    static String format(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
