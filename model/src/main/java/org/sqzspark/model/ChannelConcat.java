package org.sqzspark.model;

import org.deeplearning4j.nn.conf.graph.MergeVertex;

/**
 * Concatenation along the channel axis of NHWC activations (axis 3). DL4J's {@link MergeVertex}
 * merges along any axis, but its {@code clone()} forgets the axis and falls back to 1, and DL4J
 * clones configurations whenever a network is cloned (as Spark's training masters do).
 */
public class ChannelConcat extends MergeVertex {

    /** NHWC's channel axis. */
    public static final int CHANNELS_LAST_AXIS = 3;

    public ChannelConcat() {
        setMergeAxis(CHANNELS_LAST_AXIS);
    }

    @Override
    public ChannelConcat clone() {
        ChannelConcat copy = new ChannelConcat();
        copy.setMergeAxis(getMergeAxis());
        return copy;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChannelConcat other && other.getMergeAxis() == getMergeAxis();
    }

    @Override
    public int hashCode() {
        return 31 * ChannelConcat.class.hashCode() + getMergeAxis();
    }
}
