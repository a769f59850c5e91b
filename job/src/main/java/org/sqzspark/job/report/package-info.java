/**
 * The report of a results folder, without Spark: the study's table per recipe, charts, speedup and
 * efficiency, and the cluster cost model behind {@code scaling}.
 */
package org.sqzspark.job.report;
