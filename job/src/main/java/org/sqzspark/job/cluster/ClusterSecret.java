package org.sqzspark.job.cluster;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.spark.SparkConf;
import org.apache.spark.network.TransportContext;
import org.apache.spark.network.client.TransportClient;
import org.apache.spark.network.client.TransportClientFactory;
import org.apache.spark.network.crypto.AuthClientBootstrap;
import org.apache.spark.network.sasl.SecretKeyHolder;
import org.apache.spark.network.server.NoOpRpcHandler;
import org.apache.spark.network.util.MapConfigProvider;
import org.apache.spark.network.util.TransportConf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's shared secret on the driver, and a check that the standalone master accepts it
 * before the Spark context starts.
 *
 * <p>Spark authenticates every RPC connection of a standalone cluster (master, workers, driver,
 * executors) with one shared secret when {@code spark.authenticate} is on. Spark 3.5 reads a
 * secret file only on Kubernetes; elsewhere the driver must hold the secret in
 * {@code spark.authenticate.secret}. submit/submit.sh passes the path of the secret file in
 * {@value #SECRET_FILE}, and {@link #apply} reads it into the configuration here, so that the
 * secret is never on a command line ({@code ps}) nor in a file other than its own. Spark keeps it
 * out of the executors' command lines and redacts it in the event log and web UI
 * ({@code spark.redaction.regex}).
 *
 * <p>A master that refuses the application's secret (or its lack of one) gives the driver no
 * answer: Spark retries registering three times, 20 s each, then stops the context with "All
 * masters are unresponsive". The check here asks the master's RPC port once, with Spark's own
 * authentication client, and fails in a second with one line that says what to do.
 */
public final class ClusterSecret {

    /** Path of the file holding the cluster's secret (submit/submit.sh sets it). */
    public static final String SECRET_FILE = "spark.sqzspark.secretFile";
    static final String AUTHENTICATE = "spark.authenticate";
    static final String SECRET = "spark.authenticate.secret";
    private static final int TIMEOUT_MS = 10_000;
    /** What Spark's SASL handler answers a client that does not authenticate (SaslMessage.decode). */
    private static final String UNAUTHENTICATED_REPLY = "Expected SaslMessage";
    private static final Logger log = LoggerFactory.getLogger(ClusterSecret.class);

    private ClusterSecret() {
    }

    /**
     * For a standalone master: with {@code spark.authenticate} on, reads the secret from
     * {@value #SECRET_FILE} (unless {@code spark.authenticate.secret} is set) and checks that the
     * master accepts it; with it off, checks that the master does not require one. Does nothing
     * for other masters (an embedded run needs no secret: Spark makes one of its own when
     * {@code spark.authenticate} is on).
     *
     * @throws IllegalArgumentException in one line: the master, what it refused and how to fix it
     */
    public static void apply(SparkConf conf) {
        String master = conf.get("spark.master", "");
        if (!master.startsWith("spark://")) {
            return;
        }
        URI address = firstAddress(master);
        if (address == null) {
            return;
        }
        boolean authenticate = conf.getBoolean(AUTHENTICATE, false);
        String file = conf.get(SECRET_FILE, null);
        if (authenticate && !conf.contains(SECRET)) {
            if (file == null) {
                throw new IllegalArgumentException(AUTHENTICATE + " is on but this application has no secret: set "
                        + SECRET_FILE + " to the cluster's secret file (submit/submit.sh does; README, Security)");
            }
            conf.set(SECRET, read(Path.of(file)));
        }
        log.info("Asking the Spark master at {} whether it accepts this application", master);
        String refused = authenticate ? refusal(address, conf) : unauthenticatedRefusal(address, conf);
        if (refused == null) {
            if (authenticate) {
                log.info("The Spark master at {} accepted this application's secret", master);
            }
            return;
        }
        if (authenticate) {
            throw new IllegalArgumentException("the Spark master at " + master + " refused this application: its"
                    + " secret (" + (file == null ? SECRET : file) + ") is not the cluster's (" + refused + "); submit"
                    + " with the secret file submit/start-cluster.sh made on the head node, or restart the cluster"
                    + " with submit/start-cluster.sh to give it this one (README, Security)");
        }
        throw new IllegalArgumentException("the Spark master at " + master + " refused this application: the"
                + " cluster requires authentication (" + AUTHENTICATE + ") and this application has no secret;"
                + " submit with submit/submit.sh, which passes the cluster's secret file (README, Security)");
    }

    /** The secret in {@code file}: its content without surrounding whitespace. */
    static String read(Path file) {
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            if (mode.contains(PosixFilePermission.GROUP_READ) || mode.contains(PosixFilePermission.OTHERS_READ)) {
                throw new IllegalArgumentException("the secret file " + file + " (" + SECRET_FILE + ") is readable by"
                        + " other users: chmod 600 " + file + ", then rotate the secret (README, Security)");
            }
            String secret = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (secret.isEmpty()) {
                throw new IllegalArgumentException("the secret file " + file + " (" + SECRET_FILE + ") is empty:"
                        + " delete it and run submit/start-cluster.sh, which makes a new one (README, Security)");
            }
            return secret;
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("the secret file " + file + " (" + SECRET_FILE + ") does not exist:"
                    + " submit/start-cluster.sh makes it on the head node (README, Security)", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the secret file " + file + " (" + SECRET_FILE + "): "
                    + e.getMessage(), e);
        }
    }

    /**
     * Why the master refused a connection authenticated with the secret in {@code conf} (Spark's
     * client bootstrap, as the driver's RPC environment runs it), or null when it accepted it.
     */
    private static String refusal(URI master, SparkConf conf) {
        SecretKeyHolder secret = new SecretKeyHolder() {
            @Override
            public String getSaslUser(String appId) {
                return "sparkSaslUser";
            }

            @Override
            public String getSecretKey(String appId) {
                return conf.get(SECRET);
            }
        };
        TransportConf transport = transportConf(conf);
        // the bootstrap run here rather than by the factory, which logs a refusal with its stack trace
        try (TransportContext context = new TransportContext(transport, new NoOpRpcHandler());
             TransportClientFactory factory = context.createClientFactory();
             TransportClient client = factory.createClient(master.getHost(), master.getPort())) {
            new AuthClientBootstrap(transport, "sparkSaslUser", secret).doBootstrap(client, client.getChannel());
            return client.isActive() ? null : "the connection closed";
        } catch (IOException | RuntimeException e) {
            return rootMessage(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while connecting to the Spark master", e);
        }
    }

    /**
     * Why the master refused a connection that does not authenticate, or null when it takes one.
     * A byte that is no RPC message of Spark's: a master without authentication answers that it
     * cannot read it (and logs one error line), one with authentication that the client did not
     * authenticate.
     */
    private static String unauthenticatedRefusal(URI master, SparkConf conf) {
        TransportConf transport = transportConf(conf);
        try (TransportContext context = new TransportContext(transport, new NoOpRpcHandler());
             TransportClientFactory factory = context.createClientFactory();
             TransportClient client = factory.createClient(master.getHost(), master.getPort())) {
            client.sendRpcSync(ByteBuffer.wrap(new byte[] {0}), TIMEOUT_MS);
            return null;
        } catch (IOException | RuntimeException e) {
            return fullMessage(e).contains(UNAUTHENTICATED_REPLY) ? "authentication required" : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while connecting to the Spark master", e);
        }
    }

    private static TransportConf transportConf(SparkConf conf) {
        Map<String, String> settings = new HashMap<>();
        for (scala.Tuple2<String, String> kv : conf.getAll()) {
            settings.put(kv._1(), kv._2());
        }
        settings.put("spark.rpc.io.clientThreads", "1");
        settings.put("spark.rpc.io.connectionTimeout", TIMEOUT_MS + "ms");
        settings.put("spark.network.auth.rpcTimeout", TIMEOUT_MS + "ms");
        return new TransportConf("rpc", new MapConfigProvider(settings));
    }

    private static URI firstAddress(String master) {
        String hostPort = master.substring("spark://".length()).split(",")[0].trim();
        try {
            URI address = new URI("spark://" + hostPort);
            return address.getHost() == null || address.getPort() < 0 ? null : address;
        } catch (URISyntaxException e) {
            return null;
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        // the master's answer carries its exception's stack trace: keep the last message of its first line
        String first = message.lines().findFirst().orElse(message).strip();
        int last = first.lastIndexOf("Exception: ");
        return last < 0 ? first : first.substring(last + "Exception: ".length());
    }

    private static String fullMessage(Throwable e) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            text.append(t.getMessage()).append('\n');
        }
        return text.toString();
    }
}
