package nvlm.cuda.backend;

import java.util.Arrays;

/**
 * Several strided views of one shape (operands and output of an elementwise kernel, source and
 * destination of a copy) with their dimensions merged where every view allows it: size-1
 * dimensions are dropped, and dimension i joins i+1 when each view's stride of i equals its stride
 * of i+1 times the extent of i+1. The merged views address the same elements in the same order,
 * with fewer dimensions (so the fixed-rank kernels take them, and contiguity shows as rank 1 with
 * unit strides).
 *
 * @param shape   merged extents (at least one dimension; [1] for a single element)
 * @param strides per view, merged strides
 */
public record StridedLayout(long[] shape, long[][] strides) {

    /** Merges the views {@code strides[v]} of {@code shape}. Extents must be positive. */
    public static StridedLayout of(long[] shape, long[]... strides) {
        int views = strides.length;
        long[] outShape = new long[shape.length];
        long[][] outStrides = new long[views][shape.length];
        int rank = 0;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) {
                continue;
            }
            if (rank > 0 && mergeable(outShape, outStrides, rank, shape[d], strides, d)) {
                outShape[rank - 1] *= shape[d];
                for (int v = 0; v < views; v++) {
                    outStrides[v][rank - 1] = strides[v][d];
                }
                continue;
            }
            outShape[rank] = shape[d];
            for (int v = 0; v < views; v++) {
                outStrides[v][rank] = strides[v][d];
            }
            rank++;
        }
        if (rank == 0) {
            long[][] unit = new long[views][];
            for (int v = 0; v < views; v++) {
                unit[v] = new long[] {1};
            }
            return new StridedLayout(new long[] {1}, unit);
        }
        long[][] trimmed = new long[views][];
        for (int v = 0; v < views; v++) {
            trimmed[v] = Arrays.copyOf(outStrides[v], rank);
        }
        return new StridedLayout(Arrays.copyOf(outShape, rank), trimmed);
    }

    /** Whether the kept dimension rank-1 and dimension d (extent {@code extent}) are one run in every view. */
    private static boolean mergeable(long[] outShape, long[][] outStrides, int rank, long extent, long[][] strides, int d) {
        for (int v = 0; v < strides.length; v++) {
            if (outStrides[v][rank - 1] != strides[v][d] * extent) {
                return false;
            }
        }
        return true;
    }

    public int rank() {
        return shape.length;
    }

    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Whether view v is a contiguous run (after merging: rank 1 and unit stride, or one element). */
    public boolean contiguous(int view) {
        return numel() == 1 || (shape.length == 1 && strides[view][0] == 1);
    }

    /**
     * The same views restricted to the trailing {@code innerRank} dimensions, for kernels of a
     * fixed rank: {@link #outerCount()} launches cover the rest, each at {@link #outerOffset}.
     */
    public StridedLayout inner(int innerRank) {
        int split = Math.max(0, shape.length - innerRank);
        long[][] s = new long[strides.length][];
        for (int v = 0; v < strides.length; v++) {
            s[v] = Arrays.copyOfRange(strides[v], split, shape.length);
        }
        return new StridedLayout(Arrays.copyOfRange(shape, split, shape.length), s);
    }

    /** Number of launches of an inner layout of rank {@code innerRank}. */
    public long outerCount(int innerRank) {
        long n = 1;
        for (int d = 0; d < shape.length - innerRank; d++) {
            n *= shape[d];
        }
        return n;
    }

    /** Element offset of view v for outer index {@code outer} (row-major over the leading dimensions). */
    public long outerOffset(int innerRank, int view, long outer) {
        long offset = 0;
        long rest = outer;
        for (int d = shape.length - innerRank - 1; d >= 0; d--) {
            offset += (rest % shape[d]) * strides[view][d];
            rest /= shape[d];
        }
        return offset;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("StridedLayout" + Arrays.toString(shape));
        for (long[] v : strides) {
            s.append(' ').append(Arrays.toString(v));
        }
        return s.toString();
    }
}
