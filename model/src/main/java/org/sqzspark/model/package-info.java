/**
 * The network: SqueezeNet v1.1 for CIFAR-10, built from plain arguments. Knows nothing of Spark,
 * files or data loading.
 */
package org.sqzspark.model;
