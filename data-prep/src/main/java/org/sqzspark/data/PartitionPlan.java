package org.sqzspark.data;

import java.io.Serializable;
import java.util.Objects;

/**
 * Splits {@code items} records into {@code parts} contiguous ranges whose sizes differ by at most
 * one, with exactly the boundaries Spark's {@code ParallelCollectionRDD.slice} uses:
 * {@code start(i) = (int) ((long) i * items / parts)}. Sharing the formula means a partition built
 * here holds the same records Spark would put in partition {@code i} of a parallelized collection.
 */
public final class PartitionPlan implements Serializable {

    private static final long serialVersionUID = 1L;

    private final int items;
    private final int parts;

    private PartitionPlan(int items, int parts) {
        this.items = items;
        this.parts = parts;
    }

    /**
     * @param items number of training records to split, &gt;= 0
     * @param parts number of partitions, 1..items
     * @throws IllegalArgumentException if {@code parts} is outside 1..items
     */
    public static PartitionPlan of(int items, int parts) {
        if (items < 0) {
            throw new IllegalArgumentException("number of training records must be >= 0, found " + items);
        }
        if (parts < 1) {
            throw new IllegalArgumentException(
                    "partitions (P=" + parts + ") must be at least 1; set --partitions to 1 or more");
        }
        if (parts > items) {
            throw new IllegalArgumentException("partitions (P=" + parts + ") exceeds the " + items
                    + " training records; lower --partitions or raise --train-limit");
        }
        return new PartitionPlan(items, parts);
    }

    /** Number of partitions. */
    public int parts() {
        return parts;
    }

    /** Number of records split. */
    public int items() {
        return items;
    }

    /** First record (inclusive) of partition {@code p}. */
    public int start(int p) {
        Objects.checkIndex(p, parts);
        return boundary(p);
    }

    /** End record (exclusive) of partition {@code p}; equals {@code start(p + 1)}. */
    public int end(int p) {
        Objects.checkIndex(p, parts);
        return boundary(p + 1);
    }

    /** Number of records in partition {@code p}. */
    public int size(int p) {
        return end(p) - start(p);
    }

    private int boundary(int p) {
        return (int) ((long) p * items / parts);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof PartitionPlan that && items == that.items && parts == that.parts;
    }

    @Override
    public int hashCode() {
        return 31 * items + parts;
    }

    @Override
    public String toString() {
        return "PartitionPlan[items=" + items + ", parts=" + parts + "]";
    }
}
