package org.sqzspark.data;

/**
 * Input data is missing, unreadable or not in the expected format. The message is meant for the
 * person running the job: it names the file or URI, says what was expected and what was found, and
 * how to fix it.
 */
public class DataInputException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message the complete, user-facing explanation
     */
    public DataInputException(String message) {
        super(message);
    }

    /**
     * @param message the complete, user-facing explanation
     * @param cause   the underlying failure, kept for the stack trace
     */
    public DataInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
