/**
 * The benchmark: images/s of the network's training step and inference in one JVM, and of whole
 * epochs plain and through Spark, each side in its own JVM taking turns (see docs/performance.md).
 */
package org.sqzspark.job.bench;
