package org.sqzspark.job.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.sqzspark.data.CifarFormat;
import org.sqzspark.data.CifarImages;
import org.sqzspark.data.CifarLayout;
import org.sqzspark.data.CifarReader;
import org.sqzspark.data.InputImages;
import org.sqzspark.job.predict.ConfusionMatrix;
import org.sqzspark.job.predict.Predictor;
import org.sqzspark.job.predict.TrainedModel;
import org.sqzspark.job.results.ResultStore;
import org.sqzspark.model.NativeThreads;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/**
 * The {@code predict} command: a trained model on one machine, without Spark. Classifies the images
 * given (top classes with probabilities), or with {@code --data} alone evaluates the test set and
 * writes its confusion matrix; then times the network at batch 1 and batch 32.
 */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Classify images with a trained model (run-<id>.model.zip of train or sweep), printing each"
                + " image's top classes; or, with --data and no images, evaluate the test set and write its confusion"
                + " matrix (run-<id>" + ConfusionMatrix.SUFFIX + ", which report draws). Then print the latency per"
                + " image at batch 1 and the throughput at batch " + Predictor.THROUGHPUT_BATCH + ". No Spark.")
public final class PredictCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "URI", required = true,
            description = "The trained model: run-<id>.model.zip in a results folder; local path, file: or hdfs: URI.")
    String model;

    @Parameters(paramLabel = "IMAGE", arity = "0..*",
            description = "Images to classify: PNG or JPEG pictures of any size (names ending .png, .jpg, .jpeg;"
                    + " scaled to 32x32 RGB), or files of CIFAR-10 binary records, plain or gzipped (any other name).")
    List<String> images = List.of();

    @Option(names = "--data", paramLabel = "URI",
            description = "A CIFAR-10 folder: without IMAGE, its test set is evaluated. For a model written before"
                    + " models kept their channel statistics, also where they are recomputed from (default: the folder"
                    + " its run-<id>.json names).")
    String data;

    @Option(names = "--out", paramLabel = "URI",
            description = "Folder for the confusion matrix of --data. Default: the model's folder, so the report of"
                    + " that results folder shows it.")
    String out;

    @Option(names = "--top", paramLabel = "K", defaultValue = "3",
            description = "Classes printed per image, 1 to " + CifarFormat.CLASSES + ". Default: ${DEFAULT-VALUE}.")
    int top;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0",
            description = "Classify or evaluate only the first N images (0: all). Default: ${DEFAULT-VALUE}.")
    int limit;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "20",
            description = "Timed forward passes at batch 1 (latency: their median) and at batch "
                    + Predictor.THROUGHPUT_BATCH + " (throughput); 0 skips the timing. Default: ${DEFAULT-VALUE}.")
    int runs;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "5",
            description = "Untimed passes of each before the timed ones. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        check();
        Configuration conf = new Configuration();
        PrintWriter printer = spec.commandLine().getOut();
        // elementwise ops over the threads asked for (OMP_NUM_THREADS), as bench runs the network
        NativeThreads.masterThreads(NativeThreads.teamSize());
        // the images first: a wrong one fails before the model takes seconds to load
        InputImages.Read read = images.isEmpty() ? null : InputImages.read(images, limit, conf);
        CifarImages test = images.isEmpty() ? CifarReader.readTest(CifarLayout.resolve(data, conf), limit) : null;
        TrainedModel trained = TrainedModel.load(model, data, conf);
        Predictor predictor = new Predictor(trained);
        printer.printf(Locale.ROOT, "Model %s; channel statistics from %s%n", model, trained.statsSource());
        CifarImages timed;
        if (read == null) {
            evaluate(predictor, test, conf, printer);
            timed = test;
        } else {
            classify(predictor, read, printer);
            timed = read.images();
        }
        if (runs > 0) {
            Predictor.Timing t = predictor.time(timed, warmup, runs);
            printer.printf(Locale.ROOT, "Latency at batch 1: %.2f ms per image (median of %d runs after %d warm-up)%n",
                    t.latencyMillis(), t.runs(), t.warmup());
            printer.printf(Locale.ROOT, "Throughput at batch %d: %.1f images/s (%d runs after %d warm-up)%n",
                    Predictor.THROUGHPUT_BATCH, t.imagesPerSecond(), t.runs(), t.warmup());
        }
        printer.flush();
        return 0;
    }

    private void check() {
        if (images.isEmpty() && data == null) {
            throw new IllegalArgumentException("predict needs images to classify (IMAGE...), or --data with a CIFAR-10"
                    + " folder to evaluate its test set");
        }
        if (top < 1 || top > CifarFormat.CLASSES) {
            throw new IllegalArgumentException("--top " + top + ": give 1 to " + CifarFormat.CLASSES);
        }
        if (limit < 0 || runs < 0 || warmup < 0) {
            throw new IllegalArgumentException("--limit, --runs and --warmup must be at least 0, were " + limit + ", "
                    + runs + " and " + warmup);
        }
    }

    /** One line per image: its name, its label if it has one, its top classes. */
    private void classify(Predictor predictor, InputImages.Read read, PrintWriter printer) {
        CifarImages all = read.images();
        for (int from = 0; from < all.size(); from += Predictor.BATCH) {
            int to = Math.min(all.size(), from + Predictor.BATCH);
            float[][] p = predictor.probabilities(all, from, to);
            for (int i = 0; i < p.length; i++) {
                int label = read.label(from + i);
                StringBuilder line = new StringBuilder(read.names().get(from + i));
                if (label >= 0) {
                    line.append(" (label ").append(CifarFormat.CLASS_NAMES.get(label)).append(')');
                }
                line.append(':');
                String separator = " ";
                for (Predictor.Ranked r : Predictor.top(p[i], top)) {
                    line.append(separator).append(CifarFormat.CLASS_NAMES.get(r.label()))
                            .append(String.format(Locale.ROOT, " %.1f%%", 100.0 * r.probability()));
                    separator = ", ";
                }
                printer.println(line);
            }
        }
    }

    /** The test set's accuracy, and its confusion matrix written to a file. */
    private void evaluate(Predictor predictor, CifarImages test, Configuration conf, PrintWriter printer) {
        ConfusionMatrix matrix = predictor.evaluate(test);
        String folder = out != null ? out : new Path(modelUri()).getParent().toString();
        String name = confusionName(new Path(modelUri()).getName());
        ResultStore store = ResultStore.open(folder, conf);
        store.write(name, s -> s.write(matrix.toCsv().getBytes(StandardCharsets.UTF_8)));
        printer.printf(Locale.ROOT, "Test accuracy: %.2f%% (%,d of %,d images of %s)%n", 100 * matrix.accuracy(),
                matrix.correct(), matrix.total(), data);
        String location = store.location();
        printer.println("Confusion matrix: " + (location.endsWith("/") ? location : location + "/") + name);
    }

    /** {@code run-<id>.confusion.csv} for {@code run-<id>.model.zip}; another name keeps its stem. */
    public static String confusionName(String modelName) {
        String stem = modelName.endsWith(".model.zip") ? modelName.substring(0, modelName.length() - 10)
                : modelName.endsWith(".zip") ? modelName.substring(0, modelName.length() - 4) : modelName;
        return stem + ConfusionMatrix.SUFFIX;
    }

    private java.net.URI modelUri() {
        if (model.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
            return java.net.URI.create(model);
        }
        return java.nio.file.Path.of(model).toAbsolutePath().normalize().toUri();
    }
}
