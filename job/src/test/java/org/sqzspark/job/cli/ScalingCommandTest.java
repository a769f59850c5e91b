package org.sqzspark.job.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScalingCommandTest {

    @TempDir
    Path tmp;

    private record Run(int exit, String out, String err) {
    }

    private static Run scaling(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 1];
        all[0] = "scaling";
        System.arraycopy(args, 0, all, 1, args.length);
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), all);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void predictsEveryNodeCountForBothMastersFromTheShippedCalibrationAndWritesTableAndCharts() throws Exception {
        Run r = scaling("--nodes", "24", "--replicas-per-node", "2", "--step-seconds", "0.36", "--out",
                tmp.toString());
        assertEquals(0, r.exit(), r.err());
        List<String> rows = r.out().lines().filter(l -> l.matches("\\s+\\d+\\s+\\d+\\s+(averaging|shared)\\s.*")).toList();
        assertEquals(48, rows.size(), r.out());
        assertTrue(rows.get(0).matches("\\s+1\\s+2\\s+averaging\\s.*\\s1\\.00\\s+1\\.00"), rows.get(0));
        assertTrue(r.out().contains("over 11x faster at 48 processes"), "set against the study");
        assertEquals(49, Files.readAllLines(tmp.resolve("scaling.csv")).size());
        for (String png : List.of("scaling-speedup.png", "scaling-efficiency.png")) {
            byte[] bytes = Files.readAllBytes(tmp.resolve(png));
            assertTrue(bytes.length > 1000 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G', png);
        }
    }

    @Test
    void aSlowerLinkNeverPredictsAFasterEpoch() {
        Run fast = scaling("--nodes", "8", "--link-mbit", "1000");
        Run slow = scaling("--nodes", "8", "--link-mbit", "100");
        assertEquals(0, fast.exit() + slow.exit(), fast.err() + slow.err());
        List<String> f = fast.out().lines().filter(l -> l.matches("\\s+8\\s+16\\s.*")).toList();
        List<String> s = slow.out().lines().filter(l -> l.matches("\\s+8\\s+16\\s.*")).toList();
        for (int i = 0; i < f.size(); i++) {
            double fastEpoch = Double.parseDouble(f.get(i).trim().split("\\s+")[7]);
            double slowEpoch = Double.parseDouble(s.get(i).trim().split("\\s+")[7]);
            assertTrue(slowEpoch >= fastEpoch, f.get(i) + " / " + s.get(i));
        }
    }

    @Test
    void badOptionsNameTheOptionAndExitNonZero() {
        Run zero = scaling("--link-mbit", "0");
        assertTrue(zero.exit() != 0 && zero.err().contains("--link-mbit"), zero.err());
        Run noStep = scaling("--results", tmp.toString());
        assertTrue(noStep.exit() != 0 && noStep.err().contains("--calibration-step-seconds"), noStep.err());
        Run empty = scaling("--results", tmp.toString(), "--calibration-step-seconds", "0.2");
        assertTrue(empty.exit() != 0 && empty.err().contains(tmp.toString()), empty.err());
        Run save = scaling("--save-calibration", tmp.resolve("c.json").toString());
        assertTrue(save.exit() != 0 && save.err().contains("--results"), save.err());
        assertTrue(!Files.exists(tmp.resolve("c.json")), "nothing written");
    }
}
