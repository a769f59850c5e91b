package org.sqzspark.job.results;

import java.util.List;

/**
 * Where a run ran: enough to tell a Pi sweep from a laptop one and to reproduce it.
 *
 * @param javaVersion  driver JVM version
 * @param osArch       driver {@code os.arch} (aarch64 on a 64-bit Raspberry Pi OS)
 * @param osName       driver operating system
 * @param driverCores  processors available to the driver JVM
 * @param sparkVersion Spark version the job runs on
 * @param dl4jVersion  Deeplearning4j version the job was built with
 * @param nd4jBackend  ND4J backend class in use
 * @param nd4jPlatform JavaCPP platform of the bundled native library (e.g. linux-arm64)
 * @param master       Spark master URL
 * @param executors    executor JVMs (the driver counts as one in local mode)
 * @param hosts        hosts running executors
 * @param linkMbit     the nodes' link rate in Mbit/s as the cluster's configuration states it
 *                     ({@value SparkSetup#LINK_MBIT}), 0 where not stated
 */
public record RunEnvironment(String javaVersion, String osArch, String osName, int driverCores,
                             String sparkVersion, String dl4jVersion, String nd4jBackend, String nd4jPlatform,
                             String master, int executors, List<String> hosts, double linkMbit) {
}
