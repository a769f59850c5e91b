package org.sqzspark.job.upstream;

import org.apache.spark.SparkEnv;
import org.nd4j.parameterserver.distributed.v2.transport.PortSupplier;

/**
 * The UDP port a gradient-sharing node binds: the driver's parameter server binds the base port,
 * executor {@code N} binds {@code base + 1 + N}. Distinct ports let several executors share a host
 * (two workers on one Pi, or a whole test cluster on 127.0.0.1), which DL4J's fixed port does not.
 *
 * <p>It can go when DL4J's {@code VoidConfiguration} gives each executor a port of its own (its
 * {@code PortSupplier} hook is how M2 allows it): {@code StandaloneClusterIT}, two executors on
 * one host, then passes with the fixed port.
 */
public final class ExecutorPortSupplier implements PortSupplier {

    private static final long serialVersionUID = 1L;

    private final int base;

    public ExecutorPortSupplier(int base) {
        if (base < 1 || base > 65535 - 1024) {
            throw new IllegalArgumentException("Aeron port " + base + " is out of range: use 1..64511 (executors"
                    + " take the ports above it)");
        }
        this.base = base;
    }

    @Override
    public int getPort() {
        SparkEnv env = SparkEnv.get();
        return portFor(env == null ? null : env.executorId());
    }

    /** The port of the JVM whose Spark executor id is {@code executorId} (null or "driver": the base). */
    public int portFor(String executorId) {
        if (executorId == null || !executorId.chars().allMatch(Character::isDigit) || executorId.isEmpty()) {
            return base;
        }
        long port = base + 1L + Long.parseLong(executorId);
        if (port > 65535) {
            throw new IllegalStateException("executor " + executorId + " would bind UDP port " + port
                    + ": lower spark.sqzspark.aeron.port");
        }
        return (int) port;
    }
}
