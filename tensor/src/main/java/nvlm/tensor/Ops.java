package nvlm.tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import nvlm.kernels.DType;

/**
 * The differentiable operations behind {@link Tensor}'s methods: each computes its result with
 * the tensor's {@link Backend} and records how to differentiate it. Backward functions are
 * written with the same tensor operations (they run with grad mode off).
 */
final class Ops {
    private Ops() {
    }

    /** The f32 version of a tensor (compute dtype). */
    static Tensor f32(Tensor t) {
        return t.dtype() == DType.F32 ? t : t.to(DType.F32);
    }

    static Tensor scalarLike(Tensor t, double value) {
        return Tensor.full(t.device(), DType.F32, value);
    }

    static void sameDevice(String op, Tensor a, Tensor b) {
        if (a.device() != b.device()) {
            throw new IllegalArgumentException(op + ": tensors on different devices: " + a.describe() + " on "
                    + a.device() + ", " + b.describe() + " on " + b.device());
        }
    }

    /** A view outside the graph (for passing broadcast operands to kernels). */
    static Tensor raw(Tensor t, long[] shape) {
        try (var noGrad = GradMode.disabled()) {
            return t.detach().expand(shape);
        }
    }

    // ------------------------------------------------------------------ elementwise

    static Tensor unary(UnaryOp op, Tensor input) {
        Tensor x = f32(input).contiguous();
        Tensor y = Tensor.empty(x.device(), DType.F32, x.shapeRef());
        x.backend().unary(op, x, y);
        return Autograd.record(y, op.name().toLowerCase(java.util.Locale.ROOT), new Tensor[] {x}, g -> {
            Tensor gc = g.contiguous();
            Tensor gx = Tensor.empty(gc.device(), DType.F32, gc.shapeRef());
            gc.backend().unaryBackward(op, x, y, gc, gx);
            return new Tensor[] {gx};
        });
    }

    static Tensor binary(BinaryOp op, Tensor left, Tensor right) {
        sameDevice(op.name().toLowerCase(java.util.Locale.ROOT), left, right);
        Tensor a = f32(left);
        Tensor b = f32(right);
        long[] shape = Shape.broadcast(a.shapeRef(), b.shapeRef());
        Tensor out = Tensor.empty(a.device(), DType.F32, shape);
        a.backend().binary(op, raw(a, shape), raw(b, shape), out);
        return Autograd.record(out, op.name().toLowerCase(java.util.Locale.ROOT), new Tensor[] {a, b},
                g -> binaryBackward(op, a, b, out, g));
    }

    private static Tensor[] binaryBackward(BinaryOp op, Tensor a, Tensor b, Tensor out, Tensor g) {
        long[] as = a.shapeRef();
        long[] bs = b.shapeRef();
        boolean needA = a.requiresGrad();
        boolean needB = b.requiresGrad();
        return switch (op) {
            case ADD -> new Tensor[] {needA ? g.sumTo(as) : null, needB ? g.sumTo(bs) : null};
            case SUB -> new Tensor[] {needA ? g.sumTo(as) : null, needB ? g.neg().sumTo(bs) : null};
            case MUL -> new Tensor[] {needA ? g.mul(b).sumTo(as) : null, needB ? g.mul(a).sumTo(bs) : null};
            case DIV -> new Tensor[] {needA ? g.div(b).sumTo(as) : null,
                needB ? g.mul(out).div(b).neg().sumTo(bs) : null};
            case MAX, MIN -> {
                // PyTorch: ties share the gradient equally.
                Tensor pick = op == BinaryOp.MAX ? a.gt(b) : a.lt(b);
                Tensor tie = a.eq(b);
                Tensor half = g.mul(0.5);
                Tensor zero = scalarLike(g, 0);
                Tensor ga = where(tie, half, where(pick, g, zero));
                Tensor gb = where(tie, half, where(pick, zero, g));
                yield new Tensor[] {needA ? ga.sumTo(as) : null, needB ? gb.sumTo(bs) : null};
            }
            case POW -> new Tensor[] {
                needA ? g.mul(b).mul(binary(BinaryOp.POW, a, b.sub(1))).sumTo(as) : null,
                needB ? g.mul(out).mul(a.log()).sumTo(bs) : null};
        };
    }

    /** out = a op b in place (out is a, contiguous or not), no graph. */
    static void binaryInto(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        sameDevice(op.name().toLowerCase(java.util.Locale.ROOT), a, b);
        long[] shape = out.shapeRef();
        Tensor bb = f32(b);
        if (!Arrays.equals(Shape.broadcast(shape, bb.shapeRef()), shape)) {
            throw new IllegalArgumentException("in-place " + op + ": " + bb.describe() + " does not broadcast to "
                    + out.describe());
        }
        if (out.dtype() == DType.F32 && out.isContiguous()) {
            out.backend().binary(op, raw(f32(a), shape), raw(bb, shape), out);
        } else {
            Tensor tmp = Tensor.empty(out.device(), DType.F32, shape);
            out.backend().binary(op, raw(f32(a), shape), raw(bb, shape), tmp);
            out.backend().copy(tmp, out);
        }
    }

    static Tensor affine(Tensor input, double alpha, double beta) {
        Tensor x = f32(input).contiguous();
        Tensor y = Tensor.empty(x.device(), DType.F32, x.shapeRef());
        x.backend().affine(x, y, (float) alpha, (float) beta);
        return Autograd.record(y, "affine", new Tensor[] {x}, g -> new Tensor[] {g.mul(alpha)});
    }

    static void affineInto(Tensor x, double alpha, double beta, Tensor out) {
        if (out.dtype() == DType.F32 && out.isContiguous() && x == out) {
            out.backend().affine(out, out, (float) alpha, (float) beta);
        } else {
            Tensor tmp = Tensor.empty(out.device(), DType.F32, out.shapeRef());
            out.backend().affine(f32(x).contiguous(), tmp, (float) alpha, (float) beta);
            out.backend().copy(tmp, out);
        }
    }

    static Tensor pow(Tensor input, double exponent) {
        if (exponent == 2) {
            return unary(UnaryOp.SQUARE, input);
        }
        if (exponent == 0.5) {
            return unary(UnaryOp.SQRT, input);
        }
        if (exponent == 1) {
            return f32(input);
        }
        Tensor x = f32(input);
        Tensor e = scalarLike(x, exponent);
        Tensor out = Tensor.empty(x.device(), DType.F32, x.shapeRef());
        x.backend().binary(BinaryOp.POW, raw(x, x.shapeRef()), raw(e, x.shapeRef()), out);
        return Autograd.record(out, "pow", new Tensor[] {x}, g -> new Tensor[] {g.mul(x.pow(exponent - 1)).mul(exponent)});
    }

    static Tensor compare(CompareOp op, Tensor left, Tensor right) {
        sameDevice(op.name().toLowerCase(java.util.Locale.ROOT), left, right);
        Tensor a = f32(left.detach());
        Tensor b = f32(right.detach());
        long[] shape = Shape.broadcast(a.shapeRef(), b.shapeRef());
        Tensor out = Tensor.empty(a.device(), DType.BOOL, shape);
        a.backend().compare(op, raw(a, shape), raw(b, shape), out);
        return out;
    }

    static Tensor where(Tensor cond, Tensor left, Tensor right) {
        if (cond.dtype() != DType.BOOL) {
            throw new IllegalArgumentException("where: condition must be BOOL, got " + cond.describe());
        }
        sameDevice("where", cond, left);
        sameDevice("where", left, right);
        Tensor a = f32(left);
        Tensor b = f32(right);
        long[] shape = Shape.broadcast(Shape.broadcast(cond.shapeRef(), a.shapeRef()), b.shapeRef());
        Tensor out = Tensor.empty(a.device(), DType.F32, shape);
        a.backend().where(raw(cond, shape), raw(a, shape), raw(b, shape), out);
        return Autograd.record(out, "where", new Tensor[] {a, b}, g -> {
            Tensor zero = scalarLike(g, 0);
            return new Tensor[] {
                a.requiresGrad() ? where(cond, g, zero).sumTo(a.shapeRef()) : null,
                b.requiresGrad() ? where(cond, zero, g).sumTo(b.shapeRef()) : null};
        });
    }

    // ------------------------------------------------------------------ reductions

    static Tensor reduce(ReduceOp op, Tensor input, int dim, boolean keepDim) {
        Tensor x = f32(input).contiguous();
        long[] shape = x.shapeRef();
        int d = Shape.dim(dim, shape.length, op.name().toLowerCase(java.util.Locale.ROOT));
        long[] kept = shape.clone();
        kept[d] = 1;
        Tensor out = Tensor.empty(x.device(), DType.F32, kept);
        if (shape[d] == 0 && (op == ReduceOp.MAX || op == ReduceOp.MIN)) {
            throw new IllegalArgumentException(op + " over an empty dimension of " + input.describe());
        }
        x.backend().reduce(op, x, d, out);
        Tensor result = keepDim ? out : out.detach().squeeze(d);
        Tensor keptOut = out;
        return Autograd.record(result, op.name().toLowerCase(java.util.Locale.ROOT), new Tensor[] {x}, g -> {
            Tensor gk = g.reshape(kept);
            return new Tensor[] {switch (op) {
                case SUM -> gk.expand(shape);
                case MEAN -> gk.mul(1.0 / shape[d]).expand(shape);
                case MAX, MIN -> {
                    Tensor hit = x.eq(keptOut);
                    Tensor count = where(hit, scalarLike(g, 1), scalarLike(g, 0)).sum(d, true);
                    yield where(hit, gk.div(count), scalarLike(g, 0));
                }
            }};
        });
    }

    static Tensor argmax(Tensor input, int dim, boolean keepDim) {
        Tensor x = f32(input.detach()).contiguous();
        long[] shape = x.shapeRef();
        int d = Shape.dim(dim, shape.length, "argmax");
        long[] kept = shape.clone();
        kept[d] = 1;
        Tensor out = Tensor.empty(x.device(), DType.I64, kept);
        x.backend().argmax(x, d, out);
        return keepDim ? out : out.squeeze(d);
    }

    /** Sums away broadcast dimensions so the result has {@code target}'s shape. */
    static Tensor sumTo(Tensor g, long[] target) {
        long[] shape = g.shapeRef();
        if (Arrays.equals(shape, target)) {
            return g;
        }
        Tensor r = g;
        int lead = shape.length - target.length;
        if (lead < 0) {
            throw new IllegalArgumentException("sumTo: " + g.describe() + " has fewer dimensions than " + Shape.str(target));
        }
        if (lead > 0) {
            long[] rest = Arrays.copyOfRange(shape, lead, shape.length);
            r = r.reshape(concat(new long[] {-1}, rest)).sum(0, false);
        }
        for (int i = 0; i < target.length; i++) {
            if (target[i] == 1 && r.shapeRef()[i] != 1) {
                r = r.sum(i, true);
            } else if (target[i] != r.shapeRef()[i]) {
                throw new IllegalArgumentException("sumTo: cannot reduce " + g.describe() + " to " + Shape.str(target));
            }
        }
        return r;
    }

    // ------------------------------------------------------------------ softmax

    static Tensor softmax(Tensor input, int dim, boolean log) {
        int d = Shape.dim(dim, input.dim(), log ? "logSoftmax" : "softmax");
        int last = input.dim() - 1;
        if (d != last) {
            return softmax(input.transpose(d, last), last, log).transpose(d, last);
        }
        Tensor x = f32(input).contiguous();
        Tensor y = Tensor.empty(x.device(), DType.F32, x.shapeRef());
        x.backend().softmax(x, y, log);
        return Autograd.record(y, log ? "log_softmax" : "softmax", new Tensor[] {x}, g -> {
            Tensor gc = g.contiguous();
            Tensor gx = Tensor.empty(gc.device(), DType.F32, gc.shapeRef());
            gc.backend().softmaxBackward(y, gc, gx, log);
            return new Tensor[] {gx};
        });
    }

    // ------------------------------------------------------------------ matmul

    /** A [batch, rows, cols] operand for the backend's matmul: unit stride in the last dimension, or transposed. */
    private record MatrixOperand(Tensor view, boolean transposed) {
    }

    static Tensor matmul(Tensor left, Tensor right) {
        sameDevice("matmul", left, right);
        Tensor a = computeDtype(left);
        Tensor b = computeDtype(right);
        if (a.dim() == 0 || b.dim() == 0) {
            throw new IllegalArgumentException("matmul of a 0-dimensional tensor: " + a.describe() + " @ " + b.describe());
        }
        if (a.dim() == 1 && b.dim() == 1) {
            return matmul(a.unsqueeze(0), b.unsqueeze(1)).reshape();
        }
        if (a.dim() == 1) {
            return matmul(a.unsqueeze(0), b).squeeze(-2);
        }
        if (b.dim() == 1) {
            return matmul(a, b.unsqueeze(1)).squeeze(-1);
        }
        long m = a.size(-2);
        long k = a.size(-1);
        long n = b.size(-1);
        if (b.size(-2) != k) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: " + a.describe() + " @ " + b.describe());
        }
        if (b.dim() == 2 && a.dim() > 2) {
            // [.., m, k] @ [k, n]: one 2-D product over all rows (one GEMM forward and backward).
            long[] outShape = a.shape();
            outShape[outShape.length - 1] = n;
            return matmul(a.reshape(-1, k), b).reshape(outShape);
        }
        long[] batchShape = Shape.broadcast(Arrays.copyOf(a.shapeRef(), a.dim() - 2), Arrays.copyOf(b.shapeRef(), b.dim() - 2));
        long batch = Shape.numel(batchShape);
        MatrixOperand ma = operand(raw(a, concat(batchShape, new long[] {m, k})), batch);
        MatrixOperand mb = operand(raw(b, concat(batchShape, new long[] {k, n})), batch);
        Tensor c = Tensor.empty(a.device(), DType.F32, batch, m, n);
        a.backend().matmul(ma.view(), ma.transposed(), mb.view(), mb.transposed(), c, 1f, 0f);
        Tensor out = c.reshape(concat(batchShape, new long[] {m, n}));
        return Autograd.record(out.detach(), "matmul", new Tensor[] {a, b}, g -> new Tensor[] {
            a.requiresGrad() ? g.matmul(b.transpose(-1, -2)).sumTo(a.shapeRef()) : null,
            b.requiresGrad() ? a.transpose(-1, -2).matmul(g).sumTo(b.shapeRef()) : null});
    }

    /** Matmul reads F32, BF16 and F16 directly; other dtypes compute in F32. */
    private static Tensor computeDtype(Tensor t) {
        return switch (t.dtype()) {
            case F32, BF16, F16 -> t;
            default -> t.to(DType.F32);
        };
    }

    private static MatrixOperand operand(Tensor t, long batch) {
        long rows = t.size(-2);
        long cols = t.size(-1);
        long[] viewStrides = Views.viewStrides(t.shapeRef(), t.stridesRef(), new long[] {batch, rows, cols});
        Tensor v;
        if (viewStrides == null) {
            v = t.contiguousCopy().detach().reshape(batch, rows, cols);
            viewStrides = v.stridesRef();
        } else {
            v = t;
        }
        long sb = batch == 1 ? 0 : viewStrides[0];
        long sr = rows == 1 ? Math.max(cols, 1) : viewStrides[1];
        long sc = cols == 1 ? 1 : viewStrides[2];
        if (sc == 1 && sr >= cols) {
            return new MatrixOperand(new Tensor(v.storage(), v.offset(), new long[] {batch, rows, cols}, new long[] {sb, sr, 1}), false);
        }
        // Column-major storage of this matrix: hand the stored (transposed) matrix to the GEMM.
        long sr2 = rows == 1 ? 1 : viewStrides[1];
        long sc2 = cols == 1 ? Math.max(rows, 1) : viewStrides[2];
        if (sr2 == 1 && sc2 >= rows) {
            return new MatrixOperand(new Tensor(v.storage(), v.offset(), new long[] {batch, cols, rows}, new long[] {sb, sc2, 1}), true);
        }
        Tensor c = t.contiguousCopy().detach();
        return new MatrixOperand(new Tensor(c.storage(), c.offset(), new long[] {batch, rows, cols},
                new long[] {batch == 1 ? 0 : rows * cols, cols, 1}), false);
    }

    // ------------------------------------------------------------------ indexing

    static Tensor indexSelect(Tensor input, int dim, Tensor index) {
        sameDevice("indexSelect", input, index);
        if (index.dim() != 1 || index.dtype() != DType.I64) {
            throw new IllegalArgumentException("indexSelect: index must be a 1-D I64 tensor, got " + index.describe());
        }
        int d = Shape.dim(dim, input.dim(), "indexSelect");
        Tensor moved = d == 0 ? input : input.transpose(0, d);
        long[] movedShape = moved.shape();
        Tensor table = f32(moved).contiguous().reshape(movedShape[0], -1);
        Tensor rows = F.embedding(index.contiguous(), table);
        long[] outShape = movedShape.clone();
        outShape[0] = index.numel();
        Tensor out = rows.reshape(outShape);
        return d == 0 ? out : out.transpose(0, d);
    }

    static Tensor gather(Tensor input, int dim, Tensor index) {
        if (index.dtype() != DType.I64 || index.dim() != input.dim()) {
            throw new IllegalArgumentException("gather: index must be I64 of the input's rank, got " + index.describe()
                    + " for " + input.describe());
        }
        int d = Shape.dim(dim, input.dim(), "gather");
        Tensor x = f32(input).contiguous();
        long[] xShape = x.shapeRef();
        long[] xStrides = x.stridesRef();
        long[] idxShape = index.shapeRef();
        for (int i = 0; i < idxShape.length; i++) {
            if (i != d && idxShape[i] > xShape[i]) {
                throw new IllegalArgumentException("gather: index " + index.describe() + " larger than input "
                        + input.describe() + " in dimension " + i);
            }
        }
        long[] idx = index.toLongArray();
        long[] flat = new long[idx.length];
        long[] pos = new long[idxShape.length];
        for (int e = 0; e < idx.length; e++) {
            long v = idx[e];
            if (v < 0 || v >= xShape[d]) {
                throw new IndexOutOfBoundsException("gather: index value " + v + " out of range for dimension " + d
                        + " of size " + xShape[d]);
            }
            long off = 0;
            for (int i = 0; i < pos.length; i++) {
                off += (i == d ? v : pos[i]) * xStrides[i];
            }
            flat[e] = off;
            for (int i = pos.length - 1; i >= 0; i--) {
                if (++pos[i] < idxShape[i]) {
                    break;
                }
                pos[i] = 0;
            }
        }
        Tensor ids = Tensor.of(flat).to(x.device());
        return F.embedding(ids, x.reshape(-1, 1)).reshape(idxShape);
    }

    static Tensor cat(int dim, List<Tensor> tensors) {
        if (tensors.isEmpty()) {
            throw new IllegalArgumentException("cat of no tensors");
        }
        Tensor first = tensors.getFirst();
        int d = Shape.dim(dim, first.dim(), "cat");
        DType dtype = first.dtype();
        long total = 0;
        for (Tensor t : tensors) {
            sameDevice("cat", first, t);
            if (t.dim() != first.dim()) {
                throw new IllegalArgumentException("cat: " + t.describe() + " and " + first.describe() + " differ in rank");
            }
            for (int i = 0; i < t.dim(); i++) {
                if (i != d && t.shapeRef()[i] != first.shapeRef()[i]) {
                    throw new IllegalArgumentException("cat along " + d + ": " + t.describe() + " and " + first.describe()
                            + " differ in dimension " + i);
                }
            }
            if (t.dtype() != dtype) {
                dtype = DType.F32;
            }
            total += t.shapeRef()[d];
        }
        long[] shape = first.shape();
        shape[d] = total;
        Tensor out = Tensor.empty(first.device(), dtype, shape);
        long start = 0;
        List<long[]> spans = new ArrayList<>();
        for (Tensor t : tensors) {
            long len = t.shapeRef()[d];
            long[] sliceShape = shape.clone();
            sliceShape[d] = len;
            Tensor slice = new Tensor(out.storage(), out.offset() + start * out.stridesRef()[d], sliceShape, out.stridesRef());
            out.backend().copy(t.dtype() == dtype ? t : t.detach().to(dtype), slice);
            spans.add(new long[] {start, len});
            start += len;
        }
        Tensor[] inputs = tensors.toArray(new Tensor[0]);
        return Autograd.record(out, "cat", inputs, g -> {
            Tensor[] grads = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                if (inputs[i].requiresGrad()) {
                    grads[i] = g.narrow(d, spans.get(i)[0], spans.get(i)[1]);
                }
            }
            return grads;
        });
    }

    static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
