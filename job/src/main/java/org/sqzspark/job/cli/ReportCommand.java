package org.sqzspark.job.cli;

import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqzspark.job.cluster.HadoopTimeouts;
import org.sqzspark.job.report.Report;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** The {@code report} command: the scaling report of a results folder, without Spark or training. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Write " + Report.HTML_NAME + " (self-contained) and PNG charts from a results folder:"
                + " wall-clock, speedup, efficiency, test accuracy, time to a target accuracy and throughput"
                + " against P, one curve per recipe, and each recipe's statistical scaling limit.")
final class ReportCommand implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(ReportCommand.class);

    @Option(names = "--results", paramLabel = "URI", required = true,
            description = "Results folder of train or sweep runs (their --out): local path, file: or hdfs: URI.")
    String results;

    @Option(names = "--target-accuracy", paramLabel = "X", defaultValue = "" + Report.DEFAULT_TARGET_ACCURACY,
            description = "Test accuracy, a fraction in (0, 1], of the time-to-target chart and column."
                    + " Default: ${DEFAULT-VALUE}.")
    double targetAccuracy;

    @Option(names = "--out", paramLabel = "URI",
            description = "Folder for " + Report.HTML_NAME + " and the charts. Default: the results folder.")
    String out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Report.Written w = Report.write(results, out == null ? results : out, targetAccuracy, hadoopConf());
        spec.commandLine().getOut().println("Report of " + w.runs() + (w.runs() == 1 ? " run" : " runs") + " in "
                + w.recipes() + (w.recipes() == 1 ? " recipe: " : " recipes: ") + w.html());
        spec.commandLine().getOut().flush();
        return 0;
    }

    /**
     * Writes the report of a sweep's results folder at the default target. The runs are saved by then,
     * so a report that cannot be written is logged with the command that retries it, not raised.
     */
    static void afterSweep(String out) {
        try {
            Report.Written w = Report.write(out, out, Report.DEFAULT_TARGET_ACCURACY, hadoopConf());
            log.info("Report: {}", w.html());
        } catch (RuntimeException e) {
            log.warn("Report not written ({}); the results are in {}: run `report --results {}` to retry",
                    e.getMessage(), out, out);
        }
    }

    /** Hadoop's configuration from the class path, with the job's timeouts: the report needs no Spark. */
    private static Configuration hadoopConf() {
        return HadoopTimeouts.applyTo(new Configuration());
    }
}
