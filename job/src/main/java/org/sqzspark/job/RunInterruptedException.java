package org.sqzspark.job;

/**
 * A run stopped by its cluster, not by its input: everything up to the last checkpoint is kept,
 * and the same command with {@code --resume} continues from there.
 */
final class RunInterruptedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    RunInterruptedException(String message, Throwable cause) {
        super(message, cause);
    }
}
