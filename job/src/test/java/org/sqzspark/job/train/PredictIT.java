package org.sqzspark.job.train;

import java.awt.Color;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqzspark.data.CifarFormat;
import org.sqzspark.job.SyntheticCifar;
import org.sqzspark.job.TestConfigs;
import org.sqzspark.job.cli.Main;
import org.sqzspark.job.cli.PredictCommand;
import org.sqzspark.job.cli.PredictCommandTest;
import org.sqzspark.job.predict.ConfusionMatrix;
import org.sqzspark.job.results.ResultStore;
import org.sqzspark.job.results.RunResult;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model that a train run wrote (local Spark, the synthetic class-separable data) classifies the
 * images it was trained on, pictures of its classes' colours and its test set, far above chance.
 */
class PredictIT {

    /** Five classes: chance is 20%. */
    private static final double CHANCE = 1.0 / SyntheticCifar.CLASSES;
    private static final Pattern TOP = Pattern.compile("(.+?)(?: \\(label (\\w+)\\))?: (\\w+) \\d+\\.\\d%.*");
    /** SyntheticCifar's class colours, in label order. */
    private static final Color[] COLOURS = {
        new Color(230, 30, 30), new Color(30, 230, 30), new Color(30, 30, 230), new Color(230, 230, 30),
        new Color(230, 30, 230)
    };

    @TempDir
    static Path tmp;
    static Path data;
    static Path model;

    @BeforeAll
    static void train() throws Exception {
        data = SyntheticCifar.write(tmp.resolve("cifar"), 100, 20, 11);
        RunResult run = Runs.execute(List.of(TestConfigs.separable(data, tmp.resolve("results"), 1,
                TrainingMasterKind.SHARED))).get(0);
        model = tmp.resolve("results").resolve(ResultStore.modelName(run.runId()));
        assertTrue(Files.exists(model), "the run wrote its model");
    }

    private static String predict(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("predict", "--model", model.toString()));
        all.addAll(List.of(args));
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(String[]::new));
        assertEquals(0, exit, err.toString());
        return out.toString();
    }

    @Test
    void classifiesTheRecordsItWasTrainedOnFarAboveChance() {
        String out = predict(data.resolve("data_batch_1.bin").toString(), "--runs", "2", "--warmup", "1");

        int lines = 0;
        int right = 0;
        for (String line : out.lines().toList()) {
            Matcher m = TOP.matcher(line);
            if (m.matches() && m.group(2) != null) {
                lines++;
                right += m.group(2).equals(m.group(3)) ? 1 : 0;
            }
        }
        assertEquals(100, lines, out);
        assertTrue(right >= 90, right + " of 100 training images right (chance " + CHANCE + "): " + out);
        assertTrue(out.startsWith("Model " + model + "; channel statistics from the model file"), out);
        assertTrue(out.contains("Latency at batch 1: ") && out.contains("Throughput at batch 32: "), out);
    }

    @Test
    void classifiesPngAndJpegPicturesOfItsClassesAtAnotherSize() throws Exception {
        List<String> pictures = new ArrayList<>();
        for (int c = 0; c < COLOURS.length; c++) {
            String format = c % 2 == 0 ? "png" : "jpeg";
            Path file = tmp.resolve("class-" + c + (c % 2 == 0 ? ".png" : ".jpg"));
            Files.write(file, PredictCommandTest.picture(format, 64 + 30 * c, 48, COLOURS[c]));
            pictures.add(file.toString());
        }
        List<String> args = new ArrayList<>(pictures);
        args.addAll(List.of("--runs", "0"));

        String out = predict(args.toArray(String[]::new));

        for (int c = 0; c < COLOURS.length; c++) {
            Matcher m = Pattern.compile(Pattern.quote(pictures.get(c)) + ": (\\w+) ").matcher(out);
            assertTrue(m.find(), out);
            assertEquals(CifarFormat.CLASS_NAMES.get(c), m.group(1), pictures.get(c) + ": " + out);
        }
    }

    @Test
    void evaluatesTheTestSetIntoAConfusionMatrixBesideTheModel() throws Exception {
        String out = predict("--data", data.toString(), "--runs", "0");

        Path csv = model.resolveSibling(PredictCommand.confusionName(model.getFileName().toString()));
        ConfusionMatrix m = ConfusionMatrix.parse(csv.toString(), Files.readString(csv));
        assertEquals(100, m.total());
        assertTrue(m.accuracy() >= 0.9, "test accuracy " + m.accuracy() + ": " + out);
        assertTrue(out.contains(String.format(java.util.Locale.ROOT, "Test accuracy: %.2f%% (%d of 100 images",
                100 * m.accuracy(), m.correct())), out);
    }
}
