/**
 * The command line: {@code train}, {@code sweep}, {@code predict}, {@code report}, {@code scaling} and
 * {@code bench} (picocli), their options, exit codes and the one-line messages for bad input. Commands
 * parse and check, then hand over to {@code train}, {@code predict}, {@code report} or {@code bench}.
 */
package org.sqzspark.job.cli;
