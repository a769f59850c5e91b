package org.sqzspark.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqzspark.job.cli.Main;
import org.sqzspark.job.results.ResultStore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The cluster scripts as an administrator runs them from the head node: start-cluster.sh and
 * stop-cluster.sh against worker hosts reached over real ssh, cluster-sweep.sh and submit.sh against
 * a live standalone master.
 *
 * <p>The worker hosts are this machine under loopback addresses, reached through an sshd of the
 * test's own (Debian's openssh-server, installed when absent) on a free port, with a generated host
 * key and client key: {@link #UP} and {@link #ALSO_UP} answer ssh, nothing listens on {@link #DOWN},
 * and {@link #STALLED} accepts ssh's TCP connection and never answers. No Spark distribution is to be
 * had here, so the Spark installation the scripts drive holds stand-ins for Spark's daemon scripts
 * and spark-submit that keep their contract (PID files in SPARK_PID_DIR from spark-env.sh, "Stop it
 * first", "failed to launch", SIGTERM to stop) and run Spark's own Master, Worker, HistoryServer and
 * SparkSubmit classes from the job jar, which carries Spark. The scripts read a copy of spark-conf/
 * whose event logs go to a local folder (or to an HDFS that a stand-in hdfs command answers for) and
 * whose history server takes a free port.
 */
class ClusterScriptsIT {

    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    private static final Path JAR = Path.of(System.getProperty("user.dir"), "target", "squeezenet-spark-job.jar");
    private static final Path SSHD = Path.of("/usr/sbin/sshd");
    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    /** A worker host that answers ssh. */
    private static final String UP = "127.0.0.2";
    /** This machine under another address, answering ssh: its worker is the one {@link #UP} started. */
    private static final String ALSO_UP = "127.0.0.5";
    /** A worker host that is down: nothing listens on its address. */
    private static final String DOWN = "127.0.0.3";
    /** A worker host that accepts ssh's TCP connection and never answers. */
    private static final String STALLED = "127.0.0.4";
    /** The hosts of the workers of {@link #liveCluster()}, started without ssh. */
    private static final List<String> LIVE_HOSTS = List.of("127.0.0.6", "127.0.0.7");
    /** SPARK_SSH_TIMEOUT of the tests: each host's ssh is cut off after this many seconds. */
    private static final int SSH_TIMEOUT = 8;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    /** Why the ssh tests cannot run here, or null. */
    private static String noSsh;
    private static Process sshd;
    private static ServerSocket stalled;
    private static final List<Socket> held = new CopyOnWriteArrayList<>();
    private static String sshOpts;
    private static Path sparkHome;
    private static StandaloneCluster live;

    private record Result(int exit, String output, Duration took) {
    }

    @BeforeAll
    static void setUp() throws Exception {
        assertTrue(Files.isRegularFile(JAR), "the shaded job jar " + JAR + " is missing: run `mvn verify`");
        sparkHome = standInSparkHome(tmp.resolve("spark"));
        noSsh = startSshd();
    }

    @AfterAll
    static void tearDown() throws IOException {
        if (live != null) {
            live.close();
        }
        killDaemons();
        if (stalled != null) {
            stalled.close();
        }
        for (Socket s : held) {
            s.close();
        }
        if (sshd != null) {
            sshd.descendants().forEach(ProcessHandle::destroyForcibly);
            sshd.destroyForcibly();
        }
    }

    /** A failed test leaves no daemon behind: the processes in the stand-in's PID files end. */
    @AfterEach
    void stopDaemons() throws IOException {
        killDaemons();
    }

    @Test
    void startClusterWaitsForEveryWorkerToRegisterAndNamesTheHostsThatDidNot() throws Exception {
        Map<String, String> env = clusterEnv();
        String webUi = "http://" + StandaloneCluster.HOST + ":" + env.get("SPARK_MASTER_WEBUI_PORT") + "/json/";

        env.put("SPARK_WORKERS", workersFile(UP).toString());
        Result up = run(env, 120, "start-cluster.sh");
        assertEquals(0, up.exit(), up.output());
        assertTrue(up.output().contains(UP + ": worker started"), up.output());
        assertTrue(up.output().contains("workers registered with the master: 1 of 1"), up.output());
        assertTrue(up.output().contains("export SPARK_MASTER_URL=spark://" + StandaloneCluster.HOST + ":"
                + env.get("SPARK_MASTER_PORT")), up.output());
        assertEquals(List.of(UP), aliveWorkers(webUi), "the worker the master lists when the script returns");
        // PID files in the folder spark-env.sh names, under the Spark installation, not /tmp
        Path pids = sparkHome.resolve("pids");
        assertTrue(Files.isRegularFile(pids.resolve(pidFile("worker.Worker"))), "worker PID file in " + pids);
        assertTrue(Files.isRegularFile(pids.resolve(pidFile("master.Master"))), "master PID file in " + pids);

        // ALSO_UP's worker runs (it is UP's) but registered as UP, so ALSO_UP is missing; DOWN and
        // STALLED start no worker: STALLED is cut off at SPARK_SSH_TIMEOUT, the wait at REGISTER_TIMEOUT
        env.put("SPARK_WORKERS", workersFile(UP, ALSO_UP, DOWN, STALLED).toString());
        env.put("REGISTER_TIMEOUT", "10");
        Result mixed = run(env, 120, "start-cluster.sh");
        String out = mixed.output();
        assertEquals(1, mixed.exit(), out);
        assertTrue(out.contains(UP + ": worker already running"), out);
        assertTrue(out.contains(ALSO_UP + ": worker already running"), out);
        assertTrue(out.contains(DOWN + ": error: no worker started: ssh failed"), out);
        assertTrue(out.contains(STALLED + ": error: no worker started: no answer within " + SSH_TIMEOUT + " s"), out);
        assertTrue(out.contains("workers registered with the master: 1 of 4"), out);
        assertTrue(out.contains("error: not registered with the master within 10 s: " + ALSO_UP + ";"), out);
        assertTrue(out.contains("error: no worker started on " + DOWN + " " + STALLED + ";"), out);
        assertTrue(mixed.took().toSeconds() < SSH_TIMEOUT + 10 + 30,
                "start-cluster.sh took " + mixed.took().toSeconds() + " s:\n" + out);
    }

    @Test
    void startClusterMakesTheSecretOnceAndTheMasterAndWorkersAuthenticateWithIt() throws Exception {
        Map<String, String> env = clusterEnv();
        env.put("SPARK_WORKERS", workersFile(UP).toString());
        env.put("HISTORY_SERVER", "0");
        Path secretFile = Path.of(env.get("SPARK_CONF_DIR"), "spark-secret");
        Path workerCopy = Path.of(env.get("WORKER_CONF_DIR"), "spark-secret");
        assertFalse(Files.exists(secretFile));

        Result first = run(env, 120, "start-cluster.sh");
        assertEquals(0, first.exit(), first.output());
        assertTrue(first.output().contains("secret: made " + secretFile + " (readable by "), first.output());
        String secret = Files.readString(secretFile).strip();
        assertEquals(32, Base64.getDecoder().decode(secret).length, "32 random bytes in base64: " + secret);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secretFile)));
        assertEquals(secret, Files.readString(workerCopy).strip(), "the worker host's copy");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(workerCopy)));
        // the worker registered with the master: both took the secret (a worker with another is refused)
        assertTrue(first.output().contains("workers registered with the master: 1 of 1"), first.output());
        Path pids = sparkHome.resolve("pids");
        for (String daemon : List.of("master.Master", "worker.Worker")) {
            ProcessHandle p = daemon(pids.resolve(pidFile(daemon)));
            String command = String.join(" ", p.info().arguments().orElse(new String[0]));
            assertTrue(command.contains("-Dspark.authenticate=true"), daemon + ": " + command);
            assertFalse(command.contains(secret), daemon + " has the secret on its command line");
            String environ = Files.readString(Path.of("/proc", String.valueOf(p.pid()), "environ"),
                    StandardCharsets.ISO_8859_1);
            assertTrue(environ.contains("_SPARK_AUTH_SECRET=" + secret + "\0"), daemon + " lacks the secret");
        }
        assertEquals(0, run(env, 120, "stop-cluster.sh").exit());

        // made once: the next start keeps it; one readable by others is refused
        Result again = run(env, 120, "start-cluster.sh");
        assertEquals(0, again.exit(), again.output());
        assertFalse(again.output().contains("secret: made"), again.output());
        assertEquals(secret, Files.readString(secretFile).strip());
        assertEquals(0, run(env, 120, "stop-cluster.sh").exit());
        Files.setPosixFilePermissions(secretFile, PosixFilePermissions.fromString("rw-r--r--"));
        Result open = run(env, 120, "start-cluster.sh");
        assertEquals(2, open.exit(), open.output());
        assertTrue(open.output().contains("error: the cluster secret " + secretFile + " is empty or readable by other"
                + " users (mode 644)"), open.output());
        assertFalse(Files.exists(pids.resolve(pidFile("master.Master"))), "no master started:\n" + open.output());
    }

    @Test
    void stopClusterWaitsForTheDaemonsToExitAndNamesTheHostsItCouldNotReach() throws Exception {
        Map<String, String> env = clusterEnv();
        env.put("SPARK_WORKERS", workersFile(UP).toString());
        Result start = run(env, 120, "start-cluster.sh");
        assertEquals(0, start.exit(), start.output());
        Path pids = sparkHome.resolve("pids");
        ProcessHandle worker = daemon(pids.resolve(pidFile("worker.Worker")));
        ProcessHandle master = daemon(pids.resolve(pidFile("master.Master")));
        // an Aeron folder that an ended training JVM left in /dev/shm (RAM)
        Path aeron = Files.createDirectories(Path.of("/dev/shm", "aeron-" + System.getProperty("user.name")
                + "-clusterscriptsit-" + ProcessHandle.current().pid()));

        env.put("SPARK_WORKERS", workersFile(UP, DOWN, STALLED).toString());
        env.put("SPARK_STOP_TIMEOUT", "10");
        env.put("SPARK_SSH_TIMEOUT", "15");
        Result stop = run(env, 120, "stop-cluster.sh");
        String out = stop.output();
        assertEquals(1, stop.exit(), out);
        // the script returned after the daemons had exited, not merely after asking them to
        assertTrue(exited(worker), "the worker still runs after stop-cluster.sh:\n" + out);
        assertTrue(exited(master), "the master still runs after stop-cluster.sh:\n" + out);
        assertFalse(Files.exists(aeron), "the Aeron folder is left:\n" + out);
        assertTrue(out.contains(UP + ": worker stopped"), out);
        assertTrue(out.contains("process(es) exited after"), out);
        assertTrue(out.contains(DOWN + ": error: ssh failed"), out);
        assertTrue(out.contains(STALLED + ": error: no answer within 15 s"), out);
        assertTrue(out.contains("error: could not stop the worker on " + DOWN + " " + STALLED + ";"), out);
        assertTrue(stop.took().toSeconds() < 15 + 10 + 30, "stop-cluster.sh took " + stop.took().toSeconds()
                + " s:\n" + out);
        try (Stream<Path> left = Files.list(pids)) {
            assertEquals(List.of(), left.toList(), "PID files left");
        }
    }

    @Test
    void startClusterStagesTheJobJarOnceAndAgainOnlyWhenItChangesAndSubmitUsesTheStagedCopy() throws Exception {
        Map<String, String> env = clusterEnv();
        String port = env.get("SPARK_MASTER_PORT");
        env.put("SPARK_WORKERS", workersFile(UP).toString());
        env.put("HISTORY_SERVER", "0");
        env.put("STAGE_JAR", "1");
        // a stand-in for the job jar: staging copies its bytes and never opens it
        Path jar = Files.createDirectories(tmp.resolve("build-" + port)).resolve("squeezenet-spark-job.jar");
        Files.write(jar, bytes(1 << 20, 1));
        Path dir = tmp.resolve("staged-" + port);
        env.put("JOB_JAR", jar.toString());
        env.put("JAR_STAGE_DIR", dir.toString());
        // UP is this machine, so the head node's copy is the one ssh put there

        Result first = run(env, 120, "start-cluster.sh");
        assertEquals(0, first.exit(), first.output());
        assertTrue(first.output().contains(UP + ": job jar staged (sent 1048576 bytes"), first.output());
        Path staged = stagedCopy(dir, jar);
        assertArrayEquals(Files.readAllBytes(jar), Files.readAllBytes(staged));
        Object copied = Files.readAttributes(staged, BasicFileAttributes.class).fileKey();

        Result again = run(env, 120, "start-cluster.sh");
        assertEquals(0, again.exit(), again.output());
        assertTrue(again.output().contains(UP + ": job jar already staged"), again.output());
        assertTrue(again.output().contains("this node: job jar already staged"), again.output());
        assertFalse(again.output().contains("sent"), again.output());
        assertEquals(copied, Files.readAttributes(staged, BasicFileAttributes.class).fileKey(), "copied again");

        Map<String, String> submit = new HashMap<>(env);
        submit.put("SPARK_MASTER_URL", "spark://" + StandaloneCluster.HOST + ":" + port);
        submit.put("DRY_RUN", "1");
        submit.put("EXECUTORS", "1");
        submit.put("EXECUTOR_CORES", "1");
        Result local = run(submit, 60, "submit.sh", "train");
        assertEquals(0, local.exit(), local.output());
        assertTrue(local.output().contains(" local:" + staged + " train"), local.output());
        submit.put("STAGED_JAR", "0");
        Result shipped = run(submit, 60, "submit.sh", "train");
        assertTrue(shipped.output().contains(" " + jar + " train") && !shipped.output().contains("local:"),
                shipped.output());
        submit.remove("STAGED_JAR");

        // a rebuilt jar of the same size: submit.sh does not take the old copy for it, staging sends it
        // and deletes the old copy
        Files.write(jar, bytes(1 << 20, 2));
        Result notStaged = run(submit, 60, "submit.sh", "train");
        assertTrue(notStaged.output().contains("note: this build of the job jar is not staged")
                && notStaged.output().contains(" " + jar + " train"), notStaged.output());
        Result changed = run(env, 120, "start-cluster.sh");
        assertEquals(0, changed.exit(), changed.output());
        assertTrue(changed.output().contains(UP + ": job jar staged (sent 1048576 bytes"), changed.output());
        Path restaged = stagedCopy(dir, jar);
        assertArrayEquals(Files.readAllBytes(jar), Files.readAllBytes(restaged));
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(restaged), left.toList(), "staged jars left");
        }

        // a host that cannot be reached: exit 1 naming it, and no copy on the head node, so that
        // submit.sh sends the jar rather than name one that host lacks
        Files.write(jar, bytes(1 << 20, 3));
        env.put("SPARK_WORKERS", workersFile(UP, DOWN).toString());
        Result partly = run(env, 60, "stage-jar.sh");
        assertEquals(1, partly.exit(), partly.output());
        assertTrue(partly.output().contains(DOWN + ": error: cannot tell which jar it holds: ssh failed"), partly.output());
        assertTrue(partly.output().contains("error: job jar not staged on " + DOWN + ";"), partly.output());
        assertFalse(Files.exists(stagedCopy(dir, jar)), "the head node's copy of a jar " + DOWN + " lacks");
    }

    @Test
    void startAndStopClusterRunTheHistoryServerOnTheEventLogFolderTheyCreateAndCanRunAgain() throws Exception {
        Map<String, String> env = clusterEnv();
        env.put("SPARK_WORKERS", workersFile(UP).toString());
        Path events = eventDir(env);
        int port = Integer.parseInt(confValue(env, "spark.history.ui.port"));
        Path pid = sparkHome.resolve("pids").resolve(pidFile("history.HistoryServer"));

        Result start = run(env, 120, "start-cluster.sh");
        assertEquals(0, start.exit(), start.output());
        assertTrue(start.output().contains("event logs: file:" + events), start.output());
        assertTrue(Files.isDirectory(events), "the event-log folder spark-defaults.conf names: " + events);
        assertTrue(start.output().contains("history server: started (web UI http://" + StandaloneCluster.HOST + ":"
                + port + ")"), start.output());
        ProcessHandle server = daemon(pid);
        assertEquals("[]", historyApplications(port).toString(), "the history server reads the empty folder");

        Result again = run(env, 120, "start-cluster.sh");
        assertEquals(0, again.exit(), again.output());
        assertTrue(again.output().contains("history server: already running"), again.output());
        assertEquals(server.pid(), daemon(pid).pid(), "the same history server");

        Result stop = run(env, 120, "stop-cluster.sh");
        assertEquals(0, stop.exit(), stop.output());
        assertTrue(exited(server), "the history server still runs after stop-cluster.sh:\n" + stop.output());
        assertFalse(Files.exists(pid), "its PID file is left:\n" + stop.output());
        assertTrue(stop.output().contains("history server: 1 process(es) exited after"), stop.output());

        Result stopAgain = run(env, 120, "stop-cluster.sh");
        assertEquals(0, stopAgain.exit(), stopAgain.output());
        assertTrue(stopAgain.output().contains("history server: no org.apache.spark.deploy.history.HistoryServer"
                + " to stop"), stopAgain.output());
    }

    @Test
    void startClusterCreatesAnHdfsEventLogFolderWithHdfsAndStartsNothingWhenItCannot() throws Exception {
        Map<String, String> env = clusterEnv();
        env.put("SPARK_WORKERS", workersFile(UP).toString());
        String dir = "hdfs://namenode.invalid:9000/spark-events";
        env.put("SPARK_CONF_DIR", sparkConf("hdfs-" + env.get("SPARK_MASTER_PORT"), "spark.eventLog.dir " + dir)
                .toString());
        env.put("HISTORY_SERVER", "0");
        // a stand-in of Hadoop's hdfs command: records its arguments, answers as HDFS does when down or up
        Path hadoop = Files.createDirectories(tmp.resolve("hadoop-" + env.get("SPARK_MASTER_PORT")).resolve("bin"));
        Path calls = hadoop.resolveSibling("calls");
        Path down = hadoop.resolveSibling("down");
        script(hadoop.resolve("hdfs"), """
                echo "$*" >> %s
                if [ -e %s ]; then
                  echo "mkdir: Call From head to namenode.invalid:9000 failed on connection exception" >&2
                  exit 1
                fi
                """.formatted(calls, down));
        env.put("HADOOP_HOME", hadoop.getParent().toString());
        Files.createFile(down);

        Result refused = run(env, 120, "start-cluster.sh");
        assertEquals(1, refused.exit(), refused.output());
        assertTrue(refused.output().contains("error: cannot create the event-log folder " + dir
                + " (spark.eventLog.dir, spark.history.fs.logDirectory in "), refused.output());
        assertTrue(refused.output().contains("failed on connection exception; start HDFS first"), refused.output());
        assertFalse(Files.exists(sparkHome.resolve("pids").resolve(pidFile("master.Master"))),
                "no master started:\n" + refused.output());

        Files.delete(down);
        Result up = run(env, 120, "start-cluster.sh");
        assertEquals(0, up.exit(), up.output());
        assertTrue(up.output().contains("event logs: " + dir), up.output());
        assertEquals(List.of("dfs -mkdir -p " + dir, "dfs -mkdir -p " + dir), Files.readAllLines(calls));
        assertFalse(up.output().contains("history server:"), "HISTORY_SERVER=0: " + up.output());
        assertFalse(Files.exists(sparkHome.resolve("pids").resolve(pidFile("history.HistoryServer"))));
    }

    @Test
    void clusterSweepPlansFromTheLiveWorkersOfTheMastersJsonView() throws Exception {
        StandaloneCluster cluster = liveCluster();
        Map<String, String> env = liveEnv(cluster);
        env.put("SPARK_WORKERS", workersFile("pi01", "pi02", "pi03").toString());
        String[] args = {"--dry-run", "--partitions", "1,2,3,4", "--data", "data", "--out", "sweep-out"};

        Result r = run(env, 60, "cluster-sweep.sh", args);
        String out = r.output();
        assertEquals(0, r.exit(), out);
        assertTrue(out.contains("plan: 2 live worker hosts with 1 cores and 512 MB for an executor, from the"
                + " master's web UI"), out);
        assertTrue(out.contains("env EXECUTORS=1 EXECUTOR_CORES=1 OMP_THREADS=1 "), out);
        assertTrue(plannedRun(out, 2).contains("EXECUTORS=2 "), out);
        assertTrue(plannedRun(out, 3).contains("EXECUTORS=1 "), out);
        assertTrue(plannedRun(out, 4).contains("EXECUTORS=2 "), out);
        assertTrue(out.contains("submit/report.sh sweep-out"), "the report of the --out folder at the end: " + out);

        // the master's web UI does not answer: the workers file, said so
        env.put("SPARK_MASTER_WEBUI_PORT", String.valueOf(StandaloneCluster.freeTcpPort()));
        Result fallback = run(env, 60, "cluster-sweep.sh", args);
        assertEquals(0, fallback.exit(), fallback.output());
        assertTrue(fallback.output().contains("the master's web UI did not answer"), fallback.output());
        assertTrue(fallback.output().contains("planning from the 3 hosts in the workers file"), fallback.output());
        assertTrue(plannedRun(fallback.output(), 3).contains("EXECUTORS=3 "), fallback.output());

        // no live worker has the cores an executor asks for: the cluster cannot host any P now
        env.put("SPARK_MASTER_WEBUI_PORT", String.valueOf(cluster.webUiPort()));
        env.put("EXECUTOR_CORES", "2");
        Result tooSmall = run(env, 60, "cluster-sweep.sh", args);
        assertEquals(Main.EXIT_CLUSTER, tooSmall.exit(), tooSmall.output());
        assertTrue(tooSmall.output().contains("lists no live worker with 2 cores"), tooSmall.output());
    }

    @Test
    void submitPlansTheExecutorsFromPartitionsAndRefusesClusterDeployMode() throws Exception {
        Map<String, String> env = liveEnv(liveCluster());
        env.put("DRY_RUN", "1");

        Result train = run(env, 60, "submit.sh", "train", "--partitions", "4", "--data", "data");
        assertEquals(0, train.exit(), train.output());
        assertTrue(train.output().contains("plan: P=4 on 2 executor(s) x 2 replica(s)"), train.output());
        assertTrue(train.output().contains("--conf spark.executor.instances=2 "), train.output());
        assertTrue(train.output().contains("--total-executor-cores 2 "), train.output());
        assertTrue(train.output().contains("--conf spark.executorEnv.OMP_NUM_THREADS=1 "), train.output());
        assertTrue(train.output().contains("--conf spark.authenticate=true --conf spark.sqzspark.secretFile="
                + env.get("SPARK_SECRET_FILE") + " "), "the cluster's secret file, for the driver: " + train.output());
        assertFalse(train.output().contains(Files.readString(Path.of(env.get("SPARK_SECRET_FILE"))).strip()),
                "the secret itself on the command line: " + train.output());

        Map<String, String> noSecret = new HashMap<>(env);
        noSecret.put("SPARK_SECRET_FILE", tmp.resolve("no-such-secret").toString());
        Result refused = run(noSecret, 60, "submit.sh", "train", "--partitions", "4");
        assertEquals(2, refused.exit(), refused.output());
        assertTrue(refused.output().contains("\nerror: no cluster secret at " + tmp.resolve("no-such-secret")
                + " (SPARK_SECRET_FILE): submit/start-cluster.sh makes it"), refused.output());

        Result sweep = run(env, 60, "submit.sh", "sweep", "-p", "2,4");
        assertEquals(0, sweep.exit(), sweep.output());
        assertTrue(sweep.output().contains("--conf spark.executor.instances=2 "), sweep.output());

        // in the job's default sweep on 2 workers, P=1 needs 1 executor and the other P 2
        Result mixed = run(env, 60, "submit.sh", "sweep");
        assertEquals(2, mixed.exit(), mixed.output());
        assertTrue(mixed.output().contains("run submit/cluster-sweep.sh"), mixed.output());

        env.put("EXECUTORS", "1");
        Result given = run(env, 60, "submit.sh", "train", "--partitions", "4");
        assertEquals(0, given.exit(), given.output());
        assertTrue(given.output().contains("--conf spark.executor.instances=1 "), given.output());
        assertFalse(given.output().contains("plan:"), given.output());

        env.remove("EXECUTORS");
        env.put("DEPLOY_MODE", "cluster");
        Result cluster = run(env, 60, "submit.sh", "train");
        assertEquals(2, cluster.exit(), cluster.output());
        assertEquals(1, cluster.output().strip().lines().count(), "one line: " + cluster.output());
        assertTrue(cluster.output().startsWith("error: DEPLOY_MODE=cluster")
                && cluster.output().contains("client mode"), cluster.output());
    }

    @Test
    void clusterSweepSkipsAPartitionCountTheClusterCannotHostThenWritesTheReport() throws Exception {
        StandaloneCluster cluster = liveCluster();
        Map<String, String> env = liveEnv(cluster);
        env.put("SPARK_CONF_DIR", sparkConf(15).toString());
        Path data = SyntheticCifar.write(tmp.resolve("cifar-skip"), 6, 2, 5);
        Path out = tmp.resolve("sweep-skip");
        // --workers 3 plans P=3 on 3 executors, which the 2 workers cannot host; P=1 runs on 1
        Result r = run(env, 600, "cluster-sweep.sh", "--workers", "3", "--partitions", "3,1", "--data",
                data.toString(), "--out", out.toString(), "--epochs", "1", "--batch", "8", "--loss-sample", "20",
                "--training-master", "averaging");
        String output = r.output();
        assertEquals(Main.EXIT_CLUSTER, r.exit(), output + cluster.diagnostics());
        assertTrue(output.contains("only 2 of the 3 executors asked for"), output);
        int skipped = output.indexOf("P=3 skipped: the cluster cannot host it now (exit code 5");
        assertTrue(skipped >= 0, output);
        assertTrue(output.indexOf("=== P=1") > skipped, "the sweep went on with the next P: " + output);
        assertTrue(output.contains("skipped P=3"), output);
        List<String> csv = Files.readAllLines(out.resolve(ResultStore.CSV_NAME));
        assertEquals(2, csv.size(), "one run of one epoch: " + String.join("\n", csv));
        assertTrue(Files.size(out.resolve("report.html")) > 0, "report.html in --out: " + output);
    }

    @Test
    void clusterSweepStopsAtAnInvalidOption() throws Exception {
        Map<String, String> env = liveEnv(liveCluster());
        Result r = run(env, 300, "cluster-sweep.sh", "--partitions", "1,2", "--data",
                tmp.resolve("nowhere").toString(), "--out", tmp.resolve("sweep-invalid").toString(), "--epochs", "0");
        assertEquals(2, r.exit(), r.output());
        assertTrue(r.output().contains("error: --epochs"), "the job's message names the option: " + r.output());
        assertTrue(r.output().contains("the sweep stops"), r.output());
        assertFalse(r.output().contains("=== P=2"), "no run after an invalid option: " + r.output());
    }

    // ---- the stand-in hosts

    /** Starts the test's sshd and the stalled host; returns why that cannot be done here, or null. */
    private static String startSshd() throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "not root: the stand-in hosts are this machine reached by ssh as root";
        }
        if (!Files.isExecutable(SSHD)) {
            // CI installs it (.ci/run); elsewhere try Debian's package once
            Map<String, String> apt = Map.of("DEBIAN_FRONTEND", "noninteractive");
            if (exec(List.of("apt-get", "install", "-y", "-qq", "openssh-server"), apt, 300) != 0) {
                exec(List.of("apt-get", "update", "-qq"), apt, 300);
                exec(List.of("apt-get", "install", "-y", "-qq", "openssh-server"), apt, 300);
            }
            if (!Files.isExecutable(SSHD)) {
                return SSHD + " is missing and Debian's openssh-server could not be installed";
            }
        }
        Path dir = Files.createDirectories(tmp.resolve("ssh"));
        for (String key : List.of("host_key", "id")) {
            assertEquals(0, exec(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    dir.resolve(key).toString()), Map.of(), 60), "ssh-keygen failed");
        }
        Files.copy(dir.resolve("id.pub"), dir.resolve("authorized_keys"));
        int port = StandaloneCluster.freeTcpPort();
        Path config = dir.resolve("sshd_config");
        Files.writeString(config, String.join("\n",
                "Port " + port, "ListenAddress " + UP, "ListenAddress " + ALSO_UP,
                "HostKey " + dir.resolve("host_key"), "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
                "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                "UsePAM no", "StrictModes no", "PidFile " + dir.resolve("sshd.pid"), ""));
        // sshd's privilege separation folder, which the package's service would create
        Files.createDirectories(Path.of("/run/sshd"));
        Path log = dir.resolve("sshd.log");
        sshd = new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", config.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        awaitPort(UP, port, log);
        awaitPort(ALSO_UP, port, log);
        stalled = new ServerSocket();
        stalled.bind(new InetSocketAddress(InetAddress.getByName(STALLED), port));
        Thread acceptor = new Thread(() -> {
            while (!stalled.isClosed()) {
                try {
                    held.add(stalled.accept());
                } catch (IOException e) {
                    return;
                }
            }
        }, "stalled-host");
        acceptor.setDaemon(true);
        acceptor.start();
        // ssh's own ConnectTimeout is longer than SPARK_SSH_TIMEOUT: the scripts' time limit must cut it
        sshOpts = "-p " + port + " -i " + dir.resolve("id") + " -o BatchMode=yes -o ConnectTimeout=60"
                + " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR";
        return null;
    }

    private static void awaitPort(String host, int port, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket(InetAddress.getByName(host), port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        fail("sshd did not listen on " + host + ":" + port + " within 30 s:\n" + Files.readString(log));
    }

    /**
     * A Spark installation's layout with stand-ins for Spark's sbin/ daemon scripts and
     * bin/spark-submit, running Spark's own classes from jars/ (the job jar).
     */
    private static Path standInSparkHome(Path home) throws IOException {
        Files.createDirectories(home.resolve("sbin"));
        Files.createDirectories(home.resolve("bin"));
        Files.createDirectories(home.resolve("jars"));
        Files.createSymbolicLink(home.resolve("jars").resolve(JAR.getFileName()), JAR);
        String flags = String.join(" ", StandaloneCluster.JVM_FLAGS);
        script(home.resolve("sbin/spark-daemon.sh"), """
                # stand-in for Spark's sbin/spark-daemon.sh (start|stop) CLASS INSTANCE [ARGS]: the same PID
                # and log files, messages and exit codes
                action=$1 class=$2 instance=$3
                shift 3
                export SPARK_HOME=%s
                export SPARK_CONF_DIR="${SPARK_CONF_DIR:-$SPARK_HOME/conf}"
                if [ -f "$SPARK_CONF_DIR/spark-env.sh" ]; then set -a; . "$SPARK_CONF_DIR/spark-env.sh"; set +a; fi
                SPARK_PID_DIR="${SPARK_PID_DIR:-/tmp}"
                SPARK_IDENT_STRING="${SPARK_IDENT_STRING:-$USER}"
                mkdir -p "$SPARK_PID_DIR" "$SPARK_HOME/logs"
                pid="$SPARK_PID_DIR/spark-$SPARK_IDENT_STRING-$class-$instance.pid"
                log="$SPARK_HOME/logs/spark-$SPARK_IDENT_STRING-$class-$instance.out"
                running() { [ -f "$pid" ] && kill -0 "$(cat "$pid")" 2> /dev/null; }
                # the daemon's own options, as Spark's launcher adds them (spark-env.sh's words have no spaces)
                case "$class" in
                  *.Master) opts="${SPARK_MASTER_OPTS:-}" ;;
                  *.Worker) opts="${SPARK_WORKER_OPTS:-}" ;;
                  *) opts="" ;;
                esac
                case "$action" in
                  start)
                    if running; then echo "$class running as process $(cat "$pid").  Stop it first."; exit 1; fi
                    nohup %s -Xmx"${SPARK_DAEMON_MEMORY:-1g}" %s $opts -cp "$SPARK_HOME/jars/*" "$class" "$@" \\
                      >> "$log" 2>&1 < /dev/null &
                    echo $! > "$pid"
                    sleep 2
                    if ! running; then echo "failed to launch: $class"; tail -n 10 "$log"; fi
                    echo "starting $class, logging to $log"
                    ;;
                  stop)
                    if running; then echo "stopping $class"; kill "$(cat "$pid")" && rm -f "$pid"
                    else echo "no $class to stop"; fi
                    ;;
                esac
                """.formatted(home, JAVA, flags));
        script(home.resolve("sbin/start-master.sh"), """
                exec "$(dirname "$0")/spark-daemon.sh" start org.apache.spark.deploy.master.Master 1 \\
                  --host "${SPARK_MASTER_HOST:-$(hostname)}" --port "${SPARK_MASTER_PORT:-7077}" \\
                  --webui-port "${SPARK_MASTER_WEBUI_PORT:-8080}"
                """);
        // a Pi's worker registers with its own address; every stand-in host is this machine, so the
        // worker takes the address ssh reached it by
        script(home.resolve("sbin/start-worker.sh"), """
                host=$(echo "${SSH_CONNECTION:-x x 127.0.0.1}" | cut -d" " -f3)
                exec "$(dirname "$0")/spark-daemon.sh" start org.apache.spark.deploy.worker.Worker 1 \\
                  --host "$host" --webui-port 0 "$1"
                """);
        script(home.resolve("sbin/stop-worker.sh"), """
                exec "$(dirname "$0")/spark-daemon.sh" stop org.apache.spark.deploy.worker.Worker 1
                """);
        script(home.resolve("sbin/stop-master.sh"), """
                exec "$(dirname "$0")/spark-daemon.sh" stop org.apache.spark.deploy.master.Master 1
                """);
        script(home.resolve("sbin/start-history-server.sh"), """
                exec "$(dirname "$0")/spark-daemon.sh" start org.apache.spark.deploy.history.HistoryServer 1 "$@"
                """);
        script(home.resolve("sbin/stop-history-server.sh"), """
                exec "$(dirname "$0")/spark-daemon.sh" stop org.apache.spark.deploy.history.HistoryServer 1
                """);
        script(home.resolve("bin/spark-submit"), """
                exec %s -Xmx1g %s -cp "$(dirname "$0")/../jars/*" org.apache.spark.deploy.SparkSubmit "$@"
                """.formatted(JAVA, flags));
        return home;
    }

    private static void script(Path file, String body) throws IOException {
        Files.writeString(file, "#!/usr/bin/env bash\n" + body);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** The PID file name spark-daemon.sh gives a daemon of org.apache.spark.deploy.{@code name}. */
    private static String pidFile(String name) {
        return "spark-" + System.getProperty("user.name") + "-org.apache.spark.deploy." + name + "-1.pid";
    }

    private static ProcessHandle daemon(Path pidFile) throws IOException {
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        return ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no process " + pid + " of " + pidFile));
    }

    /** Gone, or a zombie that only its new parent has yet to reap. */
    private static boolean exited(ProcessHandle process) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(process.pid()), "stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return true;
        }
    }

    private static void killDaemons() throws IOException {
        Path pids = sparkHome == null ? null : sparkHome.resolve("pids");
        if (pids == null || !Files.isDirectory(pids)) {
            return;
        }
        try (Stream<Path> files = Files.list(pids)) {
            for (Path f : files.toList()) {
                Optional<ProcessHandle> p = ProcessHandle.of(Long.parseLong(Files.readString(f).strip()));
                p.ifPresent(h -> {
                    h.descendants().forEach(ProcessHandle::destroyForcibly);
                    h.destroyForcibly();
                });
                Files.delete(f);
            }
        }
    }

    // ---- the live standalone master of the planning tests

    /** Spark's master and two one-core workers on hosts of their own, registered. */
    private static synchronized StandaloneCluster liveCluster() throws Exception {
        if (live == null) {
            live = StandaloneCluster.start(JAR, tmp.resolve("live"), LIVE_HOSTS, 1, "2g",
                    StandaloneCluster.writeSecret(tmp.resolve("live-secret")));
            String webUi = "http://" + StandaloneCluster.HOST + ":" + live.webUiPort() + "/json/";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (aliveWorkers(webUi).size() < LIVE_HOSTS.size()) {
                assertTrue(System.nanoTime() < deadline, "the workers did not register:" + live.diagnostics());
                Thread.sleep(500);
            }
        }
        return live;
    }

    /** The hosts of the ALIVE workers in the master's JSON view; none while it does not answer. */
    private static List<String> aliveWorkers(String url) {
        try (InputStream in = URI.create(url).toURL().openStream()) {
            List<String> hosts = new ArrayList<>();
            for (JsonNode w : JSON.readTree(in).path("workers")) {
                if (w.path("state").asText().equals("ALIVE")) {
                    hosts.add(w.path("host").asText());
                }
            }
            return hosts;
        } catch (IOException e) {
            return List.of();
        }
    }

    /** This repository's spark-conf/ with the test's driver address and executor wait, event logs in tmp. */
    private static Path sparkConf(int executorWaitSeconds) throws IOException {
        String name = "spark-conf-" + executorWaitSeconds;
        return sparkConf(name, "spark.driver.host " + StandaloneCluster.HOST,
                "spark.driver.bindAddress " + StandaloneCluster.HOST, "spark.ui.enabled false",
                "spark.executor.extraClassPath " + JAR, "spark.sqzspark.executorWaitSeconds " + executorWaitSeconds,
                "spark.eventLog.dir file:" + tmp.resolve("events-" + name));
    }

    /**
     * This repository's spark-conf/ in tmp/{@code name} with {@code settings} appended to
     * spark-defaults.conf (the last value of a key wins, for Spark and for the scripts).
     */
    private static Path sparkConf(String name, String... settings) throws IOException {
        Path conf = Files.createDirectories(tmp.resolve(name));
        try (Stream<Path> files = Files.list(StandaloneCluster.SPARK_CONF)) {
            // not a secret a start-cluster.sh on this checkout made: the tests make their own
            for (Path f : files.filter(f -> !f.getFileName().toString().equals("spark-secret")).toList()) {
                Files.copy(f, conf.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.writeString(conf.resolve("spark-defaults.conf"), "\n" + String.join("\n", settings) + "\n",
                StandardOpenOption.APPEND);
        return conf;
    }

    /** The value of a key in the spark-defaults.conf of {@code env}'s SPARK_CONF_DIR (the last one). */
    private static String confValue(Map<String, String> env, String key) throws IOException {
        String value = null;
        for (String line : Files.readAllLines(Path.of(env.get("SPARK_CONF_DIR"), "spark-defaults.conf"))) {
            String[] words = line.strip().split("\\s+", 2);
            if (words.length == 2 && words[0].equals(key)) {
                value = words[1];
            }
        }
        return value;
    }

    /** The event-log folder of {@link #clusterEnv()}'s spark-conf/ (not yet created). */
    private static Path eventDir(Map<String, String> env) {
        return tmp.resolve("events-" + env.get("SPARK_MASTER_PORT"));
    }

    /** The history server's list of applications, once it answers (within 60 s). */
    private static JsonNode historyApplications(int port) throws Exception {
        URI api = URI.create("http://" + StandaloneCluster.HOST + ":" + port + "/api/v1/applications");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (InputStream in = api.toURL().openStream()) {
                return JSON.readTree(in);
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the history server did not answer at " + api + ": " + e);
                }
                Thread.sleep(500);
            }
        }
    }

    // ---- running the scripts

    private static Map<String, String> clusterEnv() throws IOException {
        assumeTrue(noSsh == null, noSsh);
        Map<String, String> env = baseEnv();
        env.put("SPARK_SSH_OPTS", sshOpts);
        env.put("SPARK_SSH_TIMEOUT", String.valueOf(SSH_TIMEOUT));
        env.put("SPARK_MASTER_HOST", StandaloneCluster.HOST);
        env.put("SPARK_MASTER_PORT", String.valueOf(StandaloneCluster.freeTcpPort()));
        env.put("SPARK_MASTER_WEBUI_PORT", String.valueOf(StandaloneCluster.freeTcpPort()));
        // the job jar is staged only where a test asks for it
        env.put("STAGE_JAR", "0");
        env.put("WORKER_CONF_DIR", tmp.resolve("worker-conf-" + env.get("SPARK_MASTER_PORT")).toString());
        // spark-conf/ names the Pis' HDFS: event logs into a folder of the test's, the history server on a free port
        env.put("SPARK_CONF_DIR", sparkConf("spark-conf-" + env.get("SPARK_MASTER_PORT"),
                "spark.eventLog.dir file:" + eventDir(env), "spark.history.fs.logDirectory file:" + eventDir(env),
                "spark.history.ui.port " + StandaloneCluster.freeTcpPort()).toString());
        return env;
    }

    private static Map<String, String> liveEnv(StandaloneCluster cluster) {
        Map<String, String> env = baseEnv();
        env.put("SPARK_MASTER_URL", cluster.masterUrl());
        env.put("SPARK_SECRET_FILE", cluster.secretFile().toString());
        env.put("SPARK_MASTER_WEBUI_PORT", String.valueOf(cluster.webUiPort()));
        env.put("EXECUTOR_CORES", "1");
        env.put("EXECUTOR_MEMORY", "512m");
        return env;
    }

    private static Map<String, String> baseEnv() {
        Map<String, String> env = new HashMap<>();
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("JOB_JAR", JAR.toString());
        env.put("JAVA", JAVA);
        env.put("USER", System.getProperty("user.name"));
        return env;
    }

    /** Deterministic bytes that differ with {@code seed}. */
    private static byte[] bytes(int size, int seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Where submit/stage-jar.sh puts {@code jar} in {@code dir}: its name with 16 hex digits of its SHA-256. */
    private static Path stagedCopy(Path dir, Path jar) throws Exception {
        byte[] hash = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(jar));
        String name = jar.getFileName().toString().replaceFirst("\\.jar$", "");
        return dir.resolve(name + "-" + HexFormat.of().formatHex(hash).substring(0, 16) + ".jar");
    }

    private static Path workersFile(String... hosts) throws IOException {
        Path file = Files.createTempFile(tmp, "workers", "");
        Files.writeString(file, String.join("\n", hosts) + "\n");
        return file;
    }

    /** The dry-run line of the run of {@code p} partitions. */
    private static String plannedRun(String output, int p) {
        return output.lines().filter(l -> l.startsWith("env ") && l.contains(" train --partitions " + p + " "))
                .findFirst().orElse("(no planned run of P=" + p + ")");
    }

    private static Result run(Map<String, String> env, long limitSeconds, String script, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", ROOT.resolve("submit").resolve(script).toString()));
        command.addAll(List.of(args));
        Path log = Files.createTempFile(tmp, script, ".log");
        // output to a file: a daemon a script leaves running must not hold a pipe open
        ProcessBuilder pb = new ProcessBuilder(command).directory(tmp.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        for (String name : List.of("SPARK_MASTER_URL", "SPARK_CONF_DIR", "SPARK_PID_DIR", "SPARK_WORKERS",
                "SPARK_SSH_OPTS", "EXECUTORS", "EXECUTOR_CORES", "EXECUTOR_MEMORY", "OMP_THREADS", "DEPLOY_MODE",
                "DRY_RUN", "TOTAL_EXECUTOR_CORES", "SPARK_IDENT_STRING", "HISTORY_SERVER", "HADOOP_HOME",
                "SPARK_SECRET_FILE", "_SPARK_AUTH_SECRET", "STAGE_JAR", "STAGED_JAR", "JAR_STAGE_DIR",
                "WORKER_SPARK_HOME")) {
            pb.environment().remove(name);
        }
        pb.environment().putAll(env);
        long start = System.nanoTime();
        Process p = pb.start();
        if (!p.waitFor(limitSeconds, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
            fail(script + " did not finish within " + limitSeconds + " s:\n" + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log), Duration.ofNanos(System.nanoTime() - start));
    }

    private static int exec(List<String> command, Map<String, String> env, long limitSeconds)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(limitSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            return -1;
        }
        return p.exitValue();
    }
}
