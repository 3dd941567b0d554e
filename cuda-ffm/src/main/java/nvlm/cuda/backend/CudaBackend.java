package nvlm.cuda.backend;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import nvlm.cuda.runtime.CudaOutOfMemoryException;
import nvlm.cuda.runtime.DeviceBuffer;
import nvlm.kernels.AttentionMask;
import nvlm.kernels.AttentionShape;
import nvlm.kernels.DType;
import nvlm.kernels.gpu.AdamW;
import nvlm.kernels.gpu.Attention;
import nvlm.kernels.gpu.Cast;
import nvlm.kernels.gpu.CrossEntropy;
import nvlm.kernels.gpu.Elementwise;
import nvlm.kernels.gpu.Embedding;
import nvlm.kernels.gpu.Launches;
import nvlm.kernels.gpu.LayerNorm;
import nvlm.kernels.gpu.Reduce;
import nvlm.kernels.gpu.RmsNorm;
import nvlm.kernels.gpu.Rope;
import nvlm.kernels.gpu.Softmax;
import nvlm.kernels.gpu.StridedCopy;
import nvlm.kernels.translator.BF16Buffer;
import nvlm.kernels.translator.Buffer;
import nvlm.kernels.translator.F16Buffer;
import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.I64Buffer;
import nvlm.kernels.translator.I8Buffer;
import nvlm.kernels.translator.KernelLaunch;
import nvlm.tensor.Backend;
import nvlm.tensor.BinaryOp;
import nvlm.tensor.CompareOp;
import nvlm.tensor.Device;
import nvlm.tensor.MemoryScope;
import nvlm.tensor.ReduceOp;
import nvlm.tensor.Storage;
import nvlm.tensor.Tensor;
import nvlm.tensor.UnaryOp;

/**
 * The tensor {@link Backend} on a CUDA GPU (found by {@code Backend.of(Device.CUDA)} through
 * {@link java.util.ServiceLoader}). Matrix products go to cuBLAS ({@link MatmulPrecision}: BF16
 * tensor cores with f32 accumulation by default, TF32 or exact f32 on request); everything else is
 * a Java kernel of {@code nvlm.kernels.gpu}, translated to CUDA C and compiled once with NVRTC.
 *
 * <p>Each operation queues its kernels on the device's one stream and returns; the host waits only
 * where the interface returns host values ({@link #copyToHost}, {@link #crossEntropy},
 * {@link #sumOfSquares}). Temporaries come from the caching allocator and go back to it as soon as
 * their last use is queued.
 *
 * <p>The GPU is opened on first use; on a machine without CUDA that use throws the loader's
 * message (every place searched for libcuda). {@link #simulate()} runs this backend on a
 * {@link SimulatedAccelerator} instead, for tests without a GPU.
 */
public final class CudaBackend implements Backend {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final ThreadLocal<Accelerator> OVERRIDE = new ThreadLocal<>();

    private volatile Accelerator gpu;
    private volatile MatmulPrecision precision = MatmulPrecision.configured();
    private final Map<RopeKey, RopeEntry> ropeTables = new HashMap<>();

    /** For {@link java.util.ServiceLoader}; use {@code Backend.of(Device.CUDA)}. */
    public CudaBackend() {
    }

    /** The registered CUDA backend. */
    public static CudaBackend instance() {
        return (CudaBackend) Backend.of(Device.CUDA);
    }

    @Override
    public Device device() {
        return Device.CUDA;
    }

    /** The GPU, opened (and every kernel compiled) on the first call. */
    public CudaAccelerator gpu() {
        Accelerator g = gpu;
        if (g == null) {
            synchronized (this) {
                g = gpu;
                if (g == null) {
                    g = CudaAccelerator.open();
                    gpu = g;
                }
            }
        }
        return (CudaAccelerator) g;
    }

    /** How f32 matrix products run from now on. */
    public void setMatmulPrecision(MatmulPrecision precision) {
        this.precision = precision;
    }

    public MatmulPrecision matmulPrecision() {
        return precision;
    }

    /**
     * Until the returned handle is closed, CUDA tensors this thread creates live on {@code device}
     * (operations follow their tensors' storage).
     */
    public static AutoCloseable useAccelerator(Accelerator device) {
        Accelerator saved = OVERRIDE.get();
        OVERRIDE.set(device);
        return () -> OVERRIDE.set(saved);
    }

    /** {@link #useAccelerator} with a fresh {@link SimulatedAccelerator}: Device.CUDA tensors in host memory. */
    public static AutoCloseable simulate() {
        return useAccelerator(new SimulatedAccelerator());
    }

    /** Where this thread's new CUDA tensors go. */
    public Accelerator accelerator() {
        Accelerator a = OVERRIDE.get();
        return a != null ? a : gpu();
    }

    // ------------------------------------------------------------------ access to tensors

    private static CudaStorage st(Tensor t) {
        return (CudaStorage) t.storage();
    }

    private static Accelerator acc(Tensor t) {
        return st(t).accelerator();
    }

    /** The memory of a view from its first element to the end of its storage. */
    private static MemorySegment seg(Tensor t) {
        MemorySegment memory = st(t).memory();
        return memory.asSlice(t.offset() * t.dtype().byteSize());
    }

    private static long address(Tensor t) {
        return st(t).address() + t.offset() * t.dtype().byteSize();
    }

    private static F32Buffer f32(Tensor t) {
        requireDtype(t, DType.F32);
        return F32Buffer.of(seg(t));
    }

    private static I64Buffer i64(Tensor t) {
        requireDtype(t, DType.I64);
        return I64Buffer.of(seg(t));
    }

    private static I8Buffer bool(Tensor t) {
        requireDtype(t, DType.BOOL);
        return I8Buffer.of(seg(t));
    }

    private static void requireDtype(Tensor t, DType dtype) {
        if (t.dtype() != dtype) {
            throw new IllegalArgumentException("CUDA backend: expected a " + dtype + " tensor, got " + t.dtype()
                    + Arrays.toString(t.shape()));
        }
    }

    private static F32Buffer f32(DeviceBuffer buffer, Accelerator a) {
        return F32Buffer.of(a.view(buffer.address(), buffer.byteSize()));
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static int rows(Tensor x) {
        long cols = x.shape()[x.dim() - 1];
        return Math.toIntExact(cols == 0 ? 0 : x.numel() / cols);
    }

    private static int cols(Tensor x) {
        return Math.toIntExact(x.shape()[x.dim() - 1]);
    }

    /** A contiguous F32/any-dtype copy of {@code t}, owned like any tensor (scope or GC). */
    private Tensor contiguousCopy(Tensor t) {
        Tensor c = Tensor.empty(Device.CUDA, t.dtype(), t.shape());
        copy(t, c);
        return c;
    }

    // ------------------------------------------------------------------ memory

    @Override
    public Storage allocate(DType dtype, long numel) {
        Accelerator a = accelerator();
        CudaStorage storage = new CudaStorage(dtype, numel, a, allocateBuffer(a, numel * dtype.byteSize()));
        MemoryScope scope = MemoryScope.current();
        if (scope != null) {
            scope.register(storage);
        } else {
            releaseWhenUnreachable(storage);
        }
        return storage;
    }

    /**
     * Device memory, retrying after garbage collection when the device is full: storages made
     * outside any scope go back only when the GC finds them unreachable, and the GC does not see
     * device memory pressure.
     */
    static DeviceBuffer allocateBuffer(Accelerator a, long bytes) {
        for (int attempt = 0; ; attempt++) {
            try {
                return a.allocate(bytes);
            } catch (CudaOutOfMemoryException e) {
                if (attempt == 3) {
                    throw e;
                }
                System.gc();
                try {
                    Thread.sleep(50L << attempt);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    @Override
    public void releaseWhenUnreachable(Storage storage) {
        DeviceBuffer buffer = ((CudaStorage) storage).buffer();
        CLEANER.register(storage, buffer::close);
    }

    @Override
    public void copyFromHost(MemorySegment src, Tensor dst) {
        long bytes = dst.numel() * dst.dtype().byteSize();
        acc(dst).copyFromHost(src.asSlice(0, bytes), address(dst));
    }

    @Override
    public void copyToHost(Tensor src, MemorySegment dst) {
        long bytes = src.numel() * src.dtype().byteSize();
        acc(src).copyToHost(address(src), dst.asSlice(0, bytes));
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        long[] shape = dst.shape();
        if (numel(shape) == 0) {
            return;
        }
        Accelerator a = acc(dst);
        StridedLayout layout = StridedLayout.of(shape, src.strides(), dst.strides());
        DType from = src.dtype();
        DType to = dst.dtype();
        if (layout.contiguous(0) && layout.contiguous(1)) {
            long n = layout.numel();
            if (from == to) {
                a.copyOnDevice(address(dst), address(src), n * from.byteSize());
                return;
            }
            KernelLaunch cast = contiguousCast(src, dst, n);
            if (cast != null) {
                a.launch(cast);
                return;
            }
        }
        int rank = Math.min(layout.rank(), Launches.MAX_RANK);
        StridedLayout inner = layout.inner(rank);
        long launches = layout.outerCount(rank);
        for (long o = 0; o < launches; o++) {
            long srcOff = layout.outerOffset(rank, 0, o);
            long dstOff = layout.outerOffset(rank, 1, o);
            a.launch(stridedCopy(src, srcOff, inner.strides()[0], dst, dstOff, inner.strides()[1], inner.shape()));
        }
    }

    /** The cast kernel for a contiguous pair of dtypes it covers, else null. */
    private static KernelLaunch contiguousCast(Tensor src, Tensor dst, long n) {
        DType from = src.dtype();
        DType to = dst.dtype();
        if (from == DType.F32 && to == DType.BF16) {
            return Cast.f32ToBf16(f32(src), BF16Buffer.of(seg(dst)), n);
        }
        if (from == DType.BF16 && to == DType.F32) {
            return Cast.bf16ToF32(BF16Buffer.of(seg(src)), f32(dst), n);
        }
        if (from == DType.F32 && to == DType.F16) {
            return Cast.f32ToF16(f32(src), F16Buffer.of(seg(dst)), n);
        }
        if (from == DType.F16 && to == DType.F32) {
            return Cast.f16ToF32(F16Buffer.of(seg(src)), f32(dst), n);
        }
        return null;
    }

    /** One strided copy of rank at most 6, elements offset by srcOff/dstOff from the views' starts. */
    private static KernelLaunch stridedCopy(Tensor src, long srcOff, long[] srcStrides, Tensor dst, long dstOff,
                                            long[] dstStrides, long[] shape) {
        MemorySegment s = seg(src).asSlice(srcOff * src.dtype().byteSize());
        MemorySegment d = seg(dst).asSlice(dstOff * dst.dtype().byteSize());
        if (src.dtype() == dst.dtype() && src.dtype() == DType.F32) {
            return StridedCopy.f32(F32Buffer.of(s), srcStrides, F32Buffer.of(d), dstStrides, shape);
        }
        if (src.dtype() == dst.dtype() && src.dtype() == DType.BF16) {
            return StridedCopy.bf16(BF16Buffer.of(s), srcStrides, BF16Buffer.of(d), dstStrides, shape);
        }
        return StridedCopy.convert(src.dtype(), Buffer.of(src.dtype(), s), srcStrides, dst.dtype(),
                Buffer.of(dst.dtype(), d), dstStrides, shape);
    }

    @Override
    public void fill(Tensor dst, double value) {
        long n = dst.numel();
        if (n == 0) {
            return;
        }
        Accelerator a = acc(dst);
        long at = address(dst);
        switch (dst.dtype()) {
            case F32 -> a.memset32(at, Float.floatToRawIntBits((float) value), n);
            case I32 -> a.memset32(at, (int) value, n);
            case BOOL -> a.memset8(at, (byte) (value != 0 ? 1 : 0), n);
            case I64 -> {
                long bits = (long) value;
                if ((int) bits == (int) (bits >>> 32)) {
                    a.memset32(at, (int) bits, 2 * n);
                } else {
                    a.launch(StridedCopy.fill(DType.I64, i64(dst), n, value));
                }
            }
            case BF16, F16 -> {
                if (value == 0 && Double.doubleToRawLongBits(value) == 0) {
                    a.memset8(at, (byte) 0, 2 * n);
                } else {
                    a.launch(StridedCopy.fill(dst.dtype(), Buffer.of(dst.dtype(), seg(dst)), n, value));
                }
            }
        }
    }

    // ------------------------------------------------------------------ elementwise

    /** The {@link Elementwise} code of a unary op. */
    static int unaryCode(UnaryOp op) {
        return switch (op) {
            case NEG -> Elementwise.NEG;
            case EXP -> Elementwise.EXP;
            case LOG -> Elementwise.LOG;
            case TANH -> Elementwise.TANH;
            case SIGMOID -> Elementwise.SIGMOID;
            case RELU -> Elementwise.RELU;
            case GELU_ERF -> Elementwise.GELU_ERF;
            case GELU_TANH -> Elementwise.GELU_TANH;
            case SILU -> Elementwise.SILU;
            case SQRT -> Elementwise.SQRT;
            case RSQRT -> Elementwise.RSQRT;
            case SQUARE -> Elementwise.SQUARE;
            case ABS -> Elementwise.ABS;
            case RECIPROCAL -> Elementwise.RECIPROCAL;
            case SIN -> Elementwise.SIN;
            case COS -> Elementwise.COS;
        };
    }

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor y) {
        long n = x.numel();
        if (n == 0) {
            return;
        }
        acc(y).launch(Elementwise.unary(unaryCode(op), f32(x), f32(y), n));
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor gy, Tensor gx) {
        long n = x.numel();
        if (n == 0) {
            return;
        }
        acc(gx).launch(Elementwise.unaryBackward(unaryCode(op), f32(x), f32(gy), f32(gx), n));
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        long[] shape = out.shape();
        if (numel(shape) == 0) {
            return;
        }
        Accelerator device = acc(out);
        StridedLayout layout = StridedLayout.of(shape, a.strides(), b.strides(), out.strides());
        // BinaryOp's order is Elementwise's.
        int code = op.ordinal();
        if (layout.contiguous(0) && layout.contiguous(1) && layout.contiguous(2)) {
            device.launch(Elementwise.binary(code, f32(a), f32(b), f32(out), layout.numel()));
            return;
        }
        forInner(layout, (o, inner) -> device.launch(Elementwise.broadcast(code, f32At(a, layout, 0, o),
                inner.strides()[0], f32At(b, layout, 1, o), inner.strides()[1], f32At(out, layout, 2, o), inner.shape())));
    }

    @Override
    public void compare(CompareOp op, Tensor a, Tensor b, Tensor out) {
        long[] shape = out.shape();
        if (numel(shape) == 0) {
            return;
        }
        Accelerator device = acc(out);
        StridedLayout layout = StridedLayout.of(shape, a.strides(), b.strides(), out.strides());
        forInner(layout, (o, inner) -> device.launch(Elementwise.compare(op.ordinal(), f32At(a, layout, 0, o),
                inner.strides()[0], f32At(b, layout, 1, o), inner.strides()[1],
                I8Buffer.of(seg(out).asSlice(layout.outerOffset(inner.rank(), 2, o))), inner.shape())));
    }

    @Override
    public void where(Tensor cond, Tensor a, Tensor b, Tensor out) {
        long[] shape = out.shape();
        if (numel(shape) == 0) {
            return;
        }
        Accelerator device = acc(out);
        StridedLayout layout = StridedLayout.of(shape, cond.strides(), a.strides(), b.strides(), out.strides());
        forInner(layout, (o, inner) -> device.launch(Elementwise.where(
                I8Buffer.of(bool(cond).segment().asSlice(layout.outerOffset(inner.rank(), 0, o))), inner.strides()[0],
                f32At(a, layout, 1, o), inner.strides()[1], f32At(b, layout, 2, o), inner.strides()[2],
                f32At(out, layout, 3, o), inner.shape())));
    }

    private interface InnerLaunch {
        void launch(long outer, StridedLayout inner);
    }

    /** Runs {@code body} once per outer index when the merged rank exceeds the 6-D kernels' (rare). */
    private static void forInner(StridedLayout layout, InnerLaunch body) {
        int rank = Math.min(layout.rank(), Launches.MAX_RANK);
        StridedLayout inner = layout.inner(rank);
        long count = layout.outerCount(rank);
        for (long o = 0; o < count; o++) {
            body.launch(o, inner);
        }
    }

    private static F32Buffer f32At(Tensor t, StridedLayout layout, int view, long outer) {
        int rank = Math.min(layout.rank(), Launches.MAX_RANK);
        return F32Buffer.of(f32(t).segment().asSlice(layout.outerOffset(rank, view, outer) * 4));
    }

    @Override
    public void affine(Tensor x, Tensor y, float alpha, float beta) {
        long n = x.numel();
        if (n > 0) {
            acc(y).launch(Elementwise.affine(f32(x), f32(y), n, alpha, beta));
        }
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        long n = x.numel();
        if (n > 0) {
            acc(y).launch(Elementwise.axpy(alpha, f32(x), f32(y), n));
        }
    }

    // ------------------------------------------------------------------ reductions

    private static long[] outerAxisInner(long[] shape, int axis) {
        long outer = 1;
        long inner = 1;
        for (int i = 0; i < axis; i++) {
            outer *= shape[i];
        }
        for (int i = axis + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        return new long[] {outer, shape[axis], inner};
    }

    @Override
    public void reduce(ReduceOp op, Tensor x, int axis, Tensor out) {
        long[] oai = outerAxisInner(x.shape(), axis);
        long outer = oai[0];
        long length = oai[1];
        long inner = oai[2];
        if (outer * inner == 0) {
            return;
        }
        Accelerator a = acc(out);
        if (length == 0) {
            if (op == ReduceOp.MAX || op == ReduceOp.MIN) {
                throw new IllegalArgumentException(op + " over an empty axis " + axis + " of " + Arrays.toString(x.shape()));
            }
            fill(out, op == ReduceOp.SUM ? 0 : Double.NaN);
            return;
        }
        if (inner == 1) {
            a.launch(Reduce.lastAxis(op.ordinal(), f32(x), f32(out), outer, length));
            return;
        }
        try (DeviceBuffer partial = allocateBuffer(a, 4 * Reduce.partialLength(outer, length, inner))) {
            for (KernelLaunch launch : Reduce.chunked(op.ordinal(), f32(x), f32(partial, a), f32(out), outer, length,
                    inner)) {
                a.launch(launch);
            }
        }
    }

    @Override
    public void argmax(Tensor x, int axis, Tensor out) {
        long[] oai = outerAxisInner(x.shape(), axis);
        if (oai[0] * oai[2] == 0) {
            return;
        }
        if (oai[1] == 0) {
            throw new IllegalArgumentException("argmax over an empty axis " + axis + " of " + Arrays.toString(x.shape()));
        }
        acc(out).launch(Reduce.argmax(f32(x), i64(out), oai[0], oai[1], oai[2]));
    }

    @Override
    public double sumOfSquares(Tensor x) {
        long n = x.numel();
        if (n == 0) {
            return 0;
        }
        Accelerator a = acc(x);
        long partials = Reduce.squaresGrid(n).blocks() * Reduce.squaresGrid(n).threadsPerBlock();
        long[] host = new long[Math.toIntExact(partials)];
        try (DeviceBuffer partial = allocateBuffer(a, 8 * partials)) {
            a.launch(Reduce.squares(f32(x), I64Buffer.of(a.view(partial.address(), partial.byteSize())), n));
            a.copyToHost(partial.address(), MemorySegment.ofArray(host));
        }
        double total = 0;
        for (long bits : host) {
            total += Double.longBitsToDouble(bits);
        }
        return total;
    }

    // ------------------------------------------------------------------ matmul

    @Override
    public void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, float alpha, float beta) {
        requireDtype(c, DType.F32);
        long batch = c.shape()[0];
        GemmPlan plan = GemmPlan.of(a.shape(), a.strides(), transA, b.shape(), b.strides(), transB, batch);
        Accelerator device = acc(c);
        if (plan.batch() == 0 || plan.m() == 0 || plan.n() == 0) {
            return;
        }
        if (plan.k() == 0) {
            // An empty sum: C = beta C.
            if (beta == 0) {
                fill(c, 0);
            } else {
                affine(c, c, beta, 0);
            }
            return;
        }
        DType input = gemmInput(a.dtype(), b.dtype(), precision);
        try (Operand left = operand(device, a, plan.storedA(), plan.lda(), plan.batchStrideA(), plan.matricesA(), input);
             Operand right = operand(device, b, plan.storedB(), plan.ldb(), plan.batchStrideB(), plan.matricesB(), input)) {
            GemmPlan p = plan;
            if (left.packed()) {
                p = p.withPackedA();
            }
            if (right.packed()) {
                p = p.withPackedB();
            }
            device.gemm(p.toColumnMajor(left.address(), right.address(), input, address(c), DType.F32, alpha, beta,
                    precision == MatmulPrecision.TF32));
        }
    }

    /**
     * The dtype both GEMM inputs are given to cuBLAS in: a 16-bit dtype they share is used as is;
     * otherwise BF16 under {@link MatmulPrecision#BF16}, else F32.
     */
    static DType gemmInput(DType a, DType b, MatmulPrecision precision) {
        if (a == b && (a == DType.BF16 || a == DType.F16)) {
            return a;
        }
        return precision == MatmulPrecision.BF16 ? DType.BF16 : DType.F32;
    }

    /** A GEMM input in the dtype cuBLAS gets: the tensor itself, or a packed converted copy (scratch). */
    private record Operand(long address, boolean packed, DeviceBuffer scratch) implements AutoCloseable {
        @Override
        public void close() {
            if (scratch != null) {
                scratch.close();
            }
        }
    }

    private Operand operand(Accelerator device, Tensor t, long[] stored, long ld, long batchStride, int matrices,
                            DType input) {
        if (t.dtype() == input) {
            return new Operand(address(t), false, null);
        }
        long rows = stored[0];
        long cols = stored[1];
        long count = matrices * rows * cols;
        DeviceBuffer scratch = allocateBuffer(device, count * input.byteSize());
        MemorySegment dst = device.view(scratch.address(), scratch.byteSize());
        if (t.dtype() == DType.F32 && input == DType.BF16) {
            device.launch(Cast.packBf16(f32(t), batchStride, ld, BF16Buffer.of(dst), matrices, rows, cols));
        } else {
            device.launch(StridedCopy.convert(t.dtype(), Buffer.of(t.dtype(), seg(t)),
                    new long[] {batchStride, ld, 1}, input, Buffer.of(input, dst),
                    new long[] {rows * cols, cols, 1}, new long[] {matrices, rows, cols}));
        }
        return new Operand(scratch.address(), true, scratch);
    }

    // ------------------------------------------------------------------ fused: softmax, norms

    @Override
    public void softmax(Tensor x, Tensor y, boolean log) {
        int rows = rows(x);
        int cols = cols(x);
        if (rows == 0 || cols == 0) {
            return;
        }
        acc(y).launch(log ? Softmax.logForward(f32(x), f32(y), rows, cols) : Softmax.forward(f32(x), f32(y), rows, cols));
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor gy, Tensor gx, boolean log) {
        int rows = rows(y);
        int cols = cols(y);
        if (rows == 0 || cols == 0) {
            return;
        }
        acc(gx).launch(log ? Softmax.logBackward(f32(y), f32(gy), f32(gx), rows, cols)
                : Softmax.backward(f32(y), f32(gy), f32(gx), rows, cols));
    }

    @Override
    public void layerNorm(Tensor x, Tensor w, Tensor b, float eps, Tensor y, Tensor mean, Tensor rstd) {
        int rows = rows(x);
        int cols = cols(x);
        if (rows == 0 || cols == 0) {
            return;
        }
        acc(y).launch(LayerNorm.forward(f32(x), f32(w), b == null ? null : f32(b), f32(y), f32(mean), f32(rstd), rows,
                cols, eps));
    }

    @Override
    public void layerNormBackward(Tensor x, Tensor w, Tensor mean, Tensor rstd, Tensor gy, Tensor gx, Tensor gw,
                                  Tensor gb) {
        int rows = rows(x);
        int cols = cols(x);
        if (rows == 0 || cols == 0) {
            return;
        }
        Accelerator a = acc(gx);
        a.launch(LayerNorm.backward(f32(x), f32(w), f32(mean), f32(rstd), f32(gy), f32(gx), rows, cols));
        int chunks = Math.toIntExact(Reduce.chunks(rows));
        long partialBytes = 4L * chunks * cols;
        try (DeviceBuffer pw = allocateBuffer(a, partialBytes); DeviceBuffer pb = allocateBuffer(a, partialBytes)) {
            a.launch(LayerNorm.weightGradPartial(f32(x), f32(mean), f32(rstd), f32(gy), f32(pw, a), f32(pb, a), rows, cols));
            a.launch(Reduce.columnSumFinal(f32(pw, a), f32(gw), chunks, cols, true));
            if (gb != null) {
                a.launch(Reduce.columnSumFinal(f32(pb, a), f32(gb), chunks, cols, true));
            }
        }
    }

    @Override
    public void rmsNorm(Tensor x, Tensor w, float eps, Tensor y, Tensor rstd) {
        int rows = rows(x);
        int cols = cols(x);
        if (rows == 0 || cols == 0) {
            return;
        }
        acc(y).launch(RmsNorm.forward(f32(x), f32(w), f32(y), f32(rstd), rows, cols, eps));
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor w, Tensor rstd, Tensor gy, Tensor gx, Tensor gw) {
        int rows = rows(x);
        int cols = cols(x);
        if (rows == 0 || cols == 0) {
            return;
        }
        Accelerator a = acc(gx);
        a.launch(RmsNorm.backward(f32(x), f32(w), f32(rstd), f32(gy), f32(gx), rows, cols));
        int chunks = Math.toIntExact(Reduce.chunks(rows));
        try (DeviceBuffer pw = allocateBuffer(a, 4L * chunks * cols)) {
            a.launch(RmsNorm.weightGradPartial(f32(x), f32(rstd), f32(gy), f32(pw, a), rows, cols));
            a.launch(Reduce.columnSumFinal(f32(pw, a), f32(gw), chunks, cols, true));
        }
    }

    // ------------------------------------------------------------------ RoPE

    private record RopeKey(Accelerator accelerator, int headDim, double theta) {
    }

    private record RopeEntry(DeviceBuffer table, int positions) {
    }

    /** Positions a RoPE table grows by, so a growing sequence rebuilds it rarely. */
    static final int ROPE_POSITION_STEP = 1024;

    /** The device table of cos/sin for at least {@code positions} positions (made once per size step, kept). */
    private RopeEntry ropeTable(Accelerator a, int headDim, double theta, int positions) {
        synchronized (ropeTables) {
            RopeKey key = new RopeKey(a, headDim, theta);
            RopeEntry entry = ropeTables.get(key);
            if (entry == null || entry.positions() < positions) {
                int size = Math.ceilDiv(Math.max(positions, 1), ROPE_POSITION_STEP) * ROPE_POSITION_STEP;
                float[] values = Rope.table(headDim, theta, size);
                DeviceBuffer table = allocateBuffer(a, 4L * values.length);
                a.copyFromHost(MemorySegment.ofArray(values), table.address());
                // The old table may still be read by queued work: it goes back to the allocator,
                // which hands it out only to work queued after this point.
                if (entry != null) {
                    entry.table().close();
                }
                entry = new RopeEntry(table, size);
                ropeTables.put(key, entry);
            }
            return entry;
        }
    }

    @Override
    public void rope(Tensor x, Tensor y, int startPos, double theta, boolean inverse) {
        long[] s = x.shape();
        int batch = Math.toIntExact(s[0]);
        int seq = Math.toIntExact(s[1]);
        int heads = Math.toIntExact(s[2]);
        int headDim = Math.toIntExact(s[3]);
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("rope: headDim must be even, got " + headDim);
        }
        if (!(theta > 0) || Double.isInfinite(theta) || startPos < 0) {
            throw new IllegalArgumentException("rope: theta must be positive and finite and startPos >= 0, got theta "
                    + theta + ", startPos " + startPos);
        }
        if (x.numel() == 0) {
            return;
        }
        Accelerator a = acc(y);
        RopeEntry table = ropeTable(a, headDim, theta, Math.addExact(startPos, seq));
        a.launch(Rope.rotate(f32(x), f32(y), f32(table.table(), a), batch, seq, heads, headDim, startPos,
                table.positions(), inverse));
    }

    // ------------------------------------------------------------------ embedding and rows

    @Override
    public void embedding(Tensor table, Tensor ids, Tensor out) {
        long count = ids.numel();
        long dim = table.shape()[1];
        if (count * dim == 0) {
            return;
        }
        acc(out).launch(Embedding.gather(f32(table), i64(ids), f32(out), count, dim, table.shape()[0]));
    }

    @Override
    public void embeddingBackward(Tensor gOut, Tensor ids, Tensor gTable) {
        long count = ids.numel();
        long dim = gTable.shape()[1];
        if (count * dim == 0) {
            return;
        }
        acc(gTable).launch(Embedding.scatterAdd(f32(gOut), i64(ids), f32(gTable), count, dim, gTable.shape()[0]));
    }

    @Override
    public void indexCopyRows(Tensor dst, Tensor index, Tensor src) {
        long count = index.numel();
        long dim = dst.shape()[1];
        if (count * dim == 0) {
            return;
        }
        acc(dst).launch(Embedding.copyRows(f32(dst), i64(index), f32(src), count, dim, dst.shape()[0]));
    }

    // ------------------------------------------------------------------ attention

    /** The {batch, token, head} strides of a [B, H, T, D] view, as the attention kernels take them. */
    private static Attention.Strides heads(Tensor t) {
        long[] s = t.strides();
        return new Attention.Strides(s[0], s[2], s[1]);
    }

    private static boolean sameStrides(Tensor... views) {
        for (int i = 1; i < views.length; i++) {
            if (!Arrays.equals(views[0].strides(), views[i].strides())) {
                return false;
            }
        }
        return true;
    }

    private static AttentionShape attentionShape(Tensor q, Tensor k, Tensor mask, boolean causal, float scale) {
        long[] qs = q.shape();
        long[] ks = k.shape();
        if (qs[3] > Attention.MAX_HEAD_DIM) {
            throw new IllegalArgumentException("attention: head dimension " + qs[3] + " exceeds the GPU kernels' "
                    + Attention.MAX_HEAD_DIM);
        }
        // Causal is bottom-right aligned, as the CPU backend (docs/model.md §5): query i sees keys j <= i + tk - tq.
        AttentionMask kind = mask != null ? AttentionMask.EXPLICIT : causal ? AttentionMask.CAUSAL : AttentionMask.NONE;
        return new AttentionShape(Math.toIntExact(qs[0]), Math.toIntExact(qs[1]), Math.toIntExact(ks[1]),
                Math.toIntExact(qs[2]), Math.toIntExact(ks[2]), Math.toIntExact(qs[3]), scale, kind);
    }

    /** The bytes of an explicit mask [batch or 1, tq, tk] with unit key stride (copied when it has another). */
    private Attention.MaskBytes maskBytes(Tensor mask) {
        if (mask == null) {
            return Attention.MaskBytes.NONE;
        }
        Tensor m = mask.shape()[2] <= 1 || mask.strides()[2] == 1 ? mask : contiguousCopy(mask);
        long[] s = m.strides();
        return new Attention.MaskBytes(bool(m), m.shape()[0] == 1 ? 0 : s[0], 0, s[1]);
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, float scale, Tensor out, Tensor lse) {
        long[] qs = q.shape();
        long tk = k.shape()[2];
        if (mask != null && causal) {
            throw new IllegalArgumentException("attention: pass either a mask or causal=true, not both");
        }
        if (qs[0] * qs[1] * qs[2] == 0) {
            return;
        }
        if (tk == 0) {
            // No key at all: every row sees nothing, giving 0 and lse -infinity (as the CPU backend).
            fillView(out, 0);
            fill(lse, Double.NEGATIVE_INFINITY);
            return;
        }
        AttentionShape shape = attentionShape(q, k, mask, causal, scale);
        Attention.MaskBytes m = maskBytes(mask);
        Tensor kk = k;
        Tensor vv = v;
        if (!sameStrides(k, v)) {
            kk = contiguousCopy(k);
            vv = contiguousCopy(v);
        }
        acc(out).launch(Attention.forward(shape, m, f32(q), heads(q), f32(kk), f32(vv), heads(kk), f32(out), heads(out),
                f32(lse)));
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, float scale, Tensor out,
                                  Tensor lse, Tensor dOut, Tensor dq, Tensor dk, Tensor dv) {
        long[] qs = q.shape();
        long tk = k.shape()[2];
        if (mask != null && causal) {
            throw new IllegalArgumentException("attention: pass either a mask or causal=true, not both");
        }
        if (qs[0] * qs[1] == 0) {
            return;
        }
        if (qs[2] == 0 || tk == 0) {
            fillView(dq, 0);
            fillView(dk, 0);
            fillView(dv, 0);
            return;
        }
        AttentionShape shape = attentionShape(q, k, mask, causal, scale);
        Attention.MaskBytes m = maskBytes(mask);
        Accelerator a = acc(dq);
        // The kernels read q and write dq through one set of strides (likewise k, v, dk, dv and
        // out, dOut): where the layouts differ, work on contiguous copies.
        Tensor qq = q;
        Tensor dqq = dq;
        if (!sameStrides(q, dq)) {
            qq = contiguousCopy(q);
            dqq = dq.isContiguous() ? dq : Tensor.empty(Device.CUDA, DType.F32, dq.shape());
        }
        Tensor kk = k;
        Tensor vv = v;
        Tensor dkk = dk;
        Tensor dvv = dv;
        if (!sameStrides(k, v, dk, dv)) {
            kk = contiguousCopy(k);
            vv = contiguousCopy(v);
            dkk = dk.isContiguous() ? dk : Tensor.empty(Device.CUDA, DType.F32, dk.shape());
            dvv = dv.isContiguous() ? dv : Tensor.empty(Device.CUDA, DType.F32, dv.shape());
        }
        Tensor oo = out;
        Tensor doo = dOut;
        if (!sameStrides(out, dOut)) {
            oo = contiguousCopy(out);
            doo = contiguousCopy(dOut);
        }
        try (DeviceBuffer delta = allocateBuffer(a, 4 * qs[0] * qs[1] * qs[2])) {
            List<KernelLaunch> launches = Attention.backward(shape, m, f32(qq), f32(dqq), heads(qq), f32(kk), f32(vv),
                    f32(dkk), f32(dvv), heads(kk), f32(oo), f32(doo), heads(oo), f32(lse), f32(delta, a));
            for (KernelLaunch launch : launches) {
                a.launch(launch);
            }
        }
        if (dqq != dq) {
            copy(dqq, dq);
        }
        if (dkk != dk) {
            copy(dkk, dk);
        }
        if (dvv != dv) {
            copy(dvv, dv);
        }
    }

    /** Sets every element of a possibly strided F32 view. */
    private void fillView(Tensor t, double value) {
        if (t.numel() == 0) {
            return;
        }
        if (t.isContiguous()) {
            fill(t, value);
        } else {
            Tensor c = Tensor.full(Device.CUDA, t.dtype(), value, t.shape());
            copy(c, t);
        }
    }

    // ------------------------------------------------------------------ loss and optimizer

    @Override
    public double[] crossEntropy(Tensor logits, Tensor targets, long ignoreIndex, Tensor lse) {
        long rows = logits.shape()[0];
        long vocab = logits.shape()[1];
        if (rows == 0) {
            return new double[] {0, 0};
        }
        Accelerator a = acc(lse);
        if (vocab == 0) {
            fill(lse, 0);
            return new double[] {0, 0};
        }
        float[] stats = new float[Math.toIntExact(3 * rows)];
        try (DeviceBuffer buffer = allocateBuffer(a, 4 * 3 * rows)) {
            a.launch(CrossEntropy.forward(f32(logits), i64(targets), ignoreIndex, f32(lse), f32(buffer, a), rows, vocab));
            a.copyToHost(buffer.address(), MemorySegment.ofArray(stats));
        }
        double sum = 0;
        long count = 0;
        for (int r = 0; r < rows; r++) {
            if (stats[(int) (2 * rows) + r] != 0) {
                throw new IndexOutOfBoundsException("crossEntropy: target of row " + r + " is outside [0, " + vocab
                        + ") and is not the ignore index " + ignoreIndex);
            }
            if (stats[(int) rows + r] != 0) {
                sum += stats[r];
                count++;
            }
        }
        return new double[] {sum, count};
    }

    @Override
    public void crossEntropyBackward(Tensor logits, Tensor targets, long ignoreIndex, Tensor lse, float scale,
                                     Tensor gLogits) {
        long rows = logits.shape()[0];
        long vocab = logits.shape()[1];
        if (rows * vocab == 0) {
            return;
        }
        acc(gLogits).launch(CrossEntropy.backward(f32(logits), i64(targets), ignoreIndex, f32(lse), scale,
                f32(gLogits), rows, vocab));
    }

    @Override
    public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                      float weightDecay, int step) {
        // The checks torch.optim.AdamW makes (and the CPU backend repeats).
        if (!(lr >= 0) || !(eps >= 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(weightDecay >= 0)
                || step < 1) {
            throw new IllegalArgumentException("AdamW: invalid hyper-parameters lr=" + lr + " betas=(" + beta1 + ", "
                    + beta2 + ") eps=" + eps + " weightDecay=" + weightDecay + " step=" + step);
        }
        long n = param.numel();
        if (n == 0) {
            return;
        }
        acc(param).launch(AdamW.step(f32(param), f32(grad), f32(m), f32(v), n, lr, beta1, beta2, eps, weightDecay, step,
                1f));
    }

    @Override
    public void synchronize() {
        Accelerator a = OVERRIDE.get();
        if (a != null) {
            a.synchronize();
        } else if (gpu != null) {
            gpu.synchronize();
        }
    }
}
