package org.sqzspark.model;

import org.nd4j.common.base.Preconditions;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code Nd4j.gemm} into an existing array through one native op context per thread. ND4J
 * 1.0.0-M2 builds a context for every custom op it runs and registers it with its deallocator
 * service, which tracks each such native object with a weak reference until a collection finds it
 * unreachable; the matrix products of {@link GemmConvolutionLayer} were a fifth of the objects a
 * training step registered. The same libnd4j {@code matmul} op runs, with the same arguments; the
 * context lets go of the arrays after each product.
 */
final class MatrixProduct {

    /** The op, for its name and hash only: its arguments come from the context. */
    private static final Mmul MATMUL = new Mmul();
    private static final ThreadLocal<OpContext> CONTEXT =
            ThreadLocal.withInitial(() -> Nd4j.getExecutioner().buildContext());

    private MatrixProduct() {
    }

    /**
     * {@code c = alpha * op(a) op(b) + beta * c}, {@code op} transposing where asked, as
     * {@code Nd4j.gemm(a, b, c, transposeA, transposeB, alpha, beta)} computes it.
     */
    static void gemm(INDArray a, INDArray b, INDArray c, boolean transposeA, boolean transposeB,
                     double alpha, double beta) {
        Preconditions.checkArgument(c.elementWiseStride() == 1, "gemm: C must be one dense run (not a strided view)");
        OpContext context = CONTEXT.get();
        context.setInputArrays(a, b);
        context.setOutputArrays(c);
        // matmul's integer arguments: transpose A, transpose B, transpose the result
        context.setIArguments(transposeA ? 1 : 0, transposeB ? 1 : 0, 0);
        context.setTArguments(alpha, beta);
        try {
            Nd4j.getExecutioner().exec(MATMUL, context);
        } finally {
            // libnd4j keeps an NDArray for each array set on a context until the context is purged or
            // deleted: without this, 450 bytes of native memory a product stayed behind
            context.purge();
        }
    }
}
