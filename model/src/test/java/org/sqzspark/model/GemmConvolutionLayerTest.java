package org.sqzspark.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class GemmConvolutionLayerTest {

    /** Seconds of broadcasts under collections: ND4J's own row broadcast died within 11-16 s here. */
    private static final int STRESS_SECONDS = 30;

    @Test
    void fillRowsSetsEveryRowToTheBiasViewLeavingTheParametersAlone() {
        INDArray params = Nd4j.linspace(DataType.FLOAT, 1, 40, 1).reshape(1, 40);
        INDArray bias = params.get(point(0), interval(10, 18)).reshape(1, 8);
        for (int rows : new int[] {1, 5}) {
            INDArray z = Nd4j.rand(DataType.FLOAT, rows, 8);
            GemmConvolutionLayer.fillRows(z, bias, Nd4j.ones(DataType.FLOAT, 1, rows));
            for (int r = 0; r < rows; r++) {
                assertArrayEquals(bias.toFloatVector(), z.getRow(r).toFloatVector(), "row " + r + " of " + rows);
            }
        }
        assertEquals(Nd4j.linspace(DataType.FLOAT, 1, 40, 1).reshape(1, 40), params);
    }

    @Test
    void biasBroadcastsSurviveCollectionsDuringTheNativeCall(@TempDir Path tmp)
            throws IOException, InterruptedException {
        // a JVM of its own: if the broadcast's buffers are freed under libnd4j, that JVM dies, not this one
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-opens") || arg.startsWith("-Dorg.bytedeco")) {
                command.add(arg);
            }
        }
        // a small young generation: collections every few milliseconds
        command.addAll(List.of("-Xmx512m", "-Xmn8m", "-XX:ErrorFile=" + tmp.resolve("hs_err_pid%p.log"),
                "-cp", System.getProperty("java.class.path"), BiasBroadcastStress.class.getName(),
                String.valueOf(STRESS_SECONDS)));
        Path log = tmp.resolve("stress.log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean ended = p.waitFor(STRESS_SECONDS + 120, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        String tail = output.substring(Math.max(0, output.length() - 3000));
        assertTrue(ended, "the stress JVM did not end; its output:\n" + tail);
        assertEquals(0, p.exitValue(), "the stress JVM died (134: abort after SIGSEGV); its output:\n" + tail);
        assertTrue(output.contains(BiasBroadcastStress.DONE), tail);
    }
}
