package org.sqzspark.job.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import org.apache.spark.Success$;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.sqzspark.job.results.ExecutorTasks;
import scala.collection.JavaConverters;

/**
 * Counts, per executor, the successful tasks of the Spark jobs that train (not those that load,
 * evaluate or score): which executors did the training, from Spark's own scheduler events. With
 * gradient sharing it also stops training as soon as an executor is lost: the replicas in that
 * JVM are gone from the parameter server's mesh mid-epoch and a replacement cannot join it, so
 * the fit would wait for them; cancelling fails it at once instead.
 */
public final class TrainingTasks extends SparkListener {

    /** Local property marking the jobs started while training. */
    static final String PHASE_PROPERTY = "sqzspark.phase";
    static final String TRAIN_PHASE = "train";
    private static final long EVENT_WAIT_MILLIS = 10_000;

    private final Set<Integer> trainingStages = ConcurrentHashMap.newKeySet();
    private final Map<String, ExecutorTasks> byExecutor = new ConcurrentHashMap<>();
    private final JavaSparkContext sc;
    private final boolean stopOnLostExecutor;
    private volatile boolean inTraining;
    private volatile String lostExecutor;

    private TrainingTasks(JavaSparkContext sc, boolean stopOnLostExecutor) {
        this.sc = sc;
        this.stopOnLostExecutor = stopOnLostExecutor;
    }

    /**
     * Starts counting on {@code sc}; {@link #close()} stops.
     *
     * @param stopOnLostExecutor cancel the training jobs when an executor is lost during training
     */
    public static TrainingTasks register(JavaSparkContext sc, boolean stopOnLostExecutor) {
        TrainingTasks tasks = new TrainingTasks(sc, stopOnLostExecutor);
        sc.sc().addSparkListener(tasks);
        return tasks;
    }

    /**
     * Runs {@code training} with its Spark jobs marked as training.
     *
     * @return null, or (when stopping on a lost executor) the executor lost since this counter
     *         started: training did not start, or failed, or its result is incomplete
     */
    public String training(Runnable training) {
        if (lostExecutor != null) {
            return lostExecutor;
        }
        sc.setLocalProperty(PHASE_PROPERTY, TRAIN_PHASE);
        inTraining = true;
        try {
            training.run();
        } catch (Exception e) {
            // Spark throws its checked SparkException here too, undeclared
            if (lostExecutor == null) {
                throw TrainingTasks.<RuntimeException>rethrow(e);
            }
        } finally {
            inTraining = false;
            sc.setLocalProperty(PHASE_PROPERTY, null);
        }
        return lostExecutor;
    }

    @SuppressWarnings("unchecked")
    private static <T extends Exception> T rethrow(Exception e) throws T {
        throw (T) e;
    }

    @Override
    public void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
        if (stopOnLostExecutor) {
            lostExecutor = "executor " + removed.executorId() + " (" + removed.reason() + ")";
            if (inTraining) {
                sc.cancelAllJobs();
            }
        }
    }

    @Override
    public void onJobStart(SparkListenerJobStart jobStart) {
        if (jobStart.properties() != null && TRAIN_PHASE.equals(jobStart.properties().getProperty(PHASE_PROPERTY))) {
            for (Object stage : JavaConverters.seqAsJavaList(jobStart.stageIds())) {
                trainingStages.add((Integer) stage);
            }
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
        if (trainingStages.contains(taskEnd.stageId()) && taskEnd.reason() == Success$.MODULE$) {
            byExecutor.compute(taskEnd.taskInfo().executorId(), (id, old) -> new ExecutorTasks(id,
                    taskEnd.taskInfo().host(), old == null ? 1 : old.tasks() + 1));
        }
    }

    /**
     * Runs training done in the driver itself, outside Spark's tasks (the replicas in turns), and
     * counts it as one task of the driver.
     */
    public void inDriver(Runnable training) {
        training.run();
        String host = sc.getConf().get("spark.driver.host", "localhost");
        byExecutor.compute("driver", (id, old) -> new ExecutorTasks(id, host, old == null ? 1 : old.tasks() + 1));
    }

    /** Successful training tasks so far, per executor, after Spark has delivered its pending events. */
    public List<ExecutorTasks> snapshot() {
        try {
            sc.sc().listenerBus().waitUntilEmpty(EVENT_WAIT_MILLIS);
        } catch (TimeoutException e) {
            // counts as of now; the next snapshot includes the late events
        }
        return new ArrayList<>(new TreeMap<>(byExecutor).values());
    }

    public void close() {
        sc.sc().removeSparkListener(this);
    }
}
