package org.sqzspark.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.FileNotFoundException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;

class NetworkFailureTest {

    @Test
    void saysConnectionRefusedFromInsideHadoopsWrapping() {
        ConnectException socket = new ConnectException("Connection refused");
        ConnectException wrapped = new ConnectException("Call From a/10.0.0.1 to b:9000 failed on connection exception: "
                + socket + "; For more details see:  http://wiki.apache.org/hadoop/ConnectionRefused");
        wrapped.initCause(socket);

        assertEquals("connection refused", NetworkFailure.describe(wrapped));
    }

    @Test
    void namesAnUnknownHostReportedAsIllegalArgument() {
        UnknownHostException unknown = new UnknownHostException("namenode.invalid");

        assertEquals("unknown host namenode.invalid",
                NetworkFailure.describe(new IllegalArgumentException(unknown.toString(), unknown)));
    }

    @Test
    void saysATimeoutWithoutTheSocketsDetails() {
        assertEquals("no answer in time", NetworkFailure.describe(new SocketTimeoutException(
                "5000 millis timeout while waiting for channel to be ready for connect. ch : "
                        + "java.nio.channels.SocketChannel[connection-pending remote=/10.0.0.9:9000]")));
    }

    @Test
    void isNullForFailuresThatAreNotTheNetworks() {
        assertNull(NetworkFailure.describe(new FileNotFoundException("/data/cifar10")));
        assertNull(NetworkFailure.describe(new IllegalArgumentException("Wrong FS")));
    }
}
