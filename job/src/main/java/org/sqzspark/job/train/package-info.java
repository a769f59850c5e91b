/**
 * The training run: one validated {@link org.sqzspark.job.train.TrainConfig}, the data as Spark
 * partitions ({@link org.sqzspark.job.train.CifarRdds}), the DL4J training master, and the epoch loop
 * ({@link org.sqzspark.job.train.Trainer}: fit, evaluate, record), with its bookkeeping
 * ({@link org.sqzspark.job.train.RunProgress}), progress lines and divergence check beside it.
 * {@code train.turns} computes the replicas in the driver for embedded runs.
 */
package org.sqzspark.job.train;
