package org.sqzspark.job.cluster;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.sqzspark.job.results.EpochMetrics;
import org.sqzspark.job.results.NodeTraffic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NetworkTrafficPluginTest {

    /** /proc/net/dev as Linux writes it: two header lines, then one line per interface. */
    private static final String PROC_NET_DEV = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo: 9000000    1000    0    0    0     0          0         0  9000000    1000    0    0    0     0       0          0
              eth0: 1200   10    0    0    0     0          0         0     3400      20    0    0    0     0       0          0
             wlan0:   50    1    0    0    0     0          0         0       70       1    0    0    0     0       0          0
            """;

    @Test
    void countsEveryInterfaceButLoopback() {
        assertArrayEquals(new long[] {3470, 1250}, NetworkTrafficPlugin.countersOf(PROC_NET_DEV));
    }

    @Test
    void anEpochsTrafficIsEachExecutorsLastSampleMinusItsFirst() {
        NetworkTrafficPlugin.epochStart();
        NetworkTrafficPlugin.record(new NetworkTrafficPlugin.Sample("1", "10.0.0.11", false, 100, 1000));
        NetworkTrafficPlugin.record(new NetworkTrafficPlugin.Sample("2", "10.0.0.12", false, 0, 0));
        NetworkTrafficPlugin.record(new NetworkTrafficPlugin.Sample("1", "10.0.0.11", true, 600, 3000));
        NetworkTrafficPlugin.record(new NetworkTrafficPlugin.Sample("2", "10.0.0.12", true, 50, 70));
        NetworkTrafficPlugin.record(new NetworkTrafficPlugin.Sample("3", "10.0.0.13", false, 5, 5));

        List<NodeTraffic> traffic = NetworkTrafficPlugin.epochTraffic();

        assertEquals(List.of(new NodeTraffic("1", "10.0.0.11", 500, 2000), new NodeTraffic("2", "10.0.0.12", 50, 70)),
                traffic, "an executor with one sample has no interval to measure");
        EpochMetrics epoch = new EpochMetrics(1, 0.5, 1, 10, 1, 100, 11, traffic);
        assertEquals((500 + 50) / 2.0 / 5, epoch.sentBytesPerStep(5), 1e-9);
        assertEquals((2000 + 70) / 2.0 / 5, epoch.receivedBytesPerStep(5), 1e-9);

        NetworkTrafficPlugin.epochStart();
        assertTrue(NetworkTrafficPlugin.epochTraffic().isEmpty(), "a new epoch starts from no samples");
        assertTrue(Double.isNaN(new EpochMetrics(1, 0.5, 1, 10, 1, 100, 11, null).sentBytesPerStep(5)),
                "not measured reads as NaN");
    }
}
