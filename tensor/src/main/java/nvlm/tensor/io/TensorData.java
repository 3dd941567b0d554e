package nvlm.tensor.io;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;
import nvlm.kernels.DType;

/**
 * A tensor to write: its name, dtype, shape and little-endian row-major bytes. The constructor
 * checks that {@code data} holds exactly numel × dtype size bytes.
 */
public record TensorData(String name, DType dtype, long[] shape, MemorySegment data) {

    public TensorData {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, () -> "dtype of tensor \"" + name + "\"");
        Objects.requireNonNull(shape, () -> "shape of tensor \"" + name + "\"");
        Objects.requireNonNull(data, () -> "data of tensor \"" + name + "\"");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("tensor name is empty");
        }
        shape = shape.clone();
        long expected = byteSize(name, dtype, shape);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor \"" + name + "\": " + dtype + Arrays.toString(shape)
                    + " needs " + expected + " bytes but its data segment has " + data.byteSize());
        }
    }

    /** numel × dtype size, or an IllegalArgumentException naming the tensor when a dimension is negative or it overflows. */
    static long byteSize(String name, DType dtype, long[] shape) {
        for (long dim : shape) {
            if (dim < 0) {
                throw new IllegalArgumentException("tensor \"" + name + "\": negative dimension in shape " + Arrays.toString(shape));
            }
        }
        try {
            return Math.multiplyExact(TensorEntry.numelExact(shape), dtype.byteSize());
        } catch (ArithmeticException overflow) {
            throw new IllegalArgumentException("tensor \"" + name + "\": shape " + Arrays.toString(shape)
                    + " of " + dtype + " needs more than 2^63 bytes");
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TensorData that
                && name.equals(that.name) && dtype == that.dtype && Arrays.equals(shape, that.shape)
                && data.equals(that.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), data);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
