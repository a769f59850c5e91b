package org.sqzspark.job.train;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqzspark.job.SyntheticCifar;
import org.sqzspark.job.LogCapture;
import org.sqzspark.job.TestConfigs;
import org.sqzspark.job.cli.Main;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Progress lines of real runs on local[2], through each training master and in turns, with the
 * interval between lines lowered to a quarter of a second and executor heartbeats (which carry
 * running tasks' counts to the driver) to half a second.
 */
class ProgressIT {

    private static final String HEARTBEAT = "spark.executor.heartbeatInterval";
    private static final Pattern PROGRESS = Pattern.compile(
            "Progress: P=(\\d+) epoch (\\d+)/(\\d+): step (\\d+)/(\\d+) \\((\\d+)%\\)(.*)");
    private static final Pattern ESTIMATES = Pattern.compile(", (\\d+) images/s, epoch (.+) left, (run|sweep) ~(.+) left");
    private static final Pattern EPOCH = Pattern.compile("Trainer: P=(\\d+) epoch (\\d+)/(\\d+): test accuracy.*");

    @TempDir
    static Path tmp;
    static Path data;
    private static String heartbeatBefore;
    private final StringWriter logged = new StringWriter();
    private LogCapture logCapture;

    @BeforeAll
    static void writeDataAndLowerIntervals() throws Exception {
        // 800 training images: epochs of seconds, long enough for several lines
        data = SyntheticCifar.write(tmp.resolve("cifar"), 160, 10, 5);
        Progress.interval(Duration.ofMillis(250));
        heartbeatBefore = System.getProperty(HEARTBEAT);
        System.setProperty(HEARTBEAT, "500ms");
    }

    @AfterAll
    static void restoreIntervals() {
        Progress.interval(Progress.INTERVAL);
        if (heartbeatBefore == null) {
            System.clearProperty(HEARTBEAT);
        } else {
            System.setProperty(HEARTBEAT, heartbeatBefore);
        }
    }

    /** Everything the job logs goes to the console at run time; here it is captured as well. */
    @BeforeEach
    void captureLog() {
        logCapture = LogCapture.start("ProgressIT", logged, "%c{1}: %m%n");
    }

    @AfterEach
    void stopCapturingLog() {
        logCapture.close();
    }

    private int run(String... args) {
        List<String> all = new ArrayList<>(List.of("--master", TestConfigs.MASTER, "--data", data.toString(),
                "--out", tmp.resolve("out").toString(), "--batch", "16", "--loss-sample", "50"));
        all.addAll(0, List.of(args));
        return Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(new StringWriter(), true),
                all.toArray(String[]::new));
    }

    @Test
    void averagingSweepLogsProgressWithTheSweepsTimeLeft() {
        assertEquals(0, run("sweep", "--partitions", "1,2", "--epochs", "2", "--training-master", "averaging",
                "--embedded", "spark"));
        List<Matcher> lines = progressLines(List.of(1, 2), 2, "sweep");
        assertTrue(lines.stream().anyMatch(m -> m.group(1).equals("1")), "P=1 reported:\n" + logged);
        assertTrue(lines.stream().anyMatch(m -> m.group(1).equals("2")), "P=2 reported:\n" + logged);
    }

    @Test
    void gradientSharingLogsStepsCountedOnTheExecutors() {
        assertEquals(0, run("train", "-p", "2", "--epochs", "2", "--training-master", "shared",
                "--embedded", "spark"));
        progressLines(List.of(2), 2, "run");
    }

    @Test
    void replicasInTurnsLogProgress() {
        assertEquals(0, run("train", "-p", "2", "--epochs", "1", "--training-master", "averaging"));
        progressLines(List.of(2), 1, "run");
    }

    @Test
    void quietKeepsOnlyTheEpochLines() {
        // the run of replicasInTurnsLogProgress, which logs progress lines without --quiet
        assertEquals(0, run("train", "-p", "2", "--epochs", "1", "--training-master", "averaging", "--quiet"));
        String log = logged.toString();
        assertTrue(EPOCH.matcher(log).find(), "the epoch line is kept:\n" + log);
        assertFalse(log.contains("Progress:"), "no progress line:\n" + log);
        assertReporterGone();
    }

    /**
     * The progress lines of runs at {@code partitions}, in that order, of {@code epochs} epochs each:
     * each one between its epoch's start and its epoch's line, counting up within an epoch, at least
     * one with its rate and time left, none after the last epoch line; and the reporter thread gone.
     */
    private List<Matcher> progressLines(List<Integer> partitions, int epochs, String scope) {
        String log = logged.toString();
        List<Matcher> progress = new ArrayList<>();
        int run = 0;
        int epoch = 1;
        int lastStep = -1;
        for (String line : log.split("\n")) {
            Matcher p = PROGRESS.matcher(line);
            Matcher e = EPOCH.matcher(line);
            if (p.matches()) {
                assertTrue(run < partitions.size(), "a progress line after the last epoch line:\n" + log);
                assertEquals(partitions.get(run), Integer.parseInt(p.group(1)), line);
                assertEquals(epoch, Integer.parseInt(p.group(2)), "a line of the epoch training: " + line);
                assertEquals(epochs, Integer.parseInt(p.group(3)), line);
                int step = Integer.parseInt(p.group(4));
                assertTrue(step >= lastStep && step <= Integer.parseInt(p.group(5)), "steps count up: " + line);
                lastStep = step;
                String rest = p.group(7);
                assertTrue(rest.equals(", images/s and time left once the first steps are counted")
                        || ESTIMATES.matcher(rest).matches() && rest.contains(scope + " ~"), line);
                progress.add(p);
            } else if (e.matches()) {
                assertEquals(partitions.get(run), Integer.parseInt(e.group(1)), line);
                assertEquals(epoch, Integer.parseInt(e.group(2)), line);
                lastStep = -1;
                if (++epoch > epochs) {
                    epoch = 1;
                    run++;
                }
            }
        }
        assertEquals(partitions.size(), run, "every epoch line logged:\n" + log);
        assertTrue(progress.stream().anyMatch(m -> Integer.parseInt(m.group(4)) > 0
                && ESTIMATES.matcher(m.group(7)).matches()), "a line with steps counted, images/s and time left:\n" + log);
        assertReporterGone();
        return progress;
    }

    private static void assertReporterGone() {
        assertTrue(Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith(Progress.THREAD_NAME)), "the reporter thread is gone");
    }
}
