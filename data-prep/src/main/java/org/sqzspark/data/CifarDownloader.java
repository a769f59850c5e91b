package org.sqzspark.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloads the CIFAR-10 archive into a local folder and verifies its MD5.
 *
 * <p>The bytes go to a temporary file in the target folder and are renamed into place only after
 * the checksum matches, so the folder never holds a partial or wrong {@code cifar-10-binary.tar.gz}
 * that a later run would mistake for the real one.
 */
public final class CifarDownloader {

    private static final Logger log = LoggerFactory.getLogger(CifarDownloader.class);
    private static final Pattern MD5_HEX = Pattern.compile("[0-9a-fA-F]{32}");

    private CifarDownloader() {
    }

    /**
     * Downloads {@code source} to {@code targetDir/cifar-10-binary.tar.gz}. If that file already
     * exists with the expected MD5 it is kept and nothing is downloaded.
     *
     * @param source      HTTP(S) URL of the archive, normally {@link CifarLayout#OFFICIAL_URL}
     * @param targetDir   local folder to put the archive in; created if missing
     * @param expectedMd5 MD5 of the archive as 32 hex digits, normally {@link CifarLayout#ARCHIVE_MD5}
     * @param timeout     limit for connecting and for waiting for the response headers
     * @return the path of the verified archive
     * @throws DataInputException if the download fails or the MD5 differs; no partial file remains
     */
    public static Path fetch(URI source, Path targetDir, String expectedMd5, Duration timeout) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(targetDir, "targetDir");
        Objects.requireNonNull(timeout, "timeout");
        if (expectedMd5 == null || !MD5_HEX.matcher(expectedMd5).matches()) {
            throw new IllegalArgumentException("expected MD5 must be 32 hex digits, found " + expectedMd5);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("download timeout must be positive, found " + timeout);
        }
        Path target = targetDir.resolve(CifarLayout.ARCHIVE_NAME);
        Path temp;
        try {
            Files.createDirectories(targetDir);
            if (Files.isRegularFile(target)) {
                String existing = md5Of(target);
                if (existing.equalsIgnoreCase(expectedMd5)) {
                    log.info("{} is already present with MD5 {}; not downloading it again", target, existing);
                    return target;
                }
                log.warn("{} has MD5 {}, expected {}; downloading it again", target, existing, expectedMd5);
            }
            temp = Files.createTempFile(targetDir, CifarLayout.ARCHIVE_NAME + ".", ".part");
        } catch (IOException e) {
            throw new DataInputException("Cannot write the CIFAR-10 download to " + targetDir + " (" + e
                    + "); make the folder writable or choose another one", e);
        }
        try {
            download(source, temp, expectedMd5, timeout);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new DataInputException("Download of " + source + " failed (" + e + "); download it by hand, or "
                    + CifarLayout.howToProvide(targetDir.toString()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DataInputException("Download of " + source + " was interrupted; download it by hand, or "
                    + CifarLayout.howToProvide(targetDir.toString()), e);
        } finally {
            deleteIfPresent(temp);
        }
    }

    private static void download(URI source, Path temp, String expectedMd5, Duration timeout)
            throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder()
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        HttpRequest request = HttpRequest.newBuilder(source).timeout(timeout).GET().build();
        log.info("Downloading {} to {}", source, temp.getParent());
        long started = System.nanoTime();
        HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        MessageDigest md5 = newMd5();
        long bytes;
        try (InputStream body = new DigestInputStream(response.body(), md5)) {
            if (response.statusCode() != 200) {
                throw new DataInputException("Download of " + source + " failed: the server answered HTTP "
                        + response.statusCode() + ", expected 200; download it by hand, or "
                        + CifarLayout.howToProvide(temp.getParent().toString()));
            }
            try (OutputStream out = Files.newOutputStream(temp)) {
                bytes = body.transferTo(out);
            }
        }
        String found = HexFormat.of().formatHex(md5.digest());
        if (!found.equalsIgnoreCase(expectedMd5)) {
            throw new DataInputException(String.format(Locale.ROOT,
                    "Download of %s has MD5 %s, expected %s (%,d bytes received); the transfer was corrupted or the "
                            + "server sent a different file: try again, or %s", source, found,
                    expectedMd5.toLowerCase(Locale.ROOT), bytes, CifarLayout.howToProvide(temp.getParent().toString())));
        }
        log.info("Downloaded {} bytes from {} in {} s, MD5 verified", bytes, source,
                (System.nanoTime() - started) / 1_000_000_000);
    }

    private static String md5Of(Path file) throws IOException {
        MessageDigest md5 = newMd5();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md5)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md5.digest());
    }

    private static MessageDigest newMd5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            // every Java platform must provide MD5 (MessageDigest javadoc)
            throw new IllegalStateException("this Java runtime lacks MD5", e);
        }
    }

    private static void deleteIfPresent(Path temp) {
        try {
            Files.deleteIfExists(temp);
        } catch (IOException e) {
            log.warn("Could not delete the partial download {}: {}", temp, e.toString());
        }
    }
}
