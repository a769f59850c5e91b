package org.sqzspark.data;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * Says in words why a file system could not be reached, for messages to the person running the
 * job: Hadoop's own messages name exception classes and wrap the socket's reason in a paragraph.
 */
public final class NetworkFailure {

    private NetworkFailure() {
    }

    /**
     * The network failure behind {@code e} ("connection refused", "unknown host h", "no answer in
     * time"), or {@code null} when it is none.
     */
    public static String describe(Throwable e) {
        String failure = null;
        // Hadoop wraps the socket's exception in one of the same type with a longer message: the innermost says it
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof UnknownHostException) {
                failure = "unknown host " + t.getMessage();
            } else if (t instanceof SocketTimeoutException) {
                failure = "no answer in time";
            } else if (t instanceof ConnectException || t instanceof NoRouteToHostException) {
                failure = t.getMessage() == null ? "cannot connect" : t.getMessage().toLowerCase(Locale.ROOT);
            }
        }
        return failure;
    }
}
