package org.nd4j.nativeblas;

import java.lang.reflect.InvocationTargetException;

/**
 * Bridge for DL4J 1.0.0-M2's oneDNN layer helpers. {@code BaseMKLDNNHelper.mklDnnEnabled()} looks
 * up {@code org.nd4j.nativeblas.Nd4jCpu$Environment} by name and calls {@code isUseMKLDNN()}, but
 * ND4J 1.0.0-M2 ships that class as {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment}
 * with the flag renamed {@code isUseONEDNN()}. Without this bridge the lookup fails and every
 * convolution and pooling layer falls back to im2col and gemm even on a oneDNN build of ND4J.
 * Only what the helper calls is bridged, by reflection, so the network builds on any backend.
 */
public final class Nd4jCpu {

    private Nd4jCpu() {
    }

    /** The native environment, as the helper expects to find it. */
    public static final class Environment {

        private static final String NATIVE_ENVIRONMENT =
                "org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment";
        private static final Environment INSTANCE = new Environment();

        private Environment() {
        }

        /** The single instance. */
        public static Environment getInstance() {
            return INSTANCE;
        }

        /** Whether the loaded native library was built with oneDNN and allows its use. */
        public boolean isUseMKLDNN() {
            try {
                Class<?> env = Class.forName(NATIVE_ENVIRONMENT);
                Object instance = env.getMethod("getInstance").invoke(null);
                return (Boolean) env.getMethod("isUseONEDNN").invoke(instance);
            } catch (ClassNotFoundException | NoSuchMethodException | IllegalAccessException
                     | InvocationTargetException e) {
                return false;
            }
        }
    }
}
