package org.sqzspark.model;

import java.util.concurrent.atomic.AtomicBoolean;
import org.nd4j.linalg.factory.Nd4j;

/**
 * libnd4j's threading for this network. libnd4j runs every elementwise op over up to
 * {@code SD_MASTER_THREADS} threads (default: all cores). This network's ops are small (a 64-image
 * batch of 7x7 maps), so waking threads costs more than it saves: with 2 threads, training ran at
 * 1,367 images/s against 2,033 with one master thread while the matrix products kept both
 * ({@code OMP_NUM_THREADS}). Applied once per JVM, when the first {@link GemmConvolution} layer is
 * built, unless {@code SD_MASTER_THREADS} is set in the environment.
 */
public final class NativeThreads {

    /** The environment variable that overrides this setting (read by libnd4j itself at start). */
    public static final String MASTER_THREADS_ENV = "SD_MASTER_THREADS";

    private static final AtomicBoolean APPLIED = new AtomicBoolean();

    private NativeThreads() {
    }

    /** One master thread for elementwise ops, unless {@value #MASTER_THREADS_ENV} says otherwise. */
    public static void apply() {
        if (APPLIED.compareAndSet(false, true) && System.getenv(MASTER_THREADS_ENV) == null) {
            Nd4j.getEnvironment().setMaxMasterThreads(1);
        }
    }
}
