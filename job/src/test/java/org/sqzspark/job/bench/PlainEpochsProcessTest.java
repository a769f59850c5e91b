package org.sqzspark.job.bench;

import java.io.BufferedReader;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqzspark.model.ModelConfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The plain epochs' side of the benchmark's turn-taking with gradient sharing. */
class PlainEpochsProcessTest {

    @TempDir
    Path tmp;

    @Test
    void answersEachEpochNumberWithItsSecondsAndEndsWithThePeakRss() throws Exception {
        ModelConfig model = ModelConfig.defaults();
        Path data = Throughput.writeRandomCifar(tmp.resolve("cifar"), 64, model.seed());
        StringWriter out = new StringWriter();
        Throughput.PlainEpochsProcess.serve(new Throughput.PlainEpochs(model, 16, data),
                new BufferedReader(new StringReader("1\n\n2\n")), new PrintWriter(out));

        List<String> lines = out.toString().lines().toList();
        assertEquals(3, lines.size(), out.toString());
        for (String epoch : lines.subList(0, 2)) {
            assertTrue(epoch.startsWith(Throughput.PlainEpochsProcess.EPOCH_REPLY), epoch);
            double seconds = Double.parseDouble(epoch.substring(Throughput.PlainEpochsProcess.EPOCH_REPLY.length()));
            assertTrue(seconds > 0 && seconds < 60, epoch);
        }
        assertTrue(lines.get(2).startsWith(Throughput.PlainEpochsProcess.RSS_REPLY), lines.get(2));
        assertTrue(Double.parseDouble(lines.get(2).substring(Throughput.PlainEpochsProcess.RSS_REPLY.length())) > 0,
                lines.get(2));
    }
}
