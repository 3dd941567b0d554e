package nvlm.tensor;

import java.util.Arrays;

/** Shape and stride arithmetic on {@code long[]} shapes (row-major, strides in elements). */
public final class Shape {
    private Shape() {
    }

    /** Number of elements of a shape (1 for a scalar []). Throws on negative dims or overflow. */
    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Row-major (C-order) strides of a shape. */
    public static long[] contiguousStrides(long[] shape) {
        long[] strides = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= Math.max(1, shape[i]);
        }
        return strides;
    }

    /** NumPy/PyTorch broadcasting of two shapes; names both shapes when they do not broadcast. */
    public static long[] broadcast(long[] a, long[] b) {
        int rank = Math.max(a.length, b.length);
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            long da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            long db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("shapes " + str(a) + " and " + str(b)
                        + " do not broadcast (dimension " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Normalizes a possibly negative dimension index against a rank, naming the tensor op on error. */
    public static int dim(int dim, int rank, String op) {
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank) {
            throw new IllegalArgumentException(op + ": dimension " + dim + " out of range for rank " + rank);
        }
        return d;
    }

    /** {@code [2, 3]} style text of a shape. */
    public static String str(long[] shape) {
        return Arrays.toString(shape);
    }

    /** Shape with every entry of {@code dims} (ints, from user varargs) widened. */
    public static long[] of(int... dims) {
        long[] shape = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            shape[i] = dims[i];
        }
        return shape;
    }
}
