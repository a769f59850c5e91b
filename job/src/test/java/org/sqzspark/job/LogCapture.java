package org.sqzspark.job;

import java.io.Writer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.layout.PatternLayout;

/**
 * Everything the job logs goes to the console at run time; a test captures it as well, into a
 * writer, through an appender on log4j2's root logger that {@link #close()} removes again.
 */
public final class LogCapture implements AutoCloseable {

    private final WriterAppender appender;

    private LogCapture(WriterAppender appender) {
        this.appender = appender;
    }

    /** Starts capturing every logged line into {@code target}, in log4j2's {@code pattern}. */
    public static LogCapture start(String name, Writer target, String pattern) {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        WriterAppender appender = WriterAppender.newBuilder().setName(name).setTarget(target)
                .setLayout(PatternLayout.newBuilder().withPattern(pattern).build()).build();
        appender.start();
        context.getConfiguration().getRootLogger().addAppender(appender, null, null);
        context.updateLoggers();
        return new LogCapture(appender);
    }

    @Override
    public void close() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().removeAppender(appender.getName());
        context.updateLoggers();
        appender.stop();
    }
}
