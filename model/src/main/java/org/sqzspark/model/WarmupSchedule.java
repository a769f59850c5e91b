package org.sqzspark.model;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Gradual warm-up (Goyal et al. 2017): the learning rate rises linearly, step by step, from
 * {@code startRate} at step 0 to {@code peakRate} at step {@code steps}, and stays there.
 */
public final class WarmupSchedule implements ISchedule {

    private static final long serialVersionUID = 1L;

    private final double startRate;
    private final double peakRate;
    private final int steps;

    public WarmupSchedule(@JsonProperty("startRate") double startRate, @JsonProperty("peakRate") double peakRate,
                          @JsonProperty("steps") int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("warm-up steps must be at least 1, was " + steps);
        }
        this.startRate = startRate;
        this.peakRate = peakRate;
        this.steps = steps;
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        if (iteration >= steps) {
            return peakRate;
        }
        return startRate + (peakRate - startRate) * Math.max(0, iteration) / steps;
    }

    @Override
    public ISchedule clone() {
        return new WarmupSchedule(startRate, peakRate, steps);
    }

    public double getStartRate() {
        return startRate;
    }

    public double getPeakRate() {
        return peakRate;
    }

    public int getSteps() {
        return steps;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WarmupSchedule w && w.startRate == startRate && w.peakRate == peakRate
                && w.steps == steps;
    }

    @Override
    public int hashCode() {
        return Double.hashCode(startRate) * 31 * 31 + Double.hashCode(peakRate) * 31 + steps;
    }

    @Override
    public String toString() {
        return "WarmupSchedule(" + startRate + " -> " + peakRate + " over " + steps + " steps)";
    }
}
