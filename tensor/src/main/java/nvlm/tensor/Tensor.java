package nvlm.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;
import nvlm.kernels.DType;

/**
 * An n-dimensional strided view of a {@link Storage}, with reverse-mode autograd.
 *
 * <p>Names follow PyTorch: {@code reshape}, {@code permute}, {@code narrow}, {@code matmul},
 * {@code sum(dim, keepDim)}, {@code requiresGrad}, {@code backward}; in-place variants end in an
 * underscore ({@code add_}, {@code zero_}). Arithmetic computes in f32: BF16/F16 and integer
 * inputs are widened first (matmul reads BF16/F16 operands directly).
 *
 * <pre>{@code
 * var x = Tensor.randn(new Random(0), 2, 3).requiresGrad(true);
 * var y = x.matmul(x.t()).sum();
 * y.backward();
 * x.grad();   // 2 * (x + x) summed appropriately
 * }</pre>
 */
public final class Tensor {
    private final Storage storage;
    private final long offset;
    private final long[] shape;
    private final long[] strides;
    private boolean requiresGrad;
    private Tensor grad;
    /** The last gradient dropped by {@link #recycleGrad()}, for the next backward pass to write into. */
    private Tensor spareGrad;
    private Node gradFn;
    private String name;
    /** Run after a backward pass has added its last contribution to this leaf's gradient (null: none). */
    private List<java.util.function.Consumer<Tensor>> postAccumulateGradHooks;

    Tensor(Storage storage, long offset, long[] shape, long[] strides) {
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.strides = strides;
    }

    // =====================================================================================
    // Factories

    /** Uninitialized contiguous tensor on a device. */
    public static Tensor empty(Device device, DType dtype, long... shape) {
        long[] s = shape.clone();
        Storage storage = Backend.of(device).allocate(dtype, Shape.numel(s));
        return new Tensor(storage, 0, s, Shape.contiguousStrides(s));
    }

    /** Uninitialized contiguous CPU tensor. */
    public static Tensor empty(DType dtype, long... shape) {
        return empty(Device.CPU, dtype, shape);
    }

    public static Tensor full(Device device, DType dtype, double value, long... shape) {
        Tensor t = empty(device, dtype, shape);
        t.backend().fill(t, value);
        return t;
    }

    /** F32 zeros on the CPU. */
    public static Tensor zeros(long... shape) {
        return full(Device.CPU, DType.F32, 0, shape);
    }

    public static Tensor zeros(DType dtype, long... shape) {
        return full(Device.CPU, dtype, 0, shape);
    }

    public static Tensor zeros(Device device, DType dtype, long... shape) {
        return full(device, dtype, 0, shape);
    }

    /** F32 ones on the CPU. */
    public static Tensor ones(long... shape) {
        return full(Device.CPU, DType.F32, 1, shape);
    }

    /** F32 CPU tensor of one value. */
    public static Tensor full(double value, long... shape) {
        return full(Device.CPU, DType.F32, value, shape);
    }

    /** A 0-dimensional F32 tensor. */
    public static Tensor scalar(double value) {
        return full(Device.CPU, DType.F32, value);
    }

    /** F32 tensor holding {@code data} (copied) in the given shape (default: 1-D). */
    public static Tensor of(float[] data, long... shape) {
        long[] s = shape.length == 0 ? new long[] {data.length} : shape;
        return fromHost(MemorySegment.ofArray(data), DType.F32, data.length, s, "float[]");
    }

    /** I64 tensor holding {@code data} (copied), e.g. token ids. */
    public static Tensor of(long[] data, long... shape) {
        long[] s = shape.length == 0 ? new long[] {data.length} : shape;
        return fromHost(MemorySegment.ofArray(data), DType.I64, data.length, s, "long[]");
    }

    /** I32 tensor holding {@code data} (copied). */
    public static Tensor of(int[] data, long... shape) {
        long[] s = shape.length == 0 ? new long[] {data.length} : shape;
        return fromHost(MemorySegment.ofArray(data), DType.I32, data.length, s, "int[]");
    }

    /** BOOL tensor holding {@code data} (copied). */
    public static Tensor of(boolean[] data, long... shape) {
        long[] s = shape.length == 0 ? new long[] {data.length} : shape;
        byte[] bytes = new byte[data.length];
        for (int i = 0; i < data.length; i++) {
            bytes[i] = (byte) (data[i] ? 1 : 0);
        }
        return fromHost(MemorySegment.ofArray(bytes), DType.BOOL, data.length, s, "boolean[]");
    }

    /**
     * A CPU tensor copied from host memory holding {@code shape}'s elements of {@code dtype},
     * row-major, little-endian (e.g. a safetensors slice).
     */
    public static Tensor fromSegment(MemorySegment src, DType dtype, long... shape) {
        return fromHost(src, dtype, src.byteSize() / dtype.byteSize(), shape, "segment");
    }

    /**
     * A CPU tensor that views {@code src} without copying (e.g. a tensor of a memory-mapped
     * safetensors file, whose pages the OS reads on first touch and may drop again). The memory is
     * not owned: whoever mapped it keeps it alive as long as the tensor is used. A read-only
     * segment makes any in-place write fail.
     */
    public static Tensor mapped(MemorySegment src, DType dtype, long... shape) {
        long n = Shape.numel(shape);
        if (src.byteSize() != n * dtype.byteSize()) {
            throw new IllegalArgumentException("Tensor.mapped: segment of " + src.byteSize() + " bytes but " + dtype
                    + Shape.str(shape) + " needs " + n * dtype.byteSize());
        }
        if (src.address() % dtype.byteSize() != 0) {
            throw new IllegalArgumentException("Tensor.mapped: segment at " + src.address() + " is not aligned to " + dtype);
        }
        long[] s = shape.clone();
        return new Tensor(new CpuStorage(dtype, n, src), 0, s, Shape.contiguousStrides(s));
    }

    /**
     * A CPU tensor with a shape and a dtype but no memory: a model skeleton's parameter, to be
     * replaced before use. Reading it fails with a message saying so.
     */
    public static Tensor shapeOnly(DType dtype, long... shape) {
        long[] s = shape.clone();
        return new Tensor(new CpuStorage(dtype, Shape.numel(s), (MemorySegment) null), 0, s, Shape.contiguousStrides(s));
    }

    private static Tensor fromHost(MemorySegment src, DType dtype, long count, long[] shape, String what) {
        long n = Shape.numel(shape);
        if (n != count || src.byteSize() != n * dtype.byteSize()) {
            throw new IllegalArgumentException("Tensor.of: " + what + " holds " + count + " elements but shape "
                    + Shape.str(shape) + " needs " + n);
        }
        Tensor t = empty(Device.CPU, dtype, shape);
        t.backend().copyFromHost(src, t);
        return t;
    }

    /** Standard normal F32 samples from {@code rng} (deterministic for a seeded generator). */
    public static Tensor randn(RandomGenerator rng, long... shape) {
        float[] data = new float[Math.toIntExact(Shape.numel(shape))];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) rng.nextGaussian();
        }
        return of(data, shape.clone());
    }

    /** Uniform [0, 1) F32 samples from {@code rng}. */
    public static Tensor rand(RandomGenerator rng, long... shape) {
        float[] data = new float[Math.toIntExact(Shape.numel(shape))];
        for (int i = 0; i < data.length; i++) {
            data[i] = rng.nextFloat();
        }
        return of(data, shape.clone());
    }

    /** I64 {@code [start, end)}. */
    public static Tensor arange(long start, long end) {
        long[] data = new long[Math.toIntExact(Math.max(0, end - start))];
        for (int i = 0; i < data.length; i++) {
            data[i] = start + i;
        }
        return of(data);
    }

    // =====================================================================================
    // Metadata

    public long[] shape() {
        return shape.clone();
    }

    /** Size of one dimension (negative counts from the end). */
    public long size(int dim) {
        return shape[Shape.dim(dim, shape.length, "size")];
    }

    public long[] strides() {
        return strides.clone();
    }

    /** Element offset of this view in its storage. */
    public long offset() {
        return offset;
    }

    public int dim() {
        return shape.length;
    }

    public long numel() {
        return Shape.numel(shape);
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Device device() {
        return storage.device();
    }

    public Storage storage() {
        return storage;
    }

    Backend backend() {
        return Backend.of(storage.device());
    }

    /** Row-major with no gaps (size-1 dimensions may have any stride). */
    public boolean isContiguous() {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1) {
                if (strides[i] != expected) {
                    return false;
                }
                expected *= shape[i];
            }
        }
        return true;
    }

    /** An optional name (parameters carry their checkpoint name), used in error messages. */
    public String name() {
        return name;
    }

    public Tensor name(String name) {
        this.name = name;
        return this;
    }

    String describe() {
        return (name != null ? "'" + name + "' " : "") + dtype() + Shape.str(shape);
    }

    // =====================================================================================
    // Autograd

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf as needing a gradient (false freezes it). Returns this. */
    public Tensor requiresGrad(boolean value) {
        if (gradFn != null && !value) {
            throw new IllegalStateException("requiresGrad(false) on a non-leaf tensor " + describe() + ": use detach()");
        }
        if (value && !dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("only floating-point tensors can require grad, not " + describe());
        }
        requiresGrad = value;
        return this;
    }

    /** The accumulated gradient of a leaf, or null. */
    public Tensor grad() {
        return grad;
    }

    public void setGrad(Tensor grad) {
        if (grad != null && !Arrays.equals(grad.shape, shape)) {
            throw new IllegalArgumentException("gradient shape " + Shape.str(grad.shape) + " for tensor " + describe());
        }
        this.grad = grad;
    }

    /**
     * Drops the gradient ({@link #grad()} becomes null, so a parameter no gradient reaches is
     * still skipped by optimizers) but keeps its memory for the next backward pass to write into.
     * Without this, a dropped gradient goes back to the memory pool only when the GC notices it,
     * and every training step would allocate (and zero) fresh memory for all gradients. A
     * reference kept to the old gradient sees it overwritten by the next backward pass: copy it
     * first to keep it.
     */
    public void recycleGrad() {
        if (grad != null) {
            spareGrad = grad;
            grad = null;
        }
    }

    /** Takes the buffer {@link #recycleGrad()} kept, or null. */
    Tensor takeSpareGrad() {
        Tensor spare = spareGrad;
        spareGrad = null;
        return spare;
    }

    /** Removes a hook registered on a tensor. */
    @FunctionalInterface
    public interface RemovableHandle extends AutoCloseable {
        void remove();

        @Override
        default void close() {
            remove();
        }
    }

    /**
     * Registers {@code hook} to run on this leaf once per backward pass, after the pass has added
     * its last contribution to {@link #grad()} (PyTorch's {@code register_post_accumulate_grad_hook}):
     * the moment data parallelism can start summing the gradient across ranks while the rest of
     * the backward pass runs. The hook runs with grad mode disabled and must not change the
     * gradient's shape. Runs also when every path to this leaf carried no gradient (the gradient
     * is then unchanged, possibly null); not when the leaf is not reached by the graph at all.
     */
    public RemovableHandle registerPostAccumulateGradHook(java.util.function.Consumer<Tensor> hook) {
        if (gradFn != null) {
            throw new IllegalStateException("registerPostAccumulateGradHook on a non-leaf tensor " + describe()
                    + ": only leaves (parameters) accumulate a gradient");
        }
        if (!requiresGrad) {
            throw new IllegalStateException("registerPostAccumulateGradHook on " + describe()
                    + ", which does not require grad: it would never run");
        }
        if (postAccumulateGradHooks == null) {
            postAccumulateGradHooks = new java.util.ArrayList<>();
        }
        postAccumulateGradHooks.add(hook);
        return () -> {
            if (postAccumulateGradHooks != null) {
                postAccumulateGradHooks.remove(hook);
            }
        };
    }

    /** Whether any post-accumulate-grad hook is registered. */
    boolean hasPostAccumulateGradHooks() {
        return postAccumulateGradHooks != null && !postAccumulateGradHooks.isEmpty();
    }

    /** Runs the post-accumulate-grad hooks (a copy of the list: a hook may remove itself). */
    void runPostAccumulateGradHooks() {
        if (hasPostAccumulateGradHooks()) {
            for (var hook : List.copyOf(postAccumulateGradHooks)) {
                hook.accept(this);
            }
        }
    }

    /** The operation that produced this tensor, or null for leaves. */
    public Node gradFn() {
        return gradFn;
    }

    void setGradFn(Node node) {
        gradFn = node;
        requiresGrad = true;
    }

    /** Backpropagates from a scalar (seed 1). */
    public void backward() {
        if (numel() != 1) {
            throw new IllegalStateException("backward() without a gradient needs a single-element tensor, got "
                    + describe() + ": pass the seed gradient");
        }
        backward(Tensor.full(device(), DType.F32, 1.0, shape));
    }

    /** Backpropagates with the given gradient of this tensor. */
    public void backward(Tensor gradient) {
        Autograd.backward(this, gradient);
    }

    /** The same data, cut from the graph. */
    public Tensor detach() {
        return new Tensor(storage, offset, shape, strides);
    }

    // =====================================================================================
    // Data access

    /** The value of a single-element tensor as a float. */
    public float item() {
        if (numel() != 1) {
            throw new IllegalStateException("item() on " + describe() + ": needs exactly one element");
        }
        return toFloatArray()[0];
    }

    /** Element at the given indices, as double (any dtype). */
    public double get(long... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("get: " + index.length + " indices for a rank-" + shape.length + " tensor");
        }
        long pos = offset;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("get: index " + index[i] + " out of range for dimension " + i
                        + " of size " + shape[i] + " of " + describe());
            }
            pos += index[i] * strides[i];
        }
        Tensor one = new Tensor(storage, pos, new long[0], new long[0]);
        return one.dtype() == DType.I64 ? one.toLongArray()[0] : one.toFloatArray()[0];
    }

    /** All elements in row-major order as floats (copied to the host). */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(numel())];
        copyInto(out);
        return out;
    }

    /**
     * All elements in row-major order as floats, copied into {@code out} (whose length must be
     * {@link #numel()}): {@link #toFloatArray()} without a new array, for a loop that reads the
     * same shape again and again (a decoder's logits, token after token).
     */
    public void copyInto(float[] out) {
        if (out.length != numel()) {
            throw new IllegalArgumentException("copyInto: tensor " + describe() + " has " + numel() + " elements, the array "
                    + out.length);
        }
        Tensor c = to(Device.CPU).to(DType.F32).contiguous();
        c.backend().copyToHost(c, MemorySegment.ofArray(out));
    }

    /** All elements as longs (integer tensors; floats are truncated). */
    public long[] toLongArray() {
        Tensor c = to(Device.CPU).to(DType.I64).contiguous();
        long[] out = new long[Math.toIntExact(c.numel())];
        c.backend().copyToHost(c, MemorySegment.ofArray(out));
        return out;
    }

    /** All elements as ints. */
    public int[] toIntArray() {
        Tensor c = to(Device.CPU).to(DType.I32).contiguous();
        int[] out = new int[Math.toIntExact(c.numel())];
        c.backend().copyToHost(c, MemorySegment.ofArray(out));
        return out;
    }

    /**
     * The CPU memory of a contiguous CPU tensor, starting at its first element (for kernels and IO).
     */
    public MemorySegment segment() {
        if (device() != Device.CPU) {
            throw new IllegalStateException("segment() needs a CPU tensor, " + describe() + " is on " + device());
        }
        if (!isContiguous()) {
            throw new IllegalStateException("segment() needs a contiguous tensor; call contiguous() first on " + describe());
        }
        MemorySegment all = ((CpuStorage) storage).segment();
        long bytes = numel() * dtype().byteSize();
        return all.asSlice(offset * dtype().byteSize(), bytes);
    }

    /** Little-endian bytes of a contiguous copy (safetensors order). */
    public byte[] toBytes() {
        Tensor c = to(Device.CPU).contiguous();
        byte[] out = new byte[Math.toIntExact(c.numel() * dtype().byteSize())];
        MemorySegment.copy(c.segment(), 0, MemorySegment.ofArray(out), 0, out.length);
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("big-endian hosts are not supported");
        }
        return out;
    }

    // =====================================================================================
    // Copies, dtypes and devices

    /** A contiguous tensor with the same values: this one if already contiguous. */
    public Tensor contiguous() {
        return isContiguous() ? this : contiguousCopy();
    }

    /** A fresh contiguous copy (autograd-aware). */
    public Tensor contiguousCopy() {
        Tensor out = empty(device(), dtype(), shape);
        backend().copy(this, out);
        return Autograd.record(out, "contiguous", new Tensor[] {this}, g -> new Tensor[] {g});
    }

    /** PyTorch's clone: a copy that keeps the graph. */
    public Tensor clone() {
        return contiguousCopy();
    }

    /** Converts the dtype (this tensor if it already has it). Gradients flow between float types. */
    public Tensor to(DType target) {
        if (target == dtype()) {
            return this;
        }
        Tensor out = empty(device(), target, shape);
        backend().copy(this, out);
        if (target.isFloatingPoint() && dtype().isFloatingPoint()) {
            // Gradients stay f32 whatever the storage type (f32 master gradients, docs/model.md §11 training).
            return Autograd.record(out, "to", new Tensor[] {this}, g -> new Tensor[] {g});
        }
        return out;
    }

    /** Moves to a device (this tensor if already there). Gradients flow back across devices. */
    public Tensor to(Device target) {
        if (target == device()) {
            return this;
        }
        Tensor src = contiguous();
        Tensor out = empty(target, dtype(), shape);
        if (target == Device.CPU) {
            src.backend().copyToHost(src, out.segment());
        } else if (src.device() == Device.CPU) {
            out.backend().copyFromHost(src.segment(), out);
        } else {
            return to(Device.CPU).to(target);
        }
        Device source = device();
        return Autograd.record(out, "to", new Tensor[] {this}, g -> new Tensor[] {g.to(source)});
    }

    /** Copies {@code src} (broadcast to this shape, any dtype) into this tensor, in place. */
    public Tensor copy_(Tensor src) {
        checkInPlace("copy_");
        Tensor s = src.device() == device() ? src : src.to(device());
        backend().copy(s.expand(shape), this);
        return this;
    }

    /** Sets every element to {@code value}, in place. */
    public Tensor fill_(double value) {
        checkInPlace("fill_");
        if (isContiguous()) {
            backend().fill(this, value);
        } else {
            copy_(full(device(), dtype(), value));
        }
        return this;
    }

    public Tensor zero_() {
        return fill_(0);
    }

    void checkInPlace(String op) {
        if (GradMode.isEnabled() && requiresGrad) {
            throw new IllegalStateException(op + " on " + describe() + ", which requires grad: do it under"
                    + " GradMode.disabled() (as optimizers do) or on a detached tensor");
        }
        storage.checkAlive(op);
    }

    // =====================================================================================
    // Views

    Tensor viewOf(long newOffset, long[] newShape, long[] newStrides, String op, Node.Backward backward) {
        Tensor v = new Tensor(storage, newOffset, newShape, newStrides);
        return Autograd.record(v, op, new Tensor[] {this}, backward);
    }

    /** A view with a new shape (one dimension may be -1); copies only when the strides do not allow a view. */
    public Tensor reshape(long... newShape) {
        long[] target = inferShape(newShape);
        long[] viewStrides = Views.viewStrides(shape, strides, target);
        if (viewStrides == null) {
            return contiguousCopy().reshape(target);
        }
        long[] original = shape;
        return viewOf(offset, target, viewStrides, "reshape", g -> new Tensor[] {g.reshape(original)});
    }

    /** Like {@link #reshape} but fails instead of copying. */
    public Tensor view(long... newShape) {
        long[] target = inferShape(newShape);
        long[] viewStrides = Views.viewStrides(shape, strides, target);
        if (viewStrides == null) {
            throw new IllegalStateException("view " + Shape.str(target) + " of " + describe() + " with strides "
                    + Arrays.toString(strides) + " is not possible without a copy: use reshape");
        }
        long[] original = shape;
        return viewOf(offset, target, viewStrides, "view", g -> new Tensor[] {g.reshape(original)});
    }

    private long[] inferShape(long[] newShape) {
        long[] target = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < target.length; i++) {
            if (target[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("reshape " + Arrays.toString(newShape) + ": only one -1 allowed");
                }
                infer = i;
            } else if (target[i] < 0) {
                throw new IllegalArgumentException("reshape " + Arrays.toString(newShape) + ": negative size");
            } else {
                known *= target[i];
            }
        }
        long n = numel();
        if (infer >= 0) {
            if (known == 0 || n % known != 0) {
                throw new IllegalArgumentException("reshape " + describe() + " to " + Arrays.toString(newShape)
                        + ": " + n + " elements do not divide");
            }
            target[infer] = n / known;
        } else if (known != n) {
            throw new IllegalArgumentException("reshape " + describe() + " to " + Arrays.toString(newShape)
                    + ": " + n + " elements vs " + known);
        }
        return target;
    }

    /** Reorders dimensions (a view). */
    public Tensor permute(int... dims) {
        if (dims.length != shape.length) {
            throw new IllegalArgumentException("permute " + Arrays.toString(dims) + " of rank-" + shape.length + " " + describe());
        }
        long[] newShape = new long[dims.length];
        long[] newStrides = new long[dims.length];
        int[] inverse = new int[dims.length];
        boolean[] seen = new boolean[dims.length];
        for (int i = 0; i < dims.length; i++) {
            int d = Shape.dim(dims[i], shape.length, "permute");
            if (seen[d]) {
                throw new IllegalArgumentException("permute " + Arrays.toString(dims) + ": dimension " + d + " repeated");
            }
            seen[d] = true;
            newShape[i] = shape[d];
            newStrides[i] = strides[d];
            inverse[d] = i;
        }
        return viewOf(offset, newShape, newStrides, "permute", g -> new Tensor[] {g.permute(inverse)});
    }

    /** Swaps two dimensions (a view). */
    public Tensor transpose(int dim0, int dim1) {
        int[] order = new int[shape.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        int a = Shape.dim(dim0, shape.length, "transpose");
        int b = Shape.dim(dim1, shape.length, "transpose");
        order[a] = b;
        order[b] = a;
        return permute(order);
    }

    /** Transpose of a matrix (swaps the last two dimensions). */
    public Tensor t() {
        if (shape.length < 2) {
            return this;
        }
        return transpose(-2, -1);
    }

    /** Elements {@code [start, start+length)} of one dimension (a view). */
    public Tensor narrow(int dim, long start, long length) {
        int d = Shape.dim(dim, shape.length, "narrow");
        if (start < 0 || length < 0 || start + length > shape[d]) {
            throw new IndexOutOfBoundsException("narrow(" + dim + ", " + start + ", " + length + ") of " + describe());
        }
        long[] newShape = shape.clone();
        newShape[d] = length;
        long[] original = shape;
        return viewOf(offset + start * strides[d], newShape, strides.clone(), "narrow", g -> {
            Tensor full = zeros(g.device(), DType.F32, original);
            full.narrowNoGrad(d, start, length).copy_(g);
            return new Tensor[] {full};
        });
    }

    private Tensor narrowNoGrad(int d, long start, long length) {
        long[] newShape = shape.clone();
        newShape[d] = length;
        return new Tensor(storage, offset + start * strides[d], newShape, strides.clone());
    }

    /** Indexes one dimension, removing it (a view). */
    public Tensor select(int dim, long index) {
        int d = Shape.dim(dim, shape.length, "select");
        long i = index < 0 ? index + shape[d] : index;
        return narrow(d, i, 1).squeeze(d);
    }

    /** Inserts a size-1 dimension. */
    public Tensor unsqueeze(int dim) {
        int d = Shape.dim(dim, shape.length + 1, "unsqueeze");
        long[] newShape = new long[shape.length + 1];
        long[] newStrides = new long[shape.length + 1];
        for (int i = 0, j = 0; i < newShape.length; i++) {
            if (i == d) {
                newShape[i] = 1;
                newStrides[i] = j < shape.length ? strides[j] * shape[j] : 1;
            } else {
                newShape[i] = shape[j];
                newStrides[i] = strides[j];
                j++;
            }
        }
        long[] original = shape;
        return viewOf(offset, newShape, newStrides, "unsqueeze", g -> new Tensor[] {g.reshape(original)});
    }

    /** Removes a size-1 dimension. */
    public Tensor squeeze(int dim) {
        int d = Shape.dim(dim, shape.length, "squeeze");
        if (shape[d] != 1) {
            return this;
        }
        long[] newShape = new long[shape.length - 1];
        long[] newStrides = new long[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i != d) {
                newShape[j] = shape[i];
                newStrides[j] = strides[i];
                j++;
            }
        }
        long[] original = shape;
        return viewOf(offset, newShape, newStrides, "squeeze", g -> new Tensor[] {g.reshape(original)});
    }

    /** Broadcasts size-1 (or missing leading) dimensions to {@code newShape} without copying. */
    public Tensor expand(long... newShape) {
        if (Arrays.equals(newShape, shape)) {
            return this;
        }
        if (newShape.length < shape.length) {
            throw new IllegalArgumentException("expand " + describe() + " to " + Shape.str(newShape) + ": fewer dimensions");
        }
        long[] newStrides = new long[newShape.length];
        int lead = newShape.length - shape.length;
        for (int i = 0; i < newShape.length; i++) {
            if (i < lead) {
                newStrides[i] = 0;
                continue;
            }
            long size = shape[i - lead];
            long target = newShape[i] == -1 ? size : newShape[i];
            if (size == target) {
                newStrides[i] = strides[i - lead];
            } else if (size == 1) {
                newStrides[i] = 0;
            } else {
                throw new IllegalArgumentException("expand " + describe() + " to " + Shape.str(newShape)
                        + ": dimension " + i + " has size " + size + ", not 1");
            }
        }
        long[] target = newShape.clone();
        for (int i = 0; i < target.length; i++) {
            if (target[i] == -1) {
                target[i] = shape[i - lead];
            }
        }
        long[] original = shape;
        return viewOf(offset, target, newStrides, "expand", g -> new Tensor[] {g.sumTo(original)});
    }

    /** Merges dimensions {@code [startDim, endDim]} into one. */
    public Tensor flatten(int startDim, int endDim) {
        int s = Shape.dim(startDim, shape.length, "flatten");
        int e = Shape.dim(endDim, shape.length, "flatten");
        long[] newShape = new long[shape.length - (e - s)];
        long merged = 1;
        for (int i = s; i <= e; i++) {
            merged *= shape[i];
        }
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i < s || i > e) {
                newShape[j++] = shape[i];
            } else if (i == s) {
                newShape[j++] = merged;
            }
        }
        return reshape(newShape);
    }

    /** Splits one dimension into pieces of the given sizes (views). */
    public List<Tensor> split(int dim, long... sizes) {
        int d = Shape.dim(dim, shape.length, "split");
        long total = 0;
        for (long s : sizes) {
            total += s;
        }
        if (total != shape[d]) {
            throw new IllegalArgumentException("split " + Arrays.toString(sizes) + " of dimension " + d + " of " + describe());
        }
        Tensor[] parts = new Tensor[sizes.length];
        long start = 0;
        for (int i = 0; i < sizes.length; i++) {
            parts[i] = narrow(d, start, sizes[i]);
            start += sizes[i];
        }
        return List.of(parts);
    }

    /** Splits one dimension into {@code chunks} equal pieces (views). */
    public List<Tensor> chunk(int chunks, int dim) {
        int d = Shape.dim(dim, shape.length, "chunk");
        if (shape[d] % chunks != 0) {
            throw new IllegalArgumentException("chunk(" + chunks + ") of dimension " + d + " of " + describe());
        }
        long[] sizes = new long[chunks];
        Arrays.fill(sizes, shape[d] / chunks);
        return split(d, sizes);
    }

    // =====================================================================================
    // Arithmetic (see Ops for the implementations and their gradients)

    public Tensor add(Tensor other) {
        return Ops.binary(BinaryOp.ADD, this, other);
    }

    public Tensor add(double value) {
        return Ops.affine(this, 1, value);
    }

    public Tensor sub(Tensor other) {
        return Ops.binary(BinaryOp.SUB, this, other);
    }

    public Tensor sub(double value) {
        return Ops.affine(this, 1, -value);
    }

    public Tensor mul(Tensor other) {
        return Ops.binary(BinaryOp.MUL, this, other);
    }

    public Tensor mul(double value) {
        return Ops.affine(this, value, 0);
    }

    public Tensor div(Tensor other) {
        return Ops.binary(BinaryOp.DIV, this, other);
    }

    public Tensor div(double value) {
        return Ops.affine(this, 1 / value, 0);
    }

    public Tensor pow(double exponent) {
        return Ops.pow(this, exponent);
    }

    public Tensor maximum(Tensor other) {
        return Ops.binary(BinaryOp.MAX, this, other);
    }

    public Tensor minimum(Tensor other) {
        return Ops.binary(BinaryOp.MIN, this, other);
    }

    public Tensor neg() {
        return Ops.unary(UnaryOp.NEG, this);
    }

    public Tensor exp() {
        return Ops.unary(UnaryOp.EXP, this);
    }

    public Tensor log() {
        return Ops.unary(UnaryOp.LOG, this);
    }

    public Tensor sqrt() {
        return Ops.unary(UnaryOp.SQRT, this);
    }

    public Tensor rsqrt() {
        return Ops.unary(UnaryOp.RSQRT, this);
    }

    public Tensor abs() {
        return Ops.unary(UnaryOp.ABS, this);
    }

    public Tensor square() {
        return Ops.unary(UnaryOp.SQUARE, this);
    }

    public Tensor reciprocal() {
        return Ops.unary(UnaryOp.RECIPROCAL, this);
    }

    public Tensor tanh() {
        return Ops.unary(UnaryOp.TANH, this);
    }

    public Tensor sigmoid() {
        return Ops.unary(UnaryOp.SIGMOID, this);
    }

    public Tensor relu() {
        return Ops.unary(UnaryOp.RELU, this);
    }

    public Tensor sin() {
        return Ops.unary(UnaryOp.SIN, this);
    }

    public Tensor cos() {
        return Ops.unary(UnaryOp.COS, this);
    }

    /** Exact (erf) GELU. */
    public Tensor gelu() {
        return Ops.unary(UnaryOp.GELU_ERF, this);
    }

    public Tensor silu() {
        return Ops.unary(UnaryOp.SILU, this);
    }

    /** In place {@code this += other} (broadcast), outside the graph. */
    public Tensor add_(Tensor other) {
        checkInPlace("add_");
        Ops.binaryInto(BinaryOp.ADD, this, other, this);
        return this;
    }

    /** In place {@code this *= other} (broadcast), outside the graph. */
    public Tensor mul_(Tensor other) {
        checkInPlace("mul_");
        Ops.binaryInto(BinaryOp.MUL, this, other, this);
        return this;
    }

    /** In place {@code this *= value}. */
    public Tensor mul_(double value) {
        checkInPlace("mul_");
        Ops.affineInto(this, value, 0, this);
        return this;
    }

    // Comparisons (BOOL results, no gradient)

    public Tensor eq(Tensor other) {
        return Ops.compare(CompareOp.EQ, this, other);
    }

    public Tensor eq(double value) {
        return Ops.compare(CompareOp.EQ, this, Ops.scalarLike(this, value));
    }

    public Tensor ne(double value) {
        return Ops.compare(CompareOp.NE, this, Ops.scalarLike(this, value));
    }

    public Tensor lt(Tensor other) {
        return Ops.compare(CompareOp.LT, this, other);
    }

    public Tensor lt(double value) {
        return Ops.compare(CompareOp.LT, this, Ops.scalarLike(this, value));
    }

    public Tensor le(double value) {
        return Ops.compare(CompareOp.LE, this, Ops.scalarLike(this, value));
    }

    public Tensor gt(Tensor other) {
        return Ops.compare(CompareOp.GT, this, other);
    }

    public Tensor gt(double value) {
        return Ops.compare(CompareOp.GT, this, Ops.scalarLike(this, value));
    }

    public Tensor ge(double value) {
        return Ops.compare(CompareOp.GE, this, Ops.scalarLike(this, value));
    }

    /** {@code cond ? a : b}, broadcast. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        return Ops.where(cond, a, b);
    }

    /** Replaces elements where {@code mask} is true by {@code value}. */
    public Tensor maskedFill(Tensor mask, double value) {
        return Ops.where(mask, Ops.scalarLike(this, value), this);
    }

    // Reductions

    /** Sum of all elements (0-dimensional). */
    public Tensor sum() {
        return reshape(numel()).sum(0, false);
    }

    public Tensor sum(int dim, boolean keepDim) {
        return Ops.reduce(ReduceOp.SUM, this, dim, keepDim);
    }

    public Tensor mean() {
        return reshape(numel()).mean(0, false);
    }

    public Tensor mean(int dim, boolean keepDim) {
        return Ops.reduce(ReduceOp.MEAN, this, dim, keepDim);
    }

    /** Maximum along a dimension; the gradient is shared equally among tied maxima (PyTorch's amax). */
    public Tensor amax(int dim, boolean keepDim) {
        return Ops.reduce(ReduceOp.MAX, this, dim, keepDim);
    }

    public Tensor amin(int dim, boolean keepDim) {
        return Ops.reduce(ReduceOp.MIN, this, dim, keepDim);
    }

    /** Index of the first maximum along a dimension (I64). */
    public Tensor argmax(int dim, boolean keepDim) {
        return Ops.argmax(this, dim, keepDim);
    }

    /** Sums broadcast dimensions away so the result has {@code target}'s shape (gradient of expand). */
    public Tensor sumTo(long[] target) {
        return Ops.sumTo(this, target);
    }

    // Softmax

    public Tensor softmax(int dim) {
        return Ops.softmax(this, dim, false);
    }

    public Tensor logSoftmax(int dim) {
        return Ops.softmax(this, dim, true);
    }

    // Matrix product

    /** PyTorch's matmul: 1-D and 2-D operands, batched with broadcasting over leading dimensions. */
    public Tensor matmul(Tensor other) {
        return Ops.matmul(this, other);
    }

    // Indexing

    /** Rows (entries along {@code dim}) picked by an I64 index vector. */
    public Tensor indexSelect(int dim, Tensor index) {
        return Ops.indexSelect(this, dim, index);
    }

    /** PyTorch's gather: {@code out[...i...] = this[...index[...i...]...]} along {@code dim}. */
    public Tensor gather(int dim, Tensor index) {
        return Ops.gather(this, dim, index);
    }

    /** Concatenates along a dimension. */
    public static Tensor cat(int dim, List<Tensor> tensors) {
        return Ops.cat(dim, tensors);
    }

    public static Tensor cat(int dim, Tensor... tensors) {
        return Ops.cat(dim, List.of(tensors));
    }

    /** Stacks equal-shaped tensors along a new dimension. */
    public static Tensor stack(int dim, List<Tensor> tensors) {
        Tensor[] expanded = new Tensor[tensors.size()];
        for (int i = 0; i < expanded.length; i++) {
            expanded[i] = tensors.get(i).unsqueeze(dim);
        }
        return Ops.cat(dim, List.of(expanded));
    }

    // =====================================================================================

    /** PyTorch-style text: values (elided past 1000 elements), then dtype/device/grad notes. */
    @Override
    public String toString() {
        if (storage.isReleased()) {
            return "tensor(<released>, shape=" + Shape.str(shape) + ", dtype=" + dtype() + ")";
        }
        return TensorFormat.format(this);
    }

    // Package access for backends and ops.
    long[] shapeRef() {
        return shape;
    }

    long[] stridesRef() {
        return strides;
    }
}
