package org.sqzspark.job.train;

/**
 * A run stopped by its cluster, not by its input: everything up to the last checkpoint is kept,
 * and the same command with {@code --resume} continues from there.
 */
public final class RunInterruptedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    RunInterruptedException(String message, Throwable cause) {
        super(message, cause);
    }
}
