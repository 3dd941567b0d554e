package nvlm.kernels.cpu;

import java.util.ArrayList;
import java.util.List;

/**
 * The loop nest of an element-wise op whose output is written contiguously (row-major) while up
 * to three inputs are read through element strides (0 where broadcast), in the spirit of
 * PyTorch's TensorIterator: size-1 dimensions are dropped and adjacent dimensions that every
 * input walks contiguously are merged, so a contiguous op becomes one long row and a row vector
 * broadcast over a matrix becomes rows with unit inner strides. Kernels then only write a
 * "row" function for the innermost dimension.
 */
final class BroadcastLoop {
    /** The innermost loop: n output elements from {@code out}, inputs starting at the given element offsets. */
    @FunctionalInterface
    interface Row {
        void run(long out, long in0, long in1, long in2, long n);
    }

    private final long[] shape;
    private final long[][] strides;
    private final long numel;

    private BroadcastLoop(long[] shape, long[][] strides, long numel) {
        this.shape = shape;
        this.strides = strides;
        this.numel = numel;
    }

    /** Builds the coalesced loop for an output {@code shape} and each input's strides over that shape. */
    static BroadcastLoop of(long[] shape, long[]... inputStrides) {
        long numel = 1;
        for (long d : shape) {
            numel *= d;
        }
        int inputs = inputStrides.length;
        List<long[]> dims = new ArrayList<>(); // each entry: {size, stride0, stride1, ...}
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) {
                continue;
            }
            long[] dim = new long[1 + inputs];
            dim[0] = shape[d];
            for (int i = 0; i < inputs; i++) {
                dim[1 + i] = inputStrides[i][d];
            }
            if (!dims.isEmpty()) {
                long[] outer = dims.get(dims.size() - 1);
                boolean mergeable = true;
                for (int i = 0; i < inputs && mergeable; i++) {
                    mergeable = outer[1 + i] == dim[1 + i] * dim[0];
                }
                if (mergeable) {
                    dim[0] = outer[0] * dim[0];
                    dims.set(dims.size() - 1, dim);
                    continue;
                }
            }
            dims.add(dim);
        }
        if (dims.isEmpty()) {
            dims.add(new long[1 + inputs]);
            dims.get(0)[0] = 1;
        }
        int rank = dims.size();
        long[] outShape = new long[rank];
        long[][] outStrides = new long[inputs][rank];
        for (int d = 0; d < rank; d++) {
            outShape[d] = dims.get(d)[0];
            for (int i = 0; i < inputs; i++) {
                outStrides[i][d] = dims.get(d)[1 + i];
            }
        }
        return new BroadcastLoop(outShape, outStrides, numel);
    }

    long numel() {
        return numel;
    }

    int rank() {
        return shape.length;
    }

    long dim(int d) {
        return shape[d];
    }

    long stride(int input, int d) {
        return strides[input][d];
    }

    /** Stride of an input along the innermost (row) dimension. */
    long innerStride(int input) {
        return strides[input][shape.length - 1];
    }

    /** True when the whole loop is one row and the input is walked with unit stride. */
    boolean isContiguous(int input) {
        return shape.length == 1 && (strides[input][0] == 1 || shape[0] == 1);
    }

    /** True when the input is one value broadcast everywhere. */
    boolean isScalar(int input) {
        for (long s : strides[input]) {
            if (s != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Runs {@code row} over the whole output, split into contiguous pieces of the flat output
     * range (in parallel when large); offsets passed to {@code row} are relative to each input's base.
     */
    void forEachRow(Row row) {
        int rank = shape.length;
        long inner = shape[rank - 1];
        int inputs = strides.length;
        ElementBlocks.forElements(numel, (start, end) -> {
            long[] index = new long[rank];
            long[] base = new long[3];
            long rowIndex = start / inner;
            long col = start % inner;
            for (int d = rank - 2; d >= 0; d--) {
                index[d] = rowIndex % shape[d];
                rowIndex /= shape[d];
            }
            for (int i = 0; i < inputs; i++) {
                long off = 0;
                for (int d = 0; d < rank - 1; d++) {
                    off += index[d] * strides[i][d];
                }
                base[i] = off;
            }
            long pos = start;
            while (pos < end) {
                long n = Math.min(inner - col, end - pos);
                long in0 = inputs > 0 ? base[0] + col * strides[0][rank - 1] : 0;
                long in1 = inputs > 1 ? base[1] + col * strides[1][rank - 1] : 0;
                long in2 = inputs > 2 ? base[2] + col * strides[2][rank - 1] : 0;
                row.run(pos, in0, in1, in2, n);
                pos += n;
                col = 0;
                // Odometer step to the next row.
                for (int d = rank - 2; d >= 0; d--) {
                    index[d]++;
                    for (int i = 0; i < inputs; i++) {
                        base[i] += strides[i][d];
                    }
                    if (index[d] < shape[d]) {
                        break;
                    }
                    for (int i = 0; i < inputs; i++) {
                        base[i] -= shape[d] * strides[i][d];
                    }
                    index[d] = 0;
                }
            }
        });
    }
}
