package org.sqzspark.job.results;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.sqzspark.job.train.TrainConfig;

/**
 * The checkpoint a run leaves after every epoch, {@code run-<id>.checkpoint.zip} in the results
 * folder: the network with its updater state, and the run so far (configuration, every finished
 * epoch's metrics, the random seeds). Written atomically, before the epoch's JSON and CSV row, so
 * the checkpoint is never behind the results; deleted once the run has written its final model.
 */
public final class Checkpoints {

    static final String SUFFIX = ".checkpoint.zip";
    private static final String MODEL_ENTRY = "model.zip";
    private static final String STATE_ENTRY = "state.json";
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private Checkpoints() {
    }

    /**
     * What a checkpoint records besides the network. Every random choice of a run derives from
     * {@code seed}: the weights from it, epoch {@code e}'s data order and the driver's random
     * generator from {@code seed + e}; so the next epoch and the seed are the whole random state.
     *
     * @param run       the run after its last finished epoch
     * @param nextEpoch the epoch to run next, 1-based
     * @param seed      the run's seed
     */
    record State(RunResult run, int nextEpoch, long seed) {
    }

    /** A checkpoint read back: the run so far and its network, ready to train on. */
    public record Restored(RunResult run, ComputationGraph net) {
    }

    public static String name(String runId) {
        return "run-" + runId + SUFFIX;
    }

    /** Saves the run after its epoch {@code run.epochs().size()} with the network's parameters and updater. */
    public static void save(ResultStore store, RunResult run, ComputationGraph net) {
        store.write(name(run.runId()), out -> {
            ByteArrayOutputStream model = new ByteArrayOutputStream();
            ModelSerializer.writeModel(net, model, true);
            ZipOutputStream zip = new ZipOutputStream(out);
            zip.putNextEntry(new ZipEntry(STATE_ENTRY));
            zip.write(JSON.writeValueAsBytes(new State(run, run.epochs().size() + 1, run.config().model().seed())));
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry(MODEL_ENTRY));
            model.writeTo(zip);
            zip.closeEntry();
            zip.finish();
        });
    }

    /**
     * The latest checkpoint of an unfinished run of {@code config} in the folder, if any, over links of
     * {@code linkMbit} as the cluster's configuration states it (0: not stated).
     */
    public static Optional<Restored> latest(ResultStore store, TrainConfig config, double linkMbit) {
        State best = null;
        String bestName = null;
        for (String name : store.names()) {
            if (!name.startsWith("run-") || !name.endsWith(SUFFIX)) {
                continue;
            }
            State state = state(name, store.readBytes(name));
            if (state.run().config().sameRunAs(config) && state.run().environment().linkMbit() == linkMbit
                    && (best == null || state.run().startedAt().compareTo(best.run().startedAt()) > 0)) {
                best = state;
                bestName = name;
            }
        }
        if (best == null) {
            return Optional.empty();
        }
        return Optional.of(new Restored(best.run(), model(bestName, store.readBytes(bestName))));
    }

    /**
     * The latest completed run of {@code config} in the folder, if any, over links of {@code linkMbit}
     * (a measurement at another link rate is another run).
     */
    public static Optional<RunResult> completed(ResultStore store, TrainConfig config, double linkMbit) {
        RunResult best = null;
        for (String name : store.names()) {
            if (!name.startsWith("run-") || !name.endsWith(".json")) {
                continue;
            }
            RunResult run;
            try {
                run = JSON.readValue(store.readBytes(name), RunResult.class);
            } catch (IOException e) {
                throw new IllegalStateException(name + " in " + store.location() + " is not a run result ("
                        + e.getMessage() + "): move it out of the results folder to resume", e);
            }
            if (run.completed() && run.config().sameRunAs(config) && run.environment().linkMbit() == linkMbit
                    && (best == null || run.startedAt().compareTo(best.startedAt()) > 0)) {
                best = run;
            }
        }
        return Optional.ofNullable(best);
    }

    private static State state(String name, byte[] checkpoint) {
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(checkpoint))) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                if (e.getName().equals(STATE_ENTRY)) {
                    return JSON.readValue(zip.readAllBytes(), State.class);
                }
            }
        } catch (IOException e) {
            throw corrupt(name, e);
        }
        throw corrupt(name, null);
    }

    private static ComputationGraph model(String name, byte[] checkpoint) {
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(checkpoint))) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                if (e.getName().equals(MODEL_ENTRY)) {
                    return ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(zip.readAllBytes()), true);
                }
            }
        } catch (IOException e) {
            throw corrupt(name, e);
        }
        throw corrupt(name, null);
    }

    private static IllegalStateException corrupt(String name, IOException cause) {
        return new IllegalStateException("checkpoint " + name + " is incomplete or corrupt"
                + (cause == null ? "" : " (" + cause.getMessage() + ")")
                + ": delete it to start that run afresh", cause == null ? null : new UncheckedIOException(cause));
    }
}
