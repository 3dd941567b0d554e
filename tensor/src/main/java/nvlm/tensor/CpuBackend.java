package nvlm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.util.Arrays;
import nvlm.kernels.AttentionMask;
import nvlm.kernels.AttentionShape;
import nvlm.kernels.DType;
import nvlm.kernels.cpu.AdamW;
import nvlm.kernels.cpu.Attention;
import nvlm.kernels.cpu.CrossEntropy;
import nvlm.kernels.cpu.Elementwise;
import nvlm.kernels.cpu.Embedding;
import nvlm.kernels.cpu.Gemm;
import nvlm.kernels.cpu.HeadView;
import nvlm.kernels.cpu.LayerNorm;
import nvlm.kernels.cpu.Reduce;
import nvlm.kernels.cpu.RmsNorm;
import nvlm.kernels.cpu.Rope;
import nvlm.kernels.cpu.Softmax;
import nvlm.kernels.cpu.StridedCopy;

/** The CPU backend: every operation is a call into the Vector API kernels of {@code nvlm.kernels.cpu}. */
final class CpuBackend implements Backend {
    static final CpuBackend INSTANCE = new CpuBackend();
    private static final Cleaner CLEANER = Cleaner.create();

    private CpuBackend() {
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    private static MemorySegment seg(Tensor t) {
        return ((CpuStorage) t.storage()).segment();
    }

    // ------------------------------------------------------------------ memory

    @Override
    public Storage allocate(DType dtype, long numel) {
        CpuMemoryPool pool = CpuMemoryPool.instance();
        CpuStorage storage = new CpuStorage(dtype, numel, pool.acquire(numel * dtype.byteSize()));
        MemoryScope scope = MemoryScope.current();
        if (scope != null) {
            scope.register(storage);
        } else {
            releaseWhenUnreachable(storage);
        }
        return storage;
    }

    @Override
    public void releaseWhenUnreachable(Storage storage) {
        CpuStorage cpu = (CpuStorage) storage;
        CpuMemoryPool.Block block = cpu.block();
        // Registered on the segment the kernels are handed, not on the storage: a kernel still
        // reading a segment keeps its memory out of the pool even when the tensor itself is gone.
        CLEANER.register(cpu.heldSegment(), () -> CpuMemoryPool.instance().release(block));
        CpuMemoryPool.instance().leftToGc(block.segment().byteSize());
    }

    @Override
    public void copyFromHost(MemorySegment src, Tensor dst) {
        long bytes = dst.numel() * dst.dtype().byteSize();
        MemorySegment.copy(src, 0, seg(dst), dst.offset() * dst.dtype().byteSize(), bytes);
    }

    @Override
    public void copyToHost(Tensor src, MemorySegment dst) {
        long bytes = src.numel() * src.dtype().byteSize();
        MemorySegment.copy(seg(src), src.offset() * src.dtype().byteSize(), dst, 0, bytes);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        long[] shape = dst.shapeRef();
        if (dst.isContiguous()) {
            StridedCopy.copy(src.dtype(), shape, seg(src), src.offset(), src.stridesRef(), dst.dtype(), seg(dst), dst.offset());
            return;
        }
        // Strided destination: copy block by block, each block a contiguous run of dst's trailing dims.
        long[] dstStrides = dst.stridesRef();
        int split = shape.length;
        long expected = 1;
        while (split > 0 && (shape[split - 1] == 1 || dstStrides[split - 1] == expected)) {
            expected *= shape[split - 1];
            split--;
        }
        long[] inner = Arrays.copyOfRange(shape, split, shape.length);
        long[] innerSrcStrides = Arrays.copyOfRange(src.stridesRef(), split, shape.length);
        long[] index = new long[split];
        long outer = 1;
        for (int i = 0; i < split; i++) {
            outer *= shape[i];
        }
        for (long o = 0; o < outer; o++) {
            long srcOff = src.offset();
            long dstOff = dst.offset();
            for (int i = 0; i < split; i++) {
                srcOff += index[i] * src.stridesRef()[i];
                dstOff += index[i] * dstStrides[i];
            }
            StridedCopy.copy(src.dtype(), inner, seg(src), srcOff, innerSrcStrides, dst.dtype(), seg(dst), dstOff);
            for (int i = split - 1; i >= 0; i--) {
                if (++index[i] < shape[i]) {
                    break;
                }
                index[i] = 0;
            }
        }
    }

    private static void write(MemorySegment d, DType dtype, long i, double v) {
        switch (dtype) {
            case F32 -> d.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) v);
            case BF16 -> d.setAtIndex(ValueLayout.JAVA_SHORT, i, DType.floatToBf16((float) v));
            case F16 -> d.setAtIndex(ValueLayout.JAVA_SHORT, i, DType.floatToF16((float) v));
            case I32 -> d.setAtIndex(ValueLayout.JAVA_INT, i, (int) v);
            case I64 -> d.setAtIndex(ValueLayout.JAVA_LONG, i, (long) v);
            case BOOL -> d.set(ValueLayout.JAVA_BYTE, i, (byte) (v != 0 ? 1 : 0));
        }
    }

    @Override
    public void fill(Tensor dst, double value) {
        long n = dst.numel();
        MemorySegment d = seg(dst);
        long off = dst.offset();
        switch (dst.dtype()) {
            case F32 -> Elementwise.fill(d, off, n, (float) value);
            case I64 -> {
                for (long i = 0; i < n; i++) {
                    d.setAtIndex(ValueLayout.JAVA_LONG, off + i, (long) value);
                }
            }
            default -> {
                if (value == 0) {
                    d.asSlice(off * dst.dtype().byteSize(), n * dst.dtype().byteSize()).fill((byte) 0);
                } else {
                    for (long i = 0; i < n; i++) {
                        write(d, dst.dtype(), off + i, value);
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor y) {
        Elementwise.unary(Elementwise.Unary.valueOf(op.name()), seg(x), x.offset(), seg(y), y.offset(), x.numel());
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor gy, Tensor gx) {
        Elementwise.unaryBackward(Elementwise.Unary.valueOf(op.name()), seg(x), x.offset(),
                y == null ? null : seg(y), y == null ? 0 : y.offset(), seg(gy), gy.offset(), seg(gx), gx.offset(), x.numel());
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        Elementwise.binary(Elementwise.Binary.valueOf(op.name()), out.shapeRef(), seg(a), a.offset(), a.stridesRef(),
                seg(b), b.offset(), b.stridesRef(), seg(out), out.offset());
    }

    @Override
    public void compare(CompareOp op, Tensor a, Tensor b, Tensor out) {
        Elementwise.compare(Elementwise.Compare.valueOf(op.name()), out.shapeRef(), seg(a), a.offset(), a.stridesRef(),
                seg(b), b.offset(), b.stridesRef(), seg(out), out.offset());
    }

    @Override
    public void where(Tensor cond, Tensor a, Tensor b, Tensor out) {
        Elementwise.where(out.shapeRef(), seg(cond), cond.offset(), cond.stridesRef(), seg(a), a.offset(), a.stridesRef(),
                seg(b), b.offset(), b.stridesRef(), seg(out), out.offset());
    }

    @Override
    public void affine(Tensor x, Tensor y, float alpha, float beta) {
        Elementwise.affine(seg(x), x.offset(), seg(y), y.offset(), x.numel(), alpha, beta);
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        Elementwise.axpy(alpha, seg(x), x.offset(), seg(y), y.offset(), x.numel());
    }

    // ------------------------------------------------------------------ reductions

    private static int[] outerAxisInner(long[] shape, int axis) {
        long outer = 1;
        long inner = 1;
        for (int i = 0; i < axis; i++) {
            outer *= shape[i];
        }
        for (int i = axis + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        return new int[] {Math.toIntExact(outer), Math.toIntExact(shape[axis]), Math.toIntExact(inner)};
    }

    @Override
    public void reduce(ReduceOp op, Tensor x, int axis, Tensor out) {
        int[] oai = outerAxisInner(x.shapeRef(), axis);
        Reduce.reduce(Reduce.Op.valueOf(op.name()), seg(x), x.offset(), oai[0], oai[1], oai[2], seg(out), out.offset());
    }

    @Override
    public void argmax(Tensor x, int axis, Tensor out) {
        int[] oai = outerAxisInner(x.shapeRef(), axis);
        Reduce.argmax(seg(x), x.offset(), oai[0], oai[1], oai[2], seg(out), out.offset());
    }

    @Override
    public double sumOfSquares(Tensor x) {
        return AdamW.sumOfSquares(seg(x), x.offset(), x.numel());
    }

    // ------------------------------------------------------------------ matmul

    @Override
    public void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, float alpha, float beta) {
        long[] as = a.shapeRef();
        long[] bs = b.shapeRef();
        int batch = Math.toIntExact(c.shapeRef()[0]);
        int m = Math.toIntExact(transA ? as[2] : as[1]);
        int k = Math.toIntExact(transA ? as[1] : as[2]);
        int n = Math.toIntExact(transB ? bs[1] : bs[2]);
        Gemm.gemm(a.dtype(), b.dtype(), transA, transB, batch, m, n, k, alpha,
                seg(a), a.offset(), a.stridesRef()[1], a.stridesRef()[0],
                seg(b), b.offset(), b.stridesRef()[1], b.stridesRef()[0],
                beta, seg(c), c.offset(), n, (long) m * n);
    }

    // ------------------------------------------------------------------ fused

    private static int rows(Tensor x) {
        long cols = x.shapeRef()[x.dim() - 1];
        return Math.toIntExact(cols == 0 ? 0 : x.numel() / cols);
    }

    private static int cols(Tensor x) {
        return Math.toIntExact(x.shapeRef()[x.dim() - 1]);
    }

    @Override
    public void softmax(Tensor x, Tensor y, boolean log) {
        if (log) {
            Softmax.logSoftmax(seg(x), x.offset(), seg(y), y.offset(), rows(x), cols(x));
        } else {
            Softmax.softmax(seg(x), x.offset(), seg(y), y.offset(), rows(x), cols(x));
        }
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor gy, Tensor gx, boolean log) {
        if (log) {
            Softmax.logSoftmaxBackward(seg(y), y.offset(), seg(gy), gy.offset(), seg(gx), gx.offset(), rows(y), cols(y));
        } else {
            Softmax.softmaxBackward(seg(y), y.offset(), seg(gy), gy.offset(), seg(gx), gx.offset(), rows(y), cols(y));
        }
    }

    @Override
    public void layerNorm(Tensor x, Tensor w, Tensor b, float eps, Tensor y, Tensor mean, Tensor rstd) {
        LayerNorm.forward(seg(x), x.offset(), seg(w), w.offset(), b == null ? null : seg(b), b == null ? 0 : b.offset(),
                seg(y), y.offset(), seg(mean), mean.offset(), seg(rstd), rstd.offset(), rows(x), cols(x), eps);
    }

    @Override
    public void layerNormBackward(Tensor x, Tensor w, Tensor mean, Tensor rstd, Tensor gy, Tensor gx, Tensor gw, Tensor gb) {
        LayerNorm.backward(seg(x), x.offset(), seg(w), w.offset(), seg(mean), mean.offset(), seg(rstd), rstd.offset(),
                seg(gy), gy.offset(), seg(gx), gx.offset(), seg(gw), gw.offset(), gb == null ? null : seg(gb),
                gb == null ? 0 : gb.offset(), rows(x), cols(x));
    }

    @Override
    public void rmsNorm(Tensor x, Tensor w, float eps, Tensor y, Tensor rstd) {
        RmsNorm.forward(seg(x), x.offset(), seg(w), w.offset(), seg(y), y.offset(), seg(rstd), rstd.offset(), rows(x), cols(x), eps);
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor w, Tensor rstd, Tensor gy, Tensor gx, Tensor gw) {
        RmsNorm.backward(seg(x), x.offset(), seg(w), w.offset(), seg(rstd), rstd.offset(), seg(gy), gy.offset(),
                seg(gx), gx.offset(), seg(gw), gw.offset(), rows(x), cols(x));
    }

    @Override
    public void rope(Tensor x, Tensor y, int startPos, double theta, boolean inverse) {
        long[] s = x.shapeRef();
        Rope.apply(seg(x), x.offset(), seg(y), y.offset(), Math.toIntExact(s[0]), Math.toIntExact(s[1]),
                Math.toIntExact(s[2]), Math.toIntExact(s[3]), startPos, theta, inverse);
    }

    @Override
    public void embedding(Tensor table, Tensor ids, Tensor out) {
        long[] ts = table.shapeRef();
        Embedding.gather(seg(table), table.offset(), Math.toIntExact(ts[0]), Math.toIntExact(ts[1]),
                seg(ids), ids.offset(), Math.toIntExact(ids.numel()), seg(out), out.offset());
    }

    @Override
    public void embeddingBackward(Tensor gOut, Tensor ids, Tensor gTable) {
        long[] ts = gTable.shapeRef();
        Embedding.scatterAdd(seg(gOut), gOut.offset(), seg(ids), ids.offset(), Math.toIntExact(ids.numel()),
                Math.toIntExact(ts[0]), Math.toIntExact(ts[1]), seg(gTable), gTable.offset());
    }

    @Override
    public void indexCopyRows(Tensor dst, Tensor index, Tensor src) {
        long rows = dst.shapeRef()[0];
        long dim = dst.shapeRef()[1];
        MemorySegment idx = seg(index);
        MemorySegment s = seg(src);
        MemorySegment d = seg(dst);
        for (long r = 0; r < index.numel(); r++) {
            long target = idx.getAtIndex(ValueLayout.JAVA_LONG, index.offset() + r);
            if (target < 0 || target >= rows) {
                throw new IndexOutOfBoundsException("indexCopyRows: index[" + r + "] = " + target + " outside [0, " + rows + ")");
            }
            MemorySegment.copy(s, (src.offset() + r * dim) * 4, d, (dst.offset() + target * dim) * 4, dim * 4);
        }
    }

    private static HeadView heads(Tensor t) {
        long[] st = t.stridesRef();
        return new HeadView(seg(t), t.offset(), st[0], st[1], st[2]);
    }

    private static AttentionShape attentionShape(Tensor q, Tensor k, Tensor mask, boolean causal, float scale) {
        long[] qs = q.shapeRef();
        long[] ks = k.shapeRef();
        AttentionMask kind = mask != null ? AttentionMask.EXPLICIT : causal ? AttentionMask.CAUSAL : AttentionMask.NONE;
        if (mask != null && causal) {
            throw new IllegalArgumentException("attention: pass either a mask or causal=true, not both");
        }
        return new AttentionShape(Math.toIntExact(qs[0]), Math.toIntExact(qs[1]), Math.toIntExact(ks[1]),
                Math.toIntExact(qs[2]), Math.toIntExact(ks[2]), Math.toIntExact(qs[3]), scale, kind);
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, float scale, Tensor out, Tensor lse) {
        AttentionShape s = attentionShape(q, k, mask, causal, scale);
        Attention.forward(s, heads(q), heads(k), heads(v),
                mask == null ? null : seg(mask), mask == null ? 0 : mask.offset(),
                mask == null || mask.shapeRef()[0] == 1 ? 0 : mask.stridesRef()[0], mask == null ? 0 : mask.stridesRef()[1],
                heads(out), seg(lse), lse.offset());
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, float scale,
                                  Tensor out, Tensor lse, Tensor dOut, Tensor dq, Tensor dk, Tensor dv) {
        AttentionShape s = attentionShape(q, k, mask, causal, scale);
        Attention.backward(s, heads(q), heads(k), heads(v),
                mask == null ? null : seg(mask), mask == null ? 0 : mask.offset(),
                mask == null || mask.shapeRef()[0] == 1 ? 0 : mask.stridesRef()[0], mask == null ? 0 : mask.stridesRef()[1],
                heads(out), seg(lse), lse.offset(), heads(dOut), heads(dq), heads(dk), heads(dv));
    }

    @Override
    public double[] crossEntropy(Tensor logits, Tensor targets, long ignoreIndex, Tensor lse) {
        CrossEntropy.Result r = CrossEntropy.forward(seg(logits), logits.offset(), rows(logits), cols(logits),
                seg(targets), targets.offset(), ignoreIndex, seg(lse), lse.offset());
        return new double[] {r.lossSum(), r.count()};
    }

    @Override
    public void crossEntropyBackward(Tensor logits, Tensor targets, long ignoreIndex, Tensor lse, float scale, Tensor gLogits) {
        CrossEntropy.backward(seg(logits), logits.offset(), rows(logits), cols(logits), seg(targets), targets.offset(),
                ignoreIndex, seg(lse), lse.offset(), scale, seg(gLogits), gLogits.offset());
    }

    @Override
    public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                      float weightDecay, int step) {
        AdamW.step(seg(param), param.offset(), seg(grad), grad.offset(), seg(m), m.offset(), seg(v), v.offset(),
                param.numel(), lr, beta1, beta2, eps, weightDecay, step);
    }
}
