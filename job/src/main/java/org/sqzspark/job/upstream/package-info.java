/**
 * Adapters around DL4J 1.0.0-M2 and Spark behaviour that this job works around. Each class says
 * which upstream behaviour it replaces and how to tell when it can go (the test that then passes
 * with the stock class, or the upstream change to wait for). Nothing else in the job patches
 * upstream classes.
 */
package org.sqzspark.job.upstream;
