package nvlm.tensor;

import java.util.random.RandomGenerator;
import nvlm.kernels.DType;

/**
 * Functional operations with fused kernels, as in {@code torch.nn.functional}: linear, norms,
 * embedding, RoPE, attention, cross-entropy, dropout. Each is one backend call forward and one
 * backward, instead of a chain of primitives.
 */
public final class F {
    /**
     * The label that marks a position the loss skips (prompt tokens, padding, tiles without a
     * target): Hugging Face's and PyTorch's {@code ignore_index}, docs/model.md §8. The one definition the
     * model, the data and the trainer use; kernels take it as an argument.
     */
    public static final int IGNORE_INDEX = -100;

    private F() {
    }

    /**
     * A differentiable operation defined outside this package, as {@code torch.autograd.Function}:
     * {@code out} (a fresh tensor computed from {@code inputs} with grad mode's help or not) gets
     * {@code backward} as its producer when grad mode is on and an input needs a gradient. What the
     * collectives of tensor parallelism are built with (identity forward, all-reduce backward, ...).
     */
    public static Tensor function(String name, Tensor out, Tensor[] inputs, Node.Backward backward) {
        return Autograd.record(out, name, inputs, backward);
    }

    /** {@code x @ w^T + b} over the last dimension: x [.., in], w [out, in], b [out] or null. */
    public static Tensor linear(Tensor x, Tensor w, Tensor b) {
        Ops.sameDevice("linear", x, w);
        if (w.dim() != 2 || x.size(-1) != w.size(1)) {
            throw new IllegalArgumentException("linear: input " + x.describe() + " does not match weight " + w.describe()
                    + " ([out, in] with in = the input's last dimension)");
        }
        if (b != null && (b.dim() != 1 || b.size(0) != w.size(0))) {
            throw new IllegalArgumentException("linear: bias " + b.describe() + " for weight " + w.describe());
        }
        long in = w.size(1);
        long out = w.size(0);
        long[] outShape = x.shape();
        outShape[outShape.length - 1] = out;
        Tensor x2 = matrixOperand(x.reshape(-1, in));
        long rows = x2.size(0);
        Tensor wc = matrixOperand(w.contiguous());
        Tensor y = Tensor.empty(x.device(), DType.F32, rows, out);
        float beta = 0f;
        if (b != null) {
            // Bias broadcast into the output first, then the GEMM accumulates onto it (beta = 1).
            x.backend().copy(Ops.raw(Ops.f32(b), new long[] {rows, out}), y);
            beta = 1f;
        }
        x.backend().matmul(batch1(x2), false, batch1(wc), true, batch1(y), 1f, beta);
        Tensor result = y.reshape(outShape);
        Tensor bias = b;
        return Autograd.record(result, "linear", new Tensor[] {x2, wc, b}, g -> {
            Tensor g2 = g.contiguous().reshape(rows, out);
            Tensor gx = null;
            Tensor gw = null;
            Tensor gb = null;
            if (x2.requiresGrad()) {
                gx = Tensor.empty(g2.device(), DType.F32, rows, in);
                g2.backend().matmul(batch1(g2), false, batch1(wc), false, batch1(gx), 1f, 0f);
            }
            if (wc.requiresGrad()) {
                gw = Tensor.empty(g2.device(), DType.F32, out, in);
                g2.backend().matmul(batch1(g2), true, batch1(Ops.f32(x2).contiguous()), false, batch1(gw), 1f, 0f);
            }
            if (bias != null && bias.requiresGrad()) {
                gb = g2.sum(0, false);
            }
            return new Tensor[] {gx, gw, gb};
        });
    }

    private static Tensor matrixOperand(Tensor t) {
        return switch (t.dtype()) {
            case F32, BF16, F16 -> t.contiguous();
            default -> t.to(DType.F32).contiguous();
        };
    }

    /** A contiguous 2-D tensor as a [1, rows, cols] operand for the backend's matmul. */
    private static Tensor batch1(Tensor t) {
        long[] s = t.shapeRef();
        return new Tensor(t.storage(), t.offset(), new long[] {1, s[0], s[1]}, new long[] {0, s[1], 1});
    }

    /** LayerNorm over the last dimension with weight and optional bias. */
    public static Tensor layerNorm(Tensor input, Tensor w, Tensor b, double eps) {
        Tensor x = Ops.f32(input).contiguous();
        long cols = x.size(-1);
        checkVector("layerNorm weight", w, cols);
        if (b != null) {
            checkVector("layerNorm bias", b, cols);
        }
        long rows = x.numel() / Math.max(cols, 1);
        Tensor wc = Ops.f32(w).contiguous();
        Tensor bc = b == null ? null : Ops.f32(b).contiguous();
        Tensor y = Tensor.empty(x.device(), DType.F32, x.shapeRef());
        Tensor mean = Tensor.empty(x.device(), DType.F32, rows);
        Tensor rstd = Tensor.empty(x.device(), DType.F32, rows);
        x.backend().layerNorm(x, wc, bc, (float) eps, y, mean, rstd);
        return Autograd.record(y, "layer_norm", new Tensor[] {x, wc, bc}, g -> {
            Tensor gc = g.contiguous();
            Tensor gx = Tensor.empty(x.device(), DType.F32, x.shapeRef());
            Tensor gw = Tensor.zeros(x.device(), DType.F32, cols);
            Tensor gb = bc == null ? null : Tensor.zeros(x.device(), DType.F32, cols);
            x.backend().layerNormBackward(x, wc, mean, rstd, gc, gx, gw, gb);
            return new Tensor[] {x.requiresGrad() ? gx : null, wc.requiresGrad() ? gw : null,
                bc != null && bc.requiresGrad() ? gb : null};
        });
    }

    /** RMSNorm over the last dimension (docs/model.md §5): {@code x * rsqrt(mean(x^2) + eps) * w}. */
    public static Tensor rmsNorm(Tensor input, Tensor w, double eps) {
        Tensor x = Ops.f32(input).contiguous();
        long cols = x.size(-1);
        checkVector("rmsNorm weight", w, cols);
        long rows = x.numel() / Math.max(cols, 1);
        Tensor wc = Ops.f32(w).contiguous();
        Tensor y = Tensor.empty(x.device(), DType.F32, x.shapeRef());
        Tensor rstd = Tensor.empty(x.device(), DType.F32, rows);
        x.backend().rmsNorm(x, wc, (float) eps, y, rstd);
        return Autograd.record(y, "rms_norm", new Tensor[] {x, wc}, g -> {
            Tensor gc = g.contiguous();
            Tensor gx = Tensor.empty(x.device(), DType.F32, x.shapeRef());
            Tensor gw = Tensor.zeros(x.device(), DType.F32, cols);
            x.backend().rmsNormBackward(x, wc, rstd, gc, gx, gw);
            return new Tensor[] {x.requiresGrad() ? gx : null, wc.requiresGrad() ? gw : null};
        });
    }

    private static void checkVector(String what, Tensor t, long n) {
        if (t.dim() != 1 || t.size(0) != n) {
            throw new IllegalArgumentException(what + " " + t.describe() + " must be [" + n + "]");
        }
    }

    /** Rows of {@code table} [vocab, dim] picked by I64 {@code ids} (any shape): [..ids, dim]. */
    /**
     * Rows of a BF16/F16 table widened one by one: a memory-mapped vocabulary (150k x d) is never
     * widened whole, only the rows the ids name are read.
     */
    private static Tensor embeddingRows(Tensor idc, Tensor table) {
        long[] idv = idc.to(Device.CPU).toLongArray();
        long vocab = table.size(0);
        Tensor[] rows = new Tensor[idv.length];
        for (int i = 0; i < idv.length; i++) {
            if (idv[i] < 0 || idv[i] >= vocab) {
                throw new IndexOutOfBoundsException("embedding: id " + idv[i] + " outside the table's " + vocab + " rows");
            }
            rows[i] = table.narrow(0, idv[i], 1).to(DType.F32);
        }
        Tensor out = rows.length == 0 ? Tensor.empty(table.device(), DType.F32, 0, table.size(1)) : Tensor.cat(0, rows);
        return out.reshape(Ops.concat(idc.shapeRef(), new long[] {table.size(1)}));
    }

    public static Tensor embedding(Tensor ids, Tensor table) {
        Ops.sameDevice("embedding", ids, table);
        if (ids.dtype() != DType.I64) {
            throw new IllegalArgumentException("embedding: ids must be I64, got " + ids.describe());
        }
        if (table.dim() != 2) {
            throw new IllegalArgumentException("embedding: table must be [vocab, dim], got " + table.describe());
        }
        Tensor idc = ids.contiguous();
        if (table.dtype() != DType.F32 && !(GradMode.isEnabled() && table.requiresGrad())) {
            return embeddingRows(idc, table);
        }
        Tensor t = Ops.f32(table).contiguous();
        long dim = t.size(1);
        Tensor out = Tensor.empty(t.device(), DType.F32, idc.numel(), dim);
        t.backend().embedding(t, idc, out);
        Tensor result = out.reshape(Ops.concat(idc.shapeRef(), new long[] {dim}));
        return Autograd.record(result, "embedding", new Tensor[] {t}, g -> {
            Tensor gt = Tensor.zeros(t.device(), DType.F32, t.shapeRef());
            t.backend().embeddingBackward(g.contiguous().reshape(idc.numel(), dim), idc, gt);
            return new Tensor[] {gt};
        });
    }

    /**
     * {@code x} with rows {@code index[r]} replaced by {@code src[r]}: x [N, D], src [R, D],
     * index I64 [R] (distinct). Used to place image features at image-context positions (docs/model.md §7).
     */
    public static Tensor indexCopyRows(Tensor x, Tensor index, Tensor src) {
        Ops.sameDevice("indexCopyRows", x, src);
        if (x.dim() != 2 || src.dim() != 2 || x.size(1) != src.size(1) || index.numel() != src.size(0)) {
            throw new IllegalArgumentException("indexCopyRows: x " + x.describe() + ", index " + index.describe()
                    + ", src " + src.describe() + " (expected [N, D], [R], [R, D])");
        }
        Tensor xc = Ops.f32(x);
        Tensor sc = Ops.f32(src).contiguous();
        Tensor idc = index.contiguous();
        Tensor out = xc.contiguousCopy().detach();
        out.backend().indexCopyRows(out, idc, sc);
        return Autograd.record(out, "index_copy", new Tensor[] {xc, sc}, g -> {
            Tensor gc = g.contiguous();
            Tensor gx = null;
            if (xc.requiresGrad()) {
                gx = gc.contiguousCopy().detach();
                Tensor zeros = Tensor.zeros(gc.device(), DType.F32, sc.shapeRef());
                gx.backend().indexCopyRows(gx, idc, zeros);
            }
            Tensor gs = sc.requiresGrad() ? embedding(idc, gc) : null;
            return new Tensor[] {gx, gs};
        });
    }

    /** Rotate-half RoPE (docs/model.md §5) on [batch, seq, heads, headDim], positions startPos + t. */
    public static Tensor rope(Tensor input, int startPos, double theta) {
        if (input.dim() != 4 || input.size(3) % 2 != 0) {
            throw new IllegalArgumentException("rope: expected [batch, seq, heads, headDim] with even headDim, got "
                    + input.describe());
        }
        Tensor x = Ops.f32(input).contiguous();
        Tensor y = Tensor.empty(x.device(), DType.F32, x.shapeRef());
        x.backend().rope(x, y, startPos, theta, false);
        return Autograd.record(y, "rope", new Tensor[] {x}, g -> {
            Tensor gc = g.contiguous();
            Tensor gx = Tensor.empty(gc.device(), DType.F32, gc.shapeRef());
            gc.backend().rope(gc, gx, startPos, theta, true);
            return new Tensor[] {gx};
        });
    }

    /**
     * Fused scaled-dot-product attention: q [B, Hq, Tq, D], k and v [B, Hkv, Tk, D] (Hq a multiple
     * of Hkv: grouped-query attention), mask null or BOOL [B or 1, Tq, Tk] (true = may attend).
     * Memory is O(T*D): no Tq x Tk matrix is ever built. Rows that see no key give 0.
     */
    public static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, double scale) {
        Ops.sameDevice("attention", q, k);
        Ops.sameDevice("attention", k, v);
        if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4) {
            throw new IllegalArgumentException("attention: q, k, v must be [batch, heads, seq, headDim]: "
                    + q.describe() + ", " + k.describe() + ", " + v.describe());
        }
        long b = q.size(0);
        long hq = q.size(1);
        long tq = q.size(2);
        long d = q.size(3);
        long hkv = k.size(1);
        long tk = k.size(2);
        if (k.size(0) != b || v.size(0) != b || k.size(3) != d || v.size(3) != d || v.size(1) != hkv || v.size(2) != tk
                || hkv == 0 || hq % hkv != 0) {
            throw new IllegalArgumentException("attention: incompatible q " + q.describe() + ", k " + k.describe()
                    + ", v " + v.describe());
        }
        if (mask != null && (mask.dtype() != DType.BOOL || mask.dim() != 3 || (mask.size(0) != b && mask.size(0) != 1)
                || mask.size(1) != tq || mask.size(2) != tk)) {
            throw new IllegalArgumentException("attention: mask must be BOOL [" + b + " or 1, " + tq + ", " + tk
                    + "], got " + mask.describe());
        }
        Tensor qc = unitLastStride(q);
        Tensor kc = unitLastStride(k);
        Tensor vc = unitLastStride(v);
        Tensor mc = mask == null ? null : mask.contiguous();
        Tensor out = Tensor.empty(q.device(), DType.F32, b, hq, tq, d);
        Tensor lse = Tensor.empty(q.device(), DType.F32, b, hq, tq);
        float s = (float) scale;
        q.backend().attention(qc, kc, vc, mc, causal, s, out, lse);
        return Autograd.record(out, "attention", new Tensor[] {qc, kc, vc}, g -> {
            Tensor gc = g.contiguous();
            Tensor dq = Tensor.empty(q.device(), DType.F32, qc.shapeRef());
            Tensor dk = Tensor.empty(q.device(), DType.F32, kc.shapeRef());
            Tensor dv = Tensor.empty(q.device(), DType.F32, vc.shapeRef());
            q.backend().attentionBackward(qc, kc, vc, mc, causal, s, out, lse, gc, dq, dk, dv);
            return new Tensor[] {dq, dk, dv};
        });
    }

    private static Tensor unitLastStride(Tensor t) {
        Tensor f = Ops.f32(t);
        return f.stridesRef()[3] == 1 || f.size(3) == 1 ? f : f.contiguous();
    }

    /**
     * Mean cross-entropy of logits [N, V] against I64 targets [N] over the rows whose target is
     * not {@code ignoreIndex} (docs/model.md §8). NaN when no row is labelled, as in PyTorch.
     */
    public static Tensor crossEntropy(Tensor logits, Tensor targets, long ignoreIndex) {
        Ops.sameDevice("crossEntropy", logits, targets);
        if (logits.dim() != 2 || targets.dim() != 1 || targets.size(0) != logits.size(0) || targets.dtype() != DType.I64) {
            throw new IllegalArgumentException("crossEntropy: logits must be [N, V] and targets I64 [N]; got "
                    + logits.describe() + " and " + targets.describe());
        }
        Tensor x = Ops.f32(logits).contiguous();
        Tensor t = targets.contiguous();
        Tensor lse = Tensor.empty(x.device(), DType.F32, x.size(0));
        double[] sumCount = x.backend().crossEntropy(x, t, ignoreIndex, lse);
        double count = sumCount[1];
        Tensor loss = Tensor.full(x.device(), DType.F32, count == 0 ? Double.NaN : sumCount[0] / count);
        return Autograd.record(loss, "cross_entropy", new Tensor[] {x}, g -> {
            Tensor gx = Tensor.empty(x.device(), DType.F32, x.shapeRef());
            float scale = count == 0 ? 0f : (float) (g.item() / count);
            x.backend().crossEntropyBackward(x, t, ignoreIndex, lse, scale, gx);
            return new Tensor[] {gx};
        });
    }

    /** Inverted dropout: zeroes each element with probability p (training only), scaling the rest by 1/(1-p). */
    public static Tensor dropout(Tensor x, double p, RandomGenerator rng, boolean training) {
        if (!training || p == 0) {
            return x;
        }
        if (p < 0 || p >= 1) {
            throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        }
        float[] keep = new float[Math.toIntExact(x.numel())];
        float scale = (float) (1 / (1 - p));
        for (int i = 0; i < keep.length; i++) {
            keep[i] = rng.nextDouble() < p ? 0f : scale;
        }
        return x.mul(Tensor.of(keep, x.shape()).to(x.device()));
    }
}
