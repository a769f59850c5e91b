/**
 * Inference with a trained model file: loading it with the channel statistics it was trained with,
 * top classes per image, the test set's confusion matrix, latency and throughput.
 */
package org.sqzspark.job.predict;
