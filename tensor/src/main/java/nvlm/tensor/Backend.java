package nvlm.tensor;

import java.lang.foreign.MemorySegment;
import java.util.ServiceLoader;
import nvlm.kernels.DType;

/**
 * What a device must provide for tensors, autograd and the NVLM models to run on it.
 *
 * <p>The set is small on purpose (tinygrad's lesson): elementwise, broadcasting binary ops,
 * reductions, matrix products and data movement are the primitives; the fused operations below
 * them (norms, softmax, attention, cross-entropy, RoPE, embedding, AdamW) are here because a
 * measurement said they pay: each would otherwise be several passes over memory. Autograd lives
 * above this interface and is shared by every backend.
 *
 * <p>Conventions: tensors passed in are on this backend's device and already validated by the
 * tensor layer (shapes agree, dtypes are F32 unless stated). "Contiguous" means row-major with
 * offset anywhere. Outputs are overwritten unless the method says it accumulates.
 */
public interface Backend {

    /** The backend of a device: CPU is built in; CUDA is found through {@link ServiceLoader}. */
    static Backend of(Device device) {
        return switch (device) {
            case CPU -> CpuBackend.INSTANCE;
            case CUDA -> CudaHolder.backend();
        };
    }

    Device device();

    // ------------------------------------------------------------------ memory

    /**
     * Uninitialized storage of {@code numel} elements, owned by {@link MemoryScope#current()}
     * (released when it closes) or, outside any scope, released when unreachable.
     */
    Storage allocate(DType dtype, long numel);

    /** Hands a storage whose scope went away to the GC (see {@link MemoryScope#escape}). */
    void releaseWhenUnreachable(Storage storage);

    /** Copies host bytes (dtype of {@code dst}, row-major) into contiguous {@code dst}. */
    void copyFromHost(MemorySegment src, Tensor dst);

    /** Copies contiguous {@code src} into host memory. */
    void copyToHost(Tensor src, MemorySegment dst);

    /** Copies a strided view into contiguous {@code dst} of the same shape, converting dtype. */
    void copy(Tensor src, Tensor dst);

    /** Sets every element of contiguous {@code dst} (any dtype) to {@code value}. */
    void fill(Tensor dst, double value);

    // ------------------------------------------------------------------ elementwise

    /** {@code y = op(x)}; both contiguous, same shape. */
    void unary(UnaryOp op, Tensor x, Tensor y);

    /** {@code gx = gy * op'(x)}; {@code y = op(x)} is given for ops whose derivative uses it. */
    void unaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor gy, Tensor gx);

    /** {@code out = a op b}; a and b are views already expanded to out's shape (stride 0 where broadcast). */
    void binary(BinaryOp op, Tensor a, Tensor b, Tensor out);

    /** {@code out = a op b} as BOOL; a, b expanded views of out's shape. */
    void compare(CompareOp op, Tensor a, Tensor b, Tensor out);

    /** {@code out = cond ? a : b}; cond (BOOL), a, b expanded views of out's shape. */
    void where(Tensor cond, Tensor a, Tensor b, Tensor out);

    /** {@code y = alpha * x + beta}; contiguous, same shape (y may be x). */
    void affine(Tensor x, Tensor y, float alpha, float beta);

    /** {@code y += alpha * x}; contiguous, same shape. */
    void axpy(float alpha, Tensor x, Tensor y);

    // ------------------------------------------------------------------ reductions

    /** Reduces contiguous x along {@code axis} into contiguous out (x's shape without that axis). */
    void reduce(ReduceOp op, Tensor x, int axis, Tensor out);

    /** Index (I64) of the first maximum along {@code axis}. */
    void argmax(Tensor x, int axis, Tensor out);

    /** Sum of squares of a contiguous tensor, in double (gradient clipping). */
    double sumOfSquares(Tensor x);

    // ------------------------------------------------------------------ matrix products

    /**
     * Batched {@code c = alpha * op(a) op(b) + beta * c}. a and b are 3-D views
     * [batch, rows, cols] with unit stride in the last dimension and any stride in the first
     * (0 broadcasts); c is contiguous [batch, m, n] and F32; a and b may be F32, BF16 or F16.
     * op transposes the last two dimensions when the flag is set.
     */
    void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, float alpha, float beta);

    // ------------------------------------------------------------------ fused operations

    /** Softmax (or log-softmax) over the last axis of contiguous x. */
    void softmax(Tensor x, Tensor y, boolean log);

    void softmaxBackward(Tensor y, Tensor gy, Tensor gx, boolean log);

    /** LayerNorm over the last axis; b may be null; mean and rstd [rows] are written. */
    void layerNorm(Tensor x, Tensor w, Tensor b, float eps, Tensor y, Tensor mean, Tensor rstd);

    /** gx overwritten; gw and gb (nullable) accumulated. */
    void layerNormBackward(Tensor x, Tensor w, Tensor mean, Tensor rstd, Tensor gy, Tensor gx, Tensor gw, Tensor gb);

    /** RMSNorm over the last axis (docs/model.md §5); rstd [rows] written. */
    void rmsNorm(Tensor x, Tensor w, float eps, Tensor y, Tensor rstd);

    /** gx overwritten; gw accumulated. */
    void rmsNormBackward(Tensor x, Tensor w, Tensor rstd, Tensor gy, Tensor gx, Tensor gw);

    /** Rotate-half RoPE on contiguous [batch, seq, heads, headDim], positions startPos + t (docs/model.md §5). */
    void rope(Tensor x, Tensor y, int startPos, double theta, boolean inverse);

    /** {@code out[r] = table[ids[r]]}; ids I64 (any shape, contiguous), out [ids.numel, dim]. */
    void embedding(Tensor table, Tensor ids, Tensor out);

    /** {@code gTable[ids[r]] += gOut[r]} (accumulates). */
    void embeddingBackward(Tensor gOut, Tensor ids, Tensor gTable);

    /** {@code dst[index[r], :] = src[r, :]} for 2-D contiguous dst and src, index I64 [rows of src]. */
    void indexCopyRows(Tensor dst, Tensor index, Tensor src);

    /**
     * Fused attention. q [B, Hq, Tq, D], k and v [B, Hkv, Tk, D] (unit stride in D), out of q's
     * shape, lse [B, Hq, Tq] contiguous. mask: null, or BOOL [B or 1, Tq, Tk] (true = may attend).
     * Rows with no visible key give 0.
     */
    void attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, float scale, Tensor out, Tensor lse);

    /** Gradients of {@link #attention}; dq, dk, dv overwritten. */
    void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, float scale,
                           Tensor out, Tensor lse, Tensor dOut, Tensor dq, Tensor dk, Tensor dv);

    /**
     * Cross-entropy of logits [rows, vocab] against I64 targets [rows], rows whose target is
     * ignoreIndex skipped. Writes lse [rows]; returns {sum of losses, count of labelled rows}.
     */
    double[] crossEntropy(Tensor logits, Tensor targets, long ignoreIndex, Tensor lse);

    /** {@code gLogits = scale * (softmax - onehot)} on labelled rows, 0 elsewhere. */
    void crossEntropyBackward(Tensor logits, Tensor targets, long ignoreIndex, Tensor lse, float scale, Tensor gLogits);

    /** One AdamW step (PyTorch semantics) on contiguous f32 param, grad and moments. */
    void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
               float weightDecay, int step);

    /** Waits for queued work (no-op on the CPU). */
    default void synchronize() {
    }
}

/** Lazily finds the CUDA backend so the CPU path never touches it. */
final class CudaHolder {
    private static volatile Backend cuda;

    private CudaHolder() {
    }

    static Backend backend() {
        Backend b = cuda;
        if (b == null) {
            synchronized (CudaHolder.class) {
                b = cuda;
                if (b == null) {
                    for (Backend candidate : ServiceLoader.load(Backend.class)) {
                        if (candidate.device() == Device.CUDA) {
                            b = candidate;
                            break;
                        }
                    }
                    if (b == null) {
                        throw new IllegalStateException("no CUDA backend on the class path (module cuda-ffm registers it)");
                    }
                    cuda = b;
                }
            }
        }
        return b;
    }
}
