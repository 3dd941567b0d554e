package nvlm.tensor.io;

import java.util.Arrays;
import java.util.Objects;
import nvlm.kernels.DType;

/**
 * One tensor as a safetensors header describes it. {@code begin} and {@code end} (exclusive) are
 * byte offsets into the data buffer that follows the header, not into the file.
 */
public record TensorEntry(String name, DType dtype, long[] shape, long begin, long end) {

    public TensorEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Number of elements: the product of the shape (1 for a scalar, 0 when a dimension is 0). */
    public long numel() {
        return numelExact(shape);
    }

    /**
     * The product of non-negative dimensions, multiplied left to right as the Rust reader does, so a
     * shape is rejected for overflow exactly when it is there; ArithmeticException on overflow.
     */
    static long numelExact(long[] shape) {
        long n = 1;
        for (long dim : shape) {
            n = Math.multiplyExact(n, dim);
        }
        return n;
    }

    public long byteSize() {
        return end - begin;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TensorEntry that
                && name.equals(that.name) && dtype == that.dtype && Arrays.equals(shape, that.shape)
                && begin == that.begin && end == that.end;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " @[" + begin + ", " + end + ")";
    }
}
