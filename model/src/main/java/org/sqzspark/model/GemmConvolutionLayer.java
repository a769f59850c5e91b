package org.sqzspark.model;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import java.util.Arrays;
import org.deeplearning4j.exception.DL4JInvalidInputException;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.same.Sign;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The layer of {@link GemmConvolution}: NHWC convolution as matrix products, without DL4J's
 * im2col kernel or oneDNN's layout reorders.
 *
 * <p>With activations {@code x} of shape {@code [N, H, W, C]} in C order, a 1x1 convolution is
 * {@code z = x2 W2^T + b} where {@code x2} is {@code x} seen as {@code [N*H*W, C]} (no copy) and
 * {@code W2} the weights seen as {@code [out, C]}; its gradients are {@code dW2 = dz^T x2} and
 * {@code dx2 = dz W2}, and the bias gradient the product of a row of ones with {@code dz}. A k x k
 * convolution multiplies the patch matrix {@code [N*Ho*Wo, kH*kW*C]}: in NHWC the kW taps of one
 * kernel row are one contiguous run of the padded input: for floats {@link RowCopy} copies each
 * run with one memcpy, writing the padding as zeros, and otherwise the matrix takes one libnd4j
 * copy per kernel row from an overlapping-strides view of a padded copy. With stride 1 its input
 * gradient is the same product on the patches of the padded output gradient with the kernel
 * flipped; a strided convolution adds each patch's gradient back to its pixels. On a 1x1 map with
 * "same" padding only the kernel's centre sees data, and the convolution is a 1x1 one.
 *
 * <p>The backward pass reuses the forward pass's patch matrix, and for a ReLU layer takes the
 * activation mask from the forward pass's output, when both came from the same input.
 */
final class GemmConvolutionLayer extends ConvolutionLayer {

    /**
     * From the last training forward pass: its input, its output (ReLU's mask) and its patch
     * matrix (the weight gradient's operand), all in the training pass's activation workspace.
     */
    private transient INDArray lastInput;
    private transient INDArray lastOutput;
    private transient INDArray lastPatches;
    private transient INDArray ones;
    /** The weights, the weight gradient and the bias gradient seen as matrices ({@link #asMatrix}). */
    private transient MatrixView weightMatrix;
    private transient MatrixView weightGradMatrix;
    private transient MatrixView biasGradRow;
    /** ReLU in place, its scalar 0 outside any workspace; made once ({@link #relu}). */
    private transient RectifiedLinear relu;

    GemmConvolutionLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        ShapeInfoCache.install();
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        NativeThreads.useConfiguredTeam();
        assertInputSet(false);
        applyDropOutIfNecessary(training, workspaceMgr);
        IActivation activation = layerConf().getActivationFn();
        Forward forward = forward(training, workspaceMgr, ArrayType.ACTIVATIONS,
                training ? ArrayType.ACTIVATIONS : ArrayType.FF_WORKING_MEM);
        INDArray out = isPlainReLU(activation) ? relu(forward.z) : activation.getActivation(forward.z, training);
        lastInput = training ? input : null;
        lastOutput = training && activation instanceof ActivationReLU ? out : null;
        lastPatches = training ? forward.patches : null;
        return out;
    }

    @Override
    protected Pair<INDArray, INDArray> preOutput(boolean training, boolean forBackprop, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        return new Pair<>(forward(training, workspaceMgr, ArrayType.ACTIVATIONS, ArrayType.FF_WORKING_MEM).z, null);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        Geometry g = geometry();
        INDArray weights = getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, true, workspaceMgr);

        INDArray delta = outputGradient(epsilon, g, workspaceMgr);
        INDArray delta2 = delta.reshape('c', g.outRows(), g.out);

        INDArray weightGrad = gradientViews.get(ConvolutionParamInitializer.WEIGHT_KEY);
        boolean wantInputGrad = ((GemmConvolution) layerConf()).isInputGradient();
        INDArray inputGrad = null;
        switch (g.kind()) {
            case POINTWISE, CENTRE -> {
                INDArray x2 = cOrder(input, workspaceMgr, ArrayType.BP_WORKING_MEM).reshape('c', g.inRows(), g.in);
                if (g.kind() == Kind.POINTWISE) {
                    weightGradMatrix = asMatrix(weightGradMatrix, weightGrad, g.out, g.in);
                    MatrixProduct.gemm(delta2, x2, weightGradMatrix.matrix(), true, false, 1.0, 0.0);
                } else {
                    weightGrad.assign(0);
                    INDArray centre = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType,
                            new long[] {g.out, g.in}, 'c');
                    MatrixProduct.gemm(delta2, x2, centre, true, false, 1.0, 0.0);
                    centreTap(weightGrad, g).assign(centre);
                }
                if (wantInputGrad) {
                    inputGrad = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType,
                            new long[] {g.n, g.h, g.w, g.in}, 'c');
                    MatrixProduct.gemm(delta2, pointwiseWeights(weights, g, workspaceMgr, ArrayType.BP_WORKING_MEM),
                            inputGrad.reshape('c', g.inRows(), g.in), false, false, 1.0, 0.0);
                }
            }
            case PATCHES -> {
                INDArray patches = lastPatches != null && lastInput == input ? lastPatches
                        : patches(input, g, workspaceMgr, ArrayType.BP_WORKING_MEM);
                INDArray patchWeightGrad = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType,
                        new long[] {g.out, g.patch()}, 'c');
                MatrixProduct.gemm(delta2, patches, patchWeightGrad, true, false, 1.0, 0.0);
                if (RowCopy.gathers(patchWeightGrad) && RowCopy.isDense(weightGrad)) {
                    // [out, (kh, kw, in)] back to DL4J's [out, in, kh, kw]
                    RowCopy.gather(patchWeightGrad, 0, new long[] {g.out, g.in, g.kh, g.kw},
                            new long[] {g.patch(), 1, (long) g.kw * g.in, g.in}, weightGrad);
                } else {
                    weightGrad.assign(patchWeightGrad.reshape('c', g.out, g.kh, g.kw, g.in).permute(0, 3, 1, 2));
                }
                if (wantInputGrad) {
                    inputGrad = g.stride == 1 ? transposedConvolution(delta, weights, g, workspaceMgr)
                            : scatterPatches(delta2, weights, g, workspaceMgr);
                }
            }
            default -> throw new IllegalStateException(g.kind().toString());
        }
        if (inputGrad == null) {
            // the layer reads the network's input: nothing below it takes a gradient
            inputGrad = workspaceMgr.create(ArrayType.ACTIVATION_GRAD, dataType, new long[] {g.n, g.h, g.w, g.in}, 'c');
        }

        Gradient gradient = new DefaultGradient();
        if (layerConf().hasBias()) {
            INDArray biasGrad = gradientViews.get(ConvolutionParamInitializer.BIAS_KEY);
            // column sums as a product with a row of ones: BLAS instead of a strided reduction
            biasGradRow = asMatrix(biasGradRow, biasGrad, 1, g.out);
            MatrixProduct.gemm(ones(g.outRows()), delta2, biasGradRow.matrix(), false, false, 1.0, 0.0);
            gradient.setGradientFor(ConvolutionParamInitializer.BIAS_KEY, biasGrad);
        }
        gradient.setGradientFor(ConvolutionParamInitializer.WEIGHT_KEY, weightGrad, 'c');
        weightNoiseParams.clear();
        forget();
        return new Pair<>(gradient, inputGrad);
    }

    @Override
    public void clear() {
        super.clear();
        forget();
    }

    /** A row of {@code n} ones outside any workspace, kept while the batch shape stays the same. */
    private INDArray ones(long n) {
        if (ones == null || ones.length() != n) {
            try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                ones = Nd4j.ones(dataType, 1, n);
            }
        }
        return ones;
    }

    private void forget() {
        lastInput = null;
        lastOutput = null;
        lastPatches = null;
    }

    /** dL/dz in C order, {@code [N, Ho, Wo, out]}. */
    private INDArray outputGradient(INDArray epsilon, Geometry g, LayerWorkspaceMgr workspaceMgr) {
        IActivation activation = layerConf().getActivationFn();
        if (activation instanceof ActivationReLU && lastOutput != null && lastInput == input) {
            // ReLU's output is positive exactly where its input is, and 0 elsewhere: its sign is the
            // derivative. Two vectorised passes; libnd4j's relu_bp calls a std::function per element
            // (and Sign in place takes a slow path: measured 5x slower than into another array).
            INDArray delta = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType,
                    lastOutput.shape(), 'c');
            Nd4j.exec(new Sign(lastOutput, delta));
            Nd4j.exec(new MulOp(delta, cOrder(epsilon, workspaceMgr, ArrayType.BP_WORKING_MEM), delta));
            return delta;
        }
        INDArray z = forward(true, workspaceMgr, ArrayType.BP_WORKING_MEM, ArrayType.BP_WORKING_MEM).z;
        return cOrder(activation.backprop(z, epsilon).getFirst(), workspaceMgr, ArrayType.BP_WORKING_MEM);
    }

    /** Pre-activation z and, for a k x k convolution, the patch matrix it was computed from. */
    private record Forward(INDArray z, INDArray patches) {
    }

    /** z = conv(x, W) + b in C order, {@code [N, Ho, Wo, out]}, in workspace {@code outType}. */
    private Forward forward(boolean training, LayerWorkspaceMgr workspaceMgr, ArrayType outType, ArrayType workType) {
        Geometry g = geometry();
        INDArray weights = getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, training, workspaceMgr);
        INDArray z = workspaceMgr.createUninitialized(outType, dataType, new long[] {g.n, g.outH, g.outW, g.out}, 'c');
        INDArray z2 = z.reshape('c', g.outRows(), g.out);
        INDArray patches = null;
        boolean bias = layerConf().hasBias();
        if (bias) {
            fillRows(z2, getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, training, workspaceMgr),
                    ones(g.outRows()));
        }
        double beta = bias ? 1.0 : 0.0;
        if (g.kind() == Kind.PATCHES) {
            patches = patches(input, g, workspaceMgr, workType);
            MatrixProduct.gemm(patches, patchWeights(weights, g, workspaceMgr, ArrayType.FF_WORKING_MEM), z2,
                    false, true, 1.0, beta);
        } else {
            INDArray x2 = cOrder(input, workspaceMgr, ArrayType.FF_WORKING_MEM).reshape('c', g.inRows(), g.in);
            MatrixProduct.gemm(x2, pointwiseWeights(weights, g, workspaceMgr, ArrayType.FF_WORKING_MEM), z2,
                    false, true, 1.0, beta);
        }
        return new Forward(z, patches);
    }

    /**
     * Sets every row of {@code z2} ({@code [rows, n]}) to {@code row} ({@code [1, n]}): the product
     * of the column {@code ones} ({@code [1, rows]}, transposed) with {@code row}. A matrix product
     * instead of a row broadcast, whose op builds tensor-along-dimension shapes and an array of
     * dimensions on every call: 13-16% of the native buffers a training step allocated.
     */
    static void fillRows(INDArray z2, INDArray row, INDArray ones) {
        MatrixProduct.gemm(ones, row, z2, true, false, 1.0, 0.0);
    }

    private static boolean isPlainReLU(IActivation activation) {
        return activation instanceof ActivationReLU r
                && r.getMax() == null && r.getThreshold() == null && r.getNegativeSlope() == null;
    }

    /**
     * {@code z} through ReLU in place, as {@link ActivationReLU#getActivation} does, with one op
     * kept for the layer: its constructor allocates the scalar 0 on every call.
     */
    private INDArray relu(INDArray z) {
        if (relu == null || relu.scalar().dataType() != z.dataType()) {
            try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                relu = new RectifiedLinear(z, z);
            }
        } else {
            relu.setX(z);
            relu.setZ(z);
        }
        Nd4j.getExecutioner().exec(relu);
        return z;
    }

    /** A parameter or gradient view and the matrix it was last seen as. */
    private record MatrixView(INDArray source, INDArray matrix) {
    }

    /**
     * {@code source} as a C-order {@code [rows, cols]} matrix, {@code last}'s if it was made from
     * this very array: a layer's parameter and gradient views stay the same objects from step to
     * step, and each reshape allocates native shape buffers.
     */
    private static MatrixView asMatrix(MatrixView last, INDArray source, long rows, long cols) {
        return last != null && last.source() == source ? last
                : new MatrixView(source, source.reshape('c', rows, cols));
    }

    /** The weights of a pointwise product, {@code [out, in]}: all of a 1x1 kernel, the centre of a larger one. */
    private INDArray pointwiseWeights(INDArray weights, Geometry g, LayerWorkspaceMgr workspaceMgr, ArrayType type) {
        if (g.kind() == Kind.POINTWISE) {
            weightMatrix = asMatrix(weightMatrix, weights, g.out, g.in);
            return weightMatrix.matrix();
        }
        return copy(centreTap(weights, g), workspaceMgr, type);
    }

    private static INDArray centreTap(INDArray kernel, Geometry g) {
        return kernel.get(all(), all(), point(g.kh / 2), point(g.kw / 2));
    }

    /**
     * dL/dx of a stride-1 convolution: the zero-padded output gradient convolved with the kernel
     * flipped in space and transposed in channels, through the same patch-matrix product as the
     * forward pass.
     */
    private INDArray transposedConvolution(INDArray delta, INDArray weights, Geometry g, LayerWorkspaceMgr workspaceMgr) {
        Geometry transposed = new Geometry(g.n, g.outH, g.outW, g.out, g.in, g.kh, g.kw, 1, g.kh - 1 - g.pad);
        // kernel rows flipped by reading the patch rows bottom-up, kernel columns by flipping the weights
        INDArray patches = patches(delta, transposed, workspaceMgr, ArrayType.BP_WORKING_MEM, true);
        INDArray transposedWeights;
        if (RowCopy.gathers(weights)) {
            // [in, kh, kw, out], kernel columns read right to left: one pass over DL4J's [out, in, kh, kw]
            INDArray dense = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType,
                    new long[] {g.in, g.kh, g.kw, g.out}, 'c');
            long[] s = weights.stride();
            RowCopy.gather(weights, (g.kw - 1) * s[3], new long[] {g.in, g.kh, g.kw, g.out},
                    new long[] {s[1], s[2], -s[3], s[0]}, dense);
            transposedWeights = dense.reshape('c', g.in, transposed.patch());
        } else {
            INDArray flipped = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType, weights.shape(), 'c');
            for (int j = 0; j < g.kw; j++) {
                flipped.get(all(), all(), all(), point(g.kw - 1 - j)).assign(weights.get(all(), all(), all(), point(j)));
            }
            transposedWeights = copy(flipped.permute(1, 2, 3, 0), workspaceMgr, ArrayType.BP_WORKING_MEM)
                    .reshape('c', g.in, transposed.patch());
        }
        INDArray inputGrad = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType,
                new long[] {g.n, g.h, g.w, g.in}, 'c');
        MatrixProduct.gemm(patches, transposedWeights, inputGrad.reshape('c', g.inRows(), g.in), false, true, 1.0, 0.0);
        return inputGrad;
    }

    /**
     * The patch matrix {@code [N*Ho*Wo, kH*kW*C]}, columns ordered (kh, kw, c). In NHWC the kW
     * taps of one kernel row are one contiguous run of kW*C values of the (padded) input, so each
     * kernel row is a single copy from an overlapping-strides view of the input (for floats, one
     * memcpy per run, see {@link RowCopy}).
     */
    private INDArray patches(INDArray x, Geometry g, LayerWorkspaceMgr workspaceMgr, ArrayType type) {
        return patches(x, g, workspaceMgr, type, false);
    }

    /** {@link #patches}, with kernel rows in reverse order if {@code flipRows}. */
    private INDArray patches(INDArray x, Geometry g, LayerWorkspaceMgr workspaceMgr, ArrayType type,
                             boolean flipRows) {
        ArrayType scratch = type == ArrayType.ACTIVATIONS ? ArrayType.FF_WORKING_MEM : type;
        if (RowCopy.isDense(x) || RowCopy.copiesByRows(x)) {
            // straight from the input, padding written as zeros: no padded copy, a memcpy a kernel row
            INDArray patches = workspaceMgr.createUninitialized(type, dataType,
                    new long[] {g.n, g.outH, g.outW, g.kh, g.kw * g.in}, 'c');
            RowCopy.patches(cOrder(x, workspaceMgr, scratch), patches, g.kh, g.kw, g.stride, g.pad, flipRows);
            return patches.reshape('c', g.outRows(), g.patch());
        }
        INDArray source;
        if (g.pad > 0) {
            source = workspaceMgr.create(scratch, dataType, new long[] {g.n, g.paddedH(), g.paddedW(), g.in}, 'c');
            source.get(all(), interval(g.pad, g.pad + g.h), interval(g.pad, g.pad + g.w), all()).assign(x);
        } else {
            source = cOrder(x, workspaceMgr, scratch);
        }
        long rowStride = g.paddedW() * g.in;
        long[] runShape = {g.n, g.outH, g.outW, g.kw * g.in};
        long[] runStrides = {g.paddedH() * rowStride, g.stride * rowStride, g.stride * g.in, 1};
        INDArray patches = workspaceMgr.createUninitialized(type, dataType,
                new long[] {g.n, g.outH, g.outW, g.kh, g.kw * g.in}, 'c');
        for (int i = 0; i < g.kh; i++) {
            long row = flipRows ? g.kh - 1 - i : i;
            INDArray run = Nd4j.create(source.data(), runShape, runStrides, source.offset() + row * rowStride, 'c');
            patches.get(all(), all(), all(), point(i), all()).assign(run);
        }
        return patches.reshape('c', g.outRows(), g.patch());
    }

    /** dL/dx of a strided convolution: each patch's gradient added back to the pixels it came from. */
    private INDArray scatterPatches(INDArray delta2, INDArray weights, Geometry g, LayerWorkspaceMgr workspaceMgr) {
        INDArray patchGrad = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType,
                new long[] {g.outRows(), g.patch()}, 'c');
        MatrixProduct.gemm(delta2, patchWeights(weights, g, workspaceMgr, ArrayType.BP_WORKING_MEM), patchGrad,
                false, false, 1.0, 0.0);
        INDArray inputGrad = workspaceMgr.create(ArrayType.ACTIVATION_GRAD, dataType,
                new long[] {g.n, g.h, g.w, g.in}, 'c');
        INDArray target = g.pad == 0 ? inputGrad : workspaceMgr.create(ArrayType.BP_WORKING_MEM, dataType,
                new long[] {g.n, g.paddedH(), g.paddedW(), g.in}, 'c');
        INDArray grad6 = patchGrad.reshape('c', g.n, g.outH, g.outW, g.kh, g.kw, g.in);
        for (int i = 0; i < g.kh; i++) {
            for (int j = 0; j < g.kw; j++) {
                window(target, g, i, j).addi(grad6.get(all(), all(), all(), point(i), point(j), all()));
            }
        }
        if (g.pad > 0) {
            inputGrad.assign(target.get(all(), interval(g.pad, g.pad + g.h), interval(g.pad, g.pad + g.w), all()));
        }
        return inputGrad;
    }

    /** The pixels of {@code padded} that kernel tap (i, j) sees, {@code [N, Ho, Wo, C]}. */
    private static INDArray window(INDArray padded, Geometry g, int i, int j) {
        return padded.get(all(),
                interval(i, g.stride, i + (long) g.stride * (g.outH - 1) + 1),
                interval(j, g.stride, j + (long) g.stride * (g.outW - 1) + 1),
                all());
    }

    /** The weights as {@code [out, kH*kW*in]}, columns ordered (kh, kw, c) like the patches. */
    private INDArray patchWeights(INDArray weights, Geometry g, LayerWorkspaceMgr workspaceMgr, ArrayType type) {
        if (RowCopy.gathers(weights)) {
            INDArray dense = workspaceMgr.createUninitialized(type, dataType, new long[] {g.out, g.kh, g.kw, g.in}, 'c');
            long[] s = weights.stride();
            RowCopy.gather(weights, 0, new long[] {g.out, g.kh, g.kw, g.in}, new long[] {s[0], s[2], s[3], s[1]}, dense);
            return dense.reshape('c', g.out, g.patch());
        }
        return copy(weights.permute(0, 2, 3, 1), workspaceMgr, type).reshape('c', g.out, g.patch());
    }

    private static INDArray cOrder(INDArray a, LayerWorkspaceMgr workspaceMgr, ArrayType type) {
        if (a.ordering() == 'c' && Shape.hasDefaultStridesForShape(a) || RowCopy.isDense(a)) {
            return a;
        }
        if (RowCopy.copiesByRows(a)) {
            // a view of whole rows, as the fire modules' concatenation hands each expand layer its gradient
            INDArray dense = workspaceMgr.createUninitialized(type, a.dataType(), a.shape(), 'c');
            RowCopy.copyRows(a, dense);
            return dense;
        }
        return copy(a, workspaceMgr, type);
    }

    /** A C-order copy; assign into a new array takes libnd4j's fast strided loops, dup() does not. */
    static INDArray copy(INDArray a, LayerWorkspaceMgr workspaceMgr, ArrayType type) {
        return workspaceMgr.createUninitialized(type, a.dataType(), a.shape(), 'c').assign(a);
    }

    private Geometry geometry() {
        if (input.rank() != 4) {
            throw new DL4JInvalidInputException("GemmConvolution " + layerId() + " expects NHWC input of rank 4,"
                    + " got shape " + Arrays.toString(input.shape()));
        }
        org.deeplearning4j.nn.conf.layers.ConvolutionLayer conf = layerConf();
        long in = conf.getNIn();
        if (input.size(3) != in) {
            throw new DL4JInvalidInputException("GemmConvolution " + layerId() + " expects " + in
                    + " channels last (NHWC), got input shape " + Arrays.toString(input.shape()));
        }
        int[] kernel = conf.getKernelSize();
        int[] stride = conf.getStride();
        int[] padding = conf.getPadding();
        if (kernel[0] != kernel[1] || stride[0] != stride[1] || padding[0] != padding[1]) {
            throw new IllegalStateException("GemmConvolution " + layerId() + " supports square kernels, strides"
                    + " and paddings only");
        }
        return new Geometry(input.size(0), input.size(1), input.size(2), in, conf.getNOut(),
                kernel[0], kernel[1], stride[0], padding[0]);
    }

    /** How a convolution is computed. */
    private enum Kind {
        /** 1x1 kernel: one product. */
        POINTWISE,
        /** k x k kernel on a 1x1 map with (k-1)/2 padding: one product with the kernel's centre. */
        CENTRE,
        /** Anything else: a product with the patch matrix. */
        PATCHES
    }

    /** Shapes of one forward pass. */
    private record Geometry(long n, long h, long w, long in, long out, int kh, int kw, int stride, int pad,
                            long outH, long outW) {

        Geometry(long n, long h, long w, long in, long out, int kh, int kw, int stride, int pad) {
            this(n, h, w, in, out, kh, kw, stride, pad,
                    (h + 2L * pad - kh) / stride + 1, (w + 2L * pad - kw) / stride + 1);
        }

        Kind kind() {
            if (kh == 1 && kw == 1 && stride == 1 && pad == 0) {
                return Kind.POINTWISE;
            }
            // a 1x1 map under "same" padding: every tap but the centre sees only padding (kernels are square)
            if (h == 1 && w == 1 && stride == 1 && kh % 2 == 1 && pad == kh / 2) {
                return Kind.CENTRE;
            }
            return Kind.PATCHES;
        }

        long inRows() {
            return n * h * w;
        }

        long outRows() {
            return n * outH * outW;
        }

        long patch() {
            return (long) kh * kw * in;
        }

        long paddedH() {
            return h + 2L * pad;
        }

        long paddedW() {
            return w + 2L * pad;
        }
    }
}
