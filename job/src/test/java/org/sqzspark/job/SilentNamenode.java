package org.sqzspark.job;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for a hung namenode: it accepts every connection and reads what the client sends, but
 * never answers. Hadoop's client connects at once, then waits for the answer to its first call.
 */
public final class SilentNamenode implements AutoCloseable {

    private final ServerSocket server;
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    public SilentNamenode() {
        try {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        acceptor = new Thread(this::acceptForever, "silent-namenode");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** An hdfs:// URI of {@code path} on this namenode. */
    public String uri(String path) {
        return "hdfs://127.0.0.1:" + server.getLocalPort() + path;
    }

    /** Connections accepted so far. */
    public int connections() {
        return accepted.size();
    }

    private void acceptForever() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                accepted.add(s);
                Thread reader = new Thread(() -> drain(s), "silent-namenode-connection");
                reader.setDaemon(true);
                reader.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void drain(Socket s) {
        byte[] buffer = new byte[4096];
        try (InputStream in = s.getInputStream()) {
            while (in.read(buffer) >= 0) {
                // read and never answer
            }
        } catch (IOException e) {
            // the client or close() ended the connection
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : accepted) {
            s.close();
        }
    }
}
