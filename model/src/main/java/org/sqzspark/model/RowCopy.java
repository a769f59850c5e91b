package org.sqzspark.model;

import java.lang.reflect.Field;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Copies between float arrays in host memory as runs of contiguous values, with one
 * {@code memcpy} per run. libnd4j's {@code assign} from a strided view computes an offset per
 * element: at 1.3 ns per value it took 65 us to pad a 64x7x7x16 activation, against 0.1 ns per value
 * for a contiguous copy, and the three kernel-row copies of one 3x3 patch matrix 222 us. Where the
 * innermost dimension of a view is contiguous, the copy here moves whole rows instead.
 *
 * <p>Every address is checked against its array's shape before it is written: a run starts and
 * ends inside its array, or nothing is copied.
 */
final class RowCopy {

    /** Below this many floats a run, a memcpy a run loses to libnd4j's loop; callers fall back. */
    static final int MIN_RUN = 8;

    private static final sun.misc.Unsafe UNSAFE = unsafe();

    private RowCopy() {
    }

    /**
     * True if {@code a} holds floats in host memory, in C order without gaps. The stride of a
     * dimension of size 1 does not matter (ND4J's {@code Shape.hasDefaultStridesForShape} says no to
     * a {@code [n, 1, 1, c]} array with strides {@code [c, c, c, 1]}).
     */
    static boolean isDense(INDArray a) {
        if (UNSAFE == null || a.dataType() != DataType.FLOAT || a.isEmpty()) {
            return false;
        }
        long[] shape = a.shape();
        long[] stride = a.stride();
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    /**
     * True if {@code src} can be copied into a dense array of its shape run by run: floats, rank 2
     * or more, the innermost dimension contiguous and at least {@value #MIN_RUN} long, the other
     * strides non-negative.
     */
    static boolean copiesByRows(INDArray src) {
        if (UNSAFE == null || src.dataType() != DataType.FLOAT || src.isEmpty() || src.rank() < 2) {
            return false;
        }
        long[] stride = src.stride();
        if (stride[stride.length - 1] != 1 || src.size(src.rank() - 1) < MIN_RUN) {
            return false;
        }
        for (long s : stride) {
            if (s < 0) {
                return false;
            }
        }
        return true;
    }

    /** Copies {@code src} (see {@link #copiesByRows}) into {@code dst}, a dense array of the same shape. */
    static void copyRows(INDArray src, INDArray dst) {
        long[] shape = src.shape();
        if (!copiesByRows(src) || !isDense(dst) || !Arrays.equals(shape, dst.shape())) {
            throw new IllegalArgumentException("row copy needs a float view with contiguous rows into a dense"
                    + " array of its shape, got " + src.shapeInfoToString() + " -> " + dst.shapeInfoToString());
        }
        long[] stride = src.stride();
        int rank = shape.length;
        long run = shape[rank - 1];
        long bytes = run * Float.BYTES;
        long srcBase = src.data().addressPointer().address();
        long dstBase = dst.data().addressPointer().address();
        long rows = dst.length() / run;
        // the largest offset a run of src can start at, from its shape and strides
        long srcLast = 0;
        for (int d = 0; d < rank - 1; d++) {
            srcLast += (shape[d] - 1) * stride[d];
        }
        checkSpan(src, srcLast + run);
        long[] index = new long[rank - 1];
        long srcOffset = 0;
        for (long row = 0; row < rows; row++) {
            UNSAFE.copyMemory(srcBase + srcOffset * Float.BYTES, dstBase + row * bytes, bytes);
            srcOffset = nextRow(index, shape, stride, srcOffset);
        }
    }

    /**
     * The patch matrix of a convolution of the dense NHWC {@code x} ({@code [n, h, w, c]}): into the
     * dense {@code patches} ({@code [n, outH, outW, kh, kw * c]}), for each output pixel and kernel row
     * {@code i} the {@code kw * c} values of input row {@code oh * stride + r - pad}, where {@code r}
     * is {@code i} or, if {@code flipRows}, {@code kh - 1 - i}; values outside the input are 0 (the
     * zero padding, without a padded copy of the input).
     */
    static void patches(INDArray x, INDArray patches, int kh, int kw, int stride, int pad, boolean flipRows) {
        long n = x.size(0);
        long h = x.size(1);
        long w = x.size(2);
        long c = x.size(3);
        long outH = (h + 2L * pad - kh) / stride + 1;
        long outW = (w + 2L * pad - kw) / stride + 1;
        if (!isDense(x) || !isDense(patches) || patches.length() != n * outH * outW * kh * kw * c) {
            throw new IllegalArgumentException("patches need dense float arrays, input " + x.shapeInfoToString()
                    + ", patches " + patches.shapeInfoToString() + " for a " + kh + "x" + kw + " kernel");
        }
        long src = x.data().addressPointer().address();
        long dst = patches.data().addressPointer().address();
        checkSpan(x, x.length());
        checkSpan(patches, patches.length());
        long pixel = c * Float.BYTES;
        long kernelRow = kw * pixel;
        long inRow = w * pixel;
        long image = h * inRow;
        for (long b = 0; b < n; b++) {
            long imageBase = src + b * image;
            for (long oh = 0; oh < outH; oh++) {
                for (long ow = 0; ow < outW; ow++) {
                    long iw0 = ow * stride - pad;
                    // kernel columns [lo, hi) fall inside the input row
                    long lo = Math.max(0, -iw0);
                    long hi = Math.min(kw, w - iw0);
                    for (int i = 0; i < kh; i++) {
                        long ih = oh * stride + (flipRows ? kh - 1 - i : i) - pad;
                        if (ih < 0 || ih >= h || hi <= lo) {
                            UNSAFE.setMemory(dst, kernelRow, (byte) 0);
                        } else {
                            if (lo > 0) {
                                UNSAFE.setMemory(dst, lo * pixel, (byte) 0);
                            }
                            UNSAFE.copyMemory(imageBase + ih * inRow + (iw0 + lo) * pixel, dst + lo * pixel,
                                    (hi - lo) * pixel);
                            if (hi < kw) {
                                UNSAFE.setMemory(dst + hi * pixel, (kw - hi) * pixel, (byte) 0);
                            }
                        }
                        dst += kernelRow;
                    }
                }
            }
        }
    }

    /** True if {@link #gather} can read {@code a}: floats in host memory. */
    static boolean gathers(INDArray a) {
        return UNSAFE != null && a.dataType() == DataType.FLOAT && !a.isEmpty();
    }

    /**
     * Fills the dense {@code dst} (C order, of {@code shape}) from {@code src}: the value at index
     * {@code (i_0, ..., i_k)} is {@code src}'s value at {@code offset + sum(i_d * strides[d])} floats
     * from its first one, strides in floats and possibly negative (a flipped axis). A permuted and
     * flipped weight tensor is one pass of single loads and stores here, where libnd4j took a strided
     * {@code assign} per kernel column and a permuted copy: at 1.3 ns a value, four such passes over
     * the 553,000 weights of the 3x3 kernels each step, three of them in the backward pass.
     */
    static void gather(INDArray src, long offset, long[] shape, long[] strides, INDArray dst) {
        int rank = shape.length;
        long length = 1;
        for (long size : shape) {
            length *= size;
        }
        if (!gathers(src) || !isDense(dst) || strides.length != rank || rank == 0 || dst.length() != length) {
            throw new IllegalArgumentException("gather needs a float source and a dense float target of "
                    + Arrays.toString(shape) + ", got " + src.shapeInfoToString() + " -> " + dst.shapeInfoToString());
        }
        // the lowest and highest offsets the index range reaches
        long lowest = offset;
        long highest = offset;
        for (int d = 0; d < rank; d++) {
            long reach = (shape[d] - 1) * strides[d];
            if (reach < 0) {
                lowest += reach;
            } else {
                highest += reach;
            }
        }
        if (lowest < 0) {
            throw new IllegalStateException("gather reaches " + lowest + " floats before " + src.shapeInfoToString());
        }
        checkSpan(src, highest + 1);
        checkSpan(dst, length);
        long srcBase = src.data().addressPointer().address() + offset * Float.BYTES;
        long dst0 = dst.data().addressPointer().address();
        long inner = shape[rank - 1];
        long innerStride = strides[rank - 1] * Float.BYTES;
        long rows = length / inner;
        long[] index = new long[rank - 1];
        long rowOffset = 0;
        for (long row = 0; row < rows; row++) {
            long from = srcBase + rowOffset * Float.BYTES;
            long to = dst0 + row * inner * Float.BYTES;
            for (long k = 0; k < inner; k++) {
                UNSAFE.putFloat(to + k * Float.BYTES, UNSAFE.getFloat(from + k * innerStride));
            }
            rowOffset = nextRow(index, shape, strides, rowOffset);
        }
    }

    /**
     * Steps {@code index}, over all dimensions but the innermost, to the next row in C order,
     * carrying into outer dimensions; returns {@code offset} moved by the strides to that row.
     */
    private static long nextRow(long[] index, long[] shape, long[] strides, long offset) {
        for (int d = index.length - 1; d >= 0; d--) {
            if (++index[d] < shape[d]) {
                return offset + strides[d];
            }
            offset -= (shape[d] - 1) * strides[d];
            index[d] = 0;
        }
        return offset;
    }

    /**
     * Fails unless the memory behind {@code a} holds {@code values} floats from the array's first one.
     * A view's buffer may itself view another (a reshaped parameter view of the flattened parameters):
     * the span is measured in the buffer at the root, from the view's address.
     */
    private static void checkSpan(INDArray a, long values) {
        DataBuffer root = a.data();
        while (root.underlyingDataBuffer() != null && root.underlyingDataBuffer() != root) {
            root = root.underlyingDataBuffer();
        }
        long start = (a.data().addressPointer().address() - root.addressPointer().address()) / Float.BYTES;
        long available = root.length() - start;
        if (start < 0 || values > available) {
            throw new IllegalStateException("array " + a.shapeInfoToString() + " spans " + values
                    + " values of a buffer of " + available);
        }
    }

    private static sun.misc.Unsafe unsafe() {
        try {
            Field field = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            return (sun.misc.Unsafe) field.get(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
