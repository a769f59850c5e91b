/**
 * What a run leaves behind: the results folder ({@link org.sqzspark.job.results.ResultStore}: one
 * JSON per run, one CSV row per epoch, the model), the per-epoch checkpoint that {@code --resume}
 * continues from, and the records they hold.
 */
package org.sqzspark.job.results;
