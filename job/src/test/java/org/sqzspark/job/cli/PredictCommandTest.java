package org.sqzspark.job.cli;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.sqzspark.data.ChannelStats;
import org.sqzspark.data.CifarFormat;
import org.sqzspark.job.SyntheticCifar;
import org.sqzspark.job.TestConfigs;
import org.sqzspark.job.predict.ConfusionMatrix;
import org.sqzspark.job.predict.TrainedModel;
import org.sqzspark.model.ModelConfig;
import org.sqzspark.model.SqueezeNetV11;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The predict command on an untrained network saved as a run saves it (no Spark, no training): its
 * output for pictures and records, the confusion matrix file, and one clear line for each kind of bad
 * input. PredictIT checks its predictions on a network that learned.
 */
public class PredictCommandTest {

    private static final Pattern TOP_LINE = Pattern.compile(
            "(.+?)(?: \\(label (\\w+)\\))?: (\\w+) (\\d+\\.\\d)%, (\\w+) (\\d+\\.\\d)%, (\\w+) (\\d+\\.\\d)%");
    private static final ChannelStats STATS = new ChannelStats(new float[] {0.5f, 0.4f, 0.3f},
            new float[] {0.25f, 0.2f, 0.3f});

    @TempDir
    static Path shared;
    static Path model;
    static Path data;

    @TempDir
    Path tmp;

    @BeforeAll
    static void saveAnUntrainedNetwork() throws Exception {
        model = shared.resolve("results/run-untrained.model.zip");
        Files.createDirectories(model.getParent());
        ComputationGraph net = SqueezeNetV11.build(TestConfigs.model());
        try (OutputStream out = Files.newOutputStream(model)) {
            TrainedModel.write(net, STATS, out);
        }
        data = SyntheticCifar.write(shared.resolve("cifar"), 4, 6, 3);
    }

    private record Outcome(int exit, String out, String err) {
    }

    private static Outcome run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Outcome(exit, out.toString(), err.toString());
    }

    public static byte[] picture(String format, int width, int height, Color colour) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(colour);
        g.fillRect(0, 0, width, height);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(image, format, out));
        return out.toByteArray();
    }

    private static void assertOneErrorLine(Outcome o, int exit, String start) {
        assertEquals(exit, o.exit(), o.out() + o.err());
        List<String> lines = o.err().lines().toList();
        assertEquals(1, lines.size(), "one line: " + o.err());
        assertTrue(lines.get(0).startsWith("error: " + start), o.err());
        assertFalse(o.err().contains("\tat "), "no stack trace: " + o.err());
    }

    @Test
    void printsTopThreeClassesOfPicturesOfAnySizeAndOfRecordsThenTiming() throws Exception {
        Path png = Files.write(tmp.resolve("big.png"), picture("png", 200, 150, Color.RED));
        Path jpeg = Files.write(tmp.resolve("small.jpg"), picture("jpeg", 17, 23, Color.GREEN));

        Outcome o = run("predict", "--model", model.toString(), png.toString(), jpeg.toString(),
                data.resolve("test_batch.bin").toString(), "--limit", "5", "--runs", "3", "--warmup", "1");

        assertEquals(0, o.exit(), o.err());
        List<String> lines = o.out().lines().toList();
        assertEquals("Model " + model + "; channel statistics from the model file", lines.get(0));
        List<Matcher> tops = lines.stream().map(TOP_LINE::matcher).filter(Matcher::matches).toList();
        assertEquals(5, tops.size(), o.out());
        assertEquals(png.toString(), tops.get(0).group(1));
        assertEquals(jpeg.toString(), tops.get(1).group(1));
        assertEquals(null, tops.get(0).group(2), "a picture has no label");
        assertEquals(data.resolve("test_batch.bin") + "#0", tops.get(2).group(1));
        assertEquals(CifarFormat.CLASS_NAMES.get(0), tops.get(2).group(2), "records show their label");
        for (Matcher m : tops) {
            double p1 = Double.parseDouble(m.group(4));
            double p2 = Double.parseDouble(m.group(6));
            double p3 = Double.parseDouble(m.group(8));
            assertTrue(p1 >= p2 && p2 >= p3 && p1 + p2 + p3 <= 100.2, m.group());
            assertTrue(CifarFormat.CLASS_NAMES.containsAll(List.of(m.group(3), m.group(5), m.group(7))), m.group());
        }
        assertTrue(o.out().matches("(?s).*\nLatency at batch 1: \\d+\\.\\d\\d ms per image \\(median of 3 runs after 1"
                + " warm-up\\)\nThroughput at batch 32: \\d+\\.\\d images/s \\(3 runs after 1 warm-up\\)\n"), o.out());
    }

    @Test
    void evaluatesTheTestSetAndWritesTheConfusionMatrixBesideTheModel() throws Exception {
        Path results = Files.createDirectories(tmp.resolve("results"));
        Path copy = Files.copy(model, results.resolve("run-x.model.zip"));

        Outcome o = run("predict", "--model", copy.toString(), "--data", data.toString(), "--runs", "0");

        assertEquals(0, o.exit(), o.err());
        assertTrue(o.out().contains(" of 30 images of " + data + ")"), o.out());
        assertFalse(o.out().contains("Latency"), "--runs 0 skips the timing: " + o.out());
        Path csv = results.resolve("run-x" + ConfusionMatrix.SUFFIX);
        assertTrue(o.out().contains("Confusion matrix: " + csv.toUri().toString().replace("file:///", "file:/")),
                o.out());
        List<String> rows = Files.readAllLines(csv);
        assertEquals(11, rows.size());
        assertEquals("actual/predicted,airplane,automobile,bird,cat,deer,dog,frog,horse,ship,truck", rows.get(0));
        long sum = 0;
        for (int a = 0; a < 10; a++) {
            String[] fields = rows.get(a + 1).split(",");
            assertEquals(11, fields.length, rows.get(a + 1));
            assertEquals(CifarFormat.CLASS_NAMES.get(a), fields[0]);
            long row = Arrays.stream(fields, 1, 11).mapToLong(Long::parseLong).sum();
            // SyntheticCifar's test set: 6 images of each of classes 0..4
            assertEquals(a < SyntheticCifar.CLASSES ? 6 : 0, row, "row " + a);
            sum += row;
        }
        assertEquals(30, sum);
        Matcher accuracy = Pattern.compile("Test accuracy: (\\d+\\.\\d\\d)% \\((\\d+) of 30").matcher(o.out());
        assertTrue(accuracy.find(), o.out());
        ConfusionMatrix m = ConfusionMatrix.parse("csv", Files.readString(csv));
        assertEquals(m.correct(), Long.parseLong(accuracy.group(2)));
    }

    @Test
    void outPutsTheConfusionMatrixIntoAnotherFolder() {
        Path other = tmp.resolve("elsewhere");

        Outcome o = run("predict", "--model", model.toString(), "--data", data.toString(), "--runs", "0",
                "--limit", "7", "--out", other.toString());

        assertEquals(0, o.exit(), o.err());
        assertTrue(Files.exists(other.resolve("run-untrained" + ConfusionMatrix.SUFFIX)));
        assertEquals(7, ConfusionMatrix.parse("csv", readString(other.resolve("run-untrained.confusion.csv"))).total());
    }

    private static String readString(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void fileThatIsNotAModelIsNamed() throws Exception {
        Path junk = Files.write(tmp.resolve("run-junk.model.zip"), "not a zip".getBytes(StandardCharsets.UTF_8));

        Outcome o = run("predict", "--model", junk.toString(), "--data", data.toString());

        assertOneErrorLine(o, Main.EXIT_DATA, "--model " + junk + " is not a network saved by DL4J");
        assertTrue(o.err().contains("give the run-<id>.model.zip that a train or sweep run wrote"), o.err());
    }

    @Test
    void networkWithAnotherNumberOfClassesIsRefused() throws Exception {
        ModelConfig five = new ModelConfig(5, ModelConfig.DEFAULT_SEED, TestConfigs.model().optimizer(), 1e-4,
                ModelConfig.DEFAULT_MOMENTUM, 0, ModelConfig.DEFAULT_DROPOUT);
        Path file = tmp.resolve("five.model.zip");
        try (OutputStream out = Files.newOutputStream(file)) {
            TrainedModel.write(SqueezeNetV11.build(five), STATS, out);
        }

        Outcome o = run("predict", "--model", file.toString(), "--data", data.toString());

        assertOneErrorLine(o, Main.EXIT_DATA, "--model " + file + " outputs shape [1, 5] for one image, not 10 class"
                + " probabilities: predict needs SqueezeNet for CIFAR-10 (3x32x32 images in, 10 classes out)");
    }

    @Test
    void networkForOtherImagesIsRefused() throws Exception {
        // one-channel 28x28 images in, as for MNIST
        ComputationGraph mnist = new ComputationGraph(new NeuralNetConfiguration.Builder().graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(28, 28, 1))
                .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nIn(1).nOut(4).build(), "in")
                .addLayer("pool", new GlobalPoolingLayer.Builder().build(), "conv")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(10)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out").build());
        mnist.init();
        Path file = tmp.resolve("mnist.zip");
        ModelSerializer.writeModel(mnist, file.toFile(), false);

        Outcome o = run("predict", "--model", file.toString(), "--data", data.toString());

        assertOneErrorLine(o, Main.EXIT_DATA, "--model " + file + " does not take 3x32x32 images");
    }

    @Test
    void missingModelIsNamed() {
        String missing = tmp.resolve("run-gone.model.zip").toString();

        Outcome o = run("predict", "--model", missing, "--data", data.toString());

        assertOneErrorLine(o, Main.EXIT_DATA, "--model " + missing + " does not exist: give the run-<id>.model.zip");
    }

    @Test
    void corruptPictureIsNamed() throws Exception {
        byte[] whole = picture("png", 64, 64, Color.BLUE);
        Path cut = Files.write(tmp.resolve("cut.png"), Arrays.copyOf(whole, 40));

        Outcome o = run("predict", "--model", model.toString(), cut.toString());

        assertOneErrorLine(o, Main.EXIT_DATA, cut + " is not a readable PNG or JPEG picture");
    }

    @Test
    void missingPictureIsNamed() {
        String missing = tmp.resolve("none.jpg").toString();

        Outcome o = run("predict", "--model", model.toString(), missing);

        assertOneErrorLine(o, Main.EXIT_DATA, missing + " does not exist");
    }

    @Test
    void neitherImagesNorDataIsAUsageError() {
        Outcome o = run("predict", "--model", model.toString());

        assertOneErrorLine(o, Main.EXIT_USAGE, "predict needs images to classify (IMAGE...), or --data");
    }

    @Test
    void topOutsideOneToTenIsAUsageError() {
        Outcome o = run("predict", "--model", model.toString(), "--top", "11", "--data", data.toString());

        assertOneErrorLine(o, Main.EXIT_USAGE, "--top 11: give 1 to 10");
    }

    @Test
    void modelWithoutStatisticsNorRunJsonNeedsData() throws Exception {
        Path old = tmp.resolve("run-old.model.zip");
        ModelSerializer.writeModel(SqueezeNetV11.build(TestConfigs.model()), old.toFile(), true);
        Path png = Files.write(tmp.resolve("p.png"), picture("png", 32, 32, Color.RED));

        Outcome o = run("predict", "--model", old.toString(), png.toString(), "--runs", "0");

        assertOneErrorLine(o, Main.EXIT_DATA, "--model " + old + " carries no channel statistics (it was written"
                + " before models kept them) and no run-<id>.json lies beside it");
        assertTrue(o.err().contains("give --data with the CIFAR-10 folder it was trained on"), o.err());
    }

    @Test
    void modelWithoutStatisticsGetsThemFromTheDataItsRunJsonNames() throws Exception {
        Path old = tmp.resolve("run-old.model.zip");
        ModelSerializer.writeModel(SqueezeNetV11.build(TestConfigs.model()), old.toFile(), true);
        // as a run wrote it: the fields recomputing reads
        Files.writeString(tmp.resolve("run-old.json"), "{\"runId\": \"old\", \"config\": {\"data\": \""
                + data.toString().replace("\\", "\\\\") + "\", \"trainLimit\": 15, \"model\": {\"seed\": 42}}}");
        Path png = Files.write(tmp.resolve("p.png"), picture("png", 32, 32, Color.RED));

        Outcome o = run("predict", "--model", old.toString(), png.toString(), "--runs", "0");

        assertEquals(0, o.exit(), o.err());
        assertTrue(o.out().startsWith("Model " + old + "; channel statistics from recomputed from 15 training records"
                + " of " + data), o.out());
    }

    @Test
    void statisticsWrittenWithTheModelAreReadBackExactly() throws Exception {
        TrainedModel read = TrainedModel.load(model.toString(), null, new org.apache.hadoop.conf.Configuration());

        assertEquals(STATS, read.stats());
        assertEquals("the model file", read.statsSource());
    }

    @Test
    void confusionFileIsNamedAfterTheModel() {
        assertEquals("run-a.confusion.csv", PredictCommand.confusionName("run-a.model.zip"));
        assertEquals("net.confusion.csv", PredictCommand.confusionName("net.zip"));
    }
}
