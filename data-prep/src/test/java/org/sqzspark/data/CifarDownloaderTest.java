package org.sqzspark.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs against an HTTP server on the loopback interface only. */
class CifarDownloaderTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final byte[] PAYLOAD = TestCifarFiles.officialStyleArchive();

    @TempDir
    Path dir;

    private HttpServer server;
    private final AtomicInteger requests = new AtomicInteger();

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/cifar-10-binary.tar.gz", exchange -> {
            requests.incrementAndGet();
            exchange.sendResponseHeaders(200, PAYLOAD.length);
            try (OutputStream body = exchange.getResponseBody()) {
                body.write(PAYLOAD);
            }
        });
        server.createContext("/missing", exchange -> {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    private URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    private static String md5(byte[] data) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
    }

    private long filesIn(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.count();
        }
    }

    @Test
    void downloadsArchiveWithMatchingMd5IntoTargetFolder() throws Exception {
        Path target = dir.resolve("data");

        Path archive = CifarDownloader.fetch(url("/cifar-10-binary.tar.gz"), target, md5(PAYLOAD), TIMEOUT);

        assertEquals(target.resolve(CifarLayout.ARCHIVE_NAME), archive);
        assertArrayEquals(PAYLOAD, Files.readAllBytes(archive));
        assertEquals(1, filesIn(target), "only the archive remains");
        assertEquals(TestCifarFiles.testBatch(),
                CifarReader.readTest(CifarLayout.resolve(target.toString(), new org.apache.hadoop.conf.Configuration()), 0));
    }

    @Test
    void keepsExistingArchiveWithMatchingMd5WithoutDownloading() throws Exception {
        TestCifarFiles.write(dir.resolve(CifarLayout.ARCHIVE_NAME), PAYLOAD);

        CifarDownloader.fetch(url("/cifar-10-binary.tar.gz"), dir, md5(PAYLOAD), TIMEOUT);

        assertEquals(0, requests.get());
    }

    @Test
    void rejectsDownloadWithWrongMd5AndLeavesNoFile() throws Exception {
        String wrong = "00000000000000000000000000000000";

        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarDownloader.fetch(url("/cifar-10-binary.tar.gz"), dir, wrong, TIMEOUT));

        assertTrue(e.getMessage().contains("has MD5 " + md5(PAYLOAD) + ", expected " + wrong), e.getMessage());
        assertEquals(0, filesIn(dir), "no partial or wrong file may remain");
    }

    @Test
    void reportsHttpErrorStatusAndLeavesNoFile() throws Exception {
        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarDownloader.fetch(url("/missing"), dir, md5(PAYLOAD), TIMEOUT));

        assertTrue(e.getMessage().contains("HTTP 404"), e.getMessage());
        assertEquals(0, filesIn(dir));
    }

    @Test
    void reportsUnreachableServerWithWhereToPutFilesByHand() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        URI unreachable = URI.create("http://127.0.0.1:" + closedPort + "/cifar-10-binary.tar.gz");

        DataInputException e = assertThrows(DataInputException.class,
                () -> CifarDownloader.fetch(unreachable, dir, md5(PAYLOAD), TIMEOUT));

        assertTrue(e.getMessage().contains("Download of " + unreachable + " failed"), e.getMessage());
        assertTrue(e.getMessage().contains("put data_batch_1..5.bin and test_batch.bin (plain or .gz), or "
                + "cifar-10-binary.tar.gz, in " + dir), e.getMessage());
        assertEquals(0, filesIn(dir));
    }
}
