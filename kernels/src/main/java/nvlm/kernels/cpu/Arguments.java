package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Argument checks shared by the CPU kernels: every kernel validates the element ranges it will
 * touch before it touches any, and the message names the argument, the range and the capacity.
 */
final class Arguments {
    private Arguments() {
    }

    static void requireNonNegative(String name, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must be >= 0, got " + value);
        }
    }

    static void requireNonNull(String name, Object value) {
        if (value == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
    }

    /** Checks that {@code seg} holds elements [off, off + n) of {@code elementBytes} bytes each. */
    static void requireRange(String name, MemorySegment seg, long off, long n, int elementBytes) {
        requireNonNull(name, seg);
        if (off < 0) {
            throw new IllegalArgumentException(name + ": element offset must be >= 0, got " + off);
        }
        requireNonNegative(name + " element count", n);
        long capacity = seg.byteSize() / elementBytes;
        if (n > 0 && (off > capacity || n > capacity - off)) {
            throw new IllegalArgumentException(name + ": needs elements [" + off + ", " + (off + n)
                    + ") but the segment holds " + capacity + " elements of " + elementBytes + " bytes");
        }
    }

    static void requireF32(String name, MemorySegment seg, long off, long n) {
        requireRange(name, seg, off, n, Float.BYTES);
    }

    static void requireI64(String name, MemorySegment seg, long off, long n) {
        requireRange(name, seg, off, n, Long.BYTES);
    }

    /** Product of the dimensions; checks every dimension is >= 0 and the rank is at most {@code maxRank}. */
    static long numel(String name, long[] shape, int maxRank) {
        requireNonNull(name, shape);
        if (shape.length > maxRank) {
            throw new IllegalArgumentException(name + ": rank " + shape.length + " exceeds the maximum " + maxRank);
        }
        long n = 1;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] < 0) {
                throw new IllegalArgumentException(name + "[" + d + "] must be >= 0, got " + shape[d]);
            }
            n = Math.multiplyExact(n, shape[d]);
        }
        return n;
    }

    /**
     * Checks a strided view: {@code strides} has the rank of {@code shape} and every element the view
     * addresses, off + sum(index[d] * strides[d]), lies inside {@code seg}. Negative strides are allowed.
     */
    static void requireStrided(String name, MemorySegment seg, long off, long[] shape, long[] strides, int elementBytes) {
        requireNonNull(name, seg);
        requireNonNull(name + " strides", strides);
        if (strides.length != shape.length) {
            throw new IllegalArgumentException(name + ": strides have rank " + strides.length
                    + " but the shape has rank " + shape.length);
        }
        for (long dim : shape) {
            if (dim == 0) {
                return;
            }
        }
        long lo = off;
        long hi = off;
        for (int d = 0; d < shape.length; d++) {
            long span = Math.multiplyExact(shape[d] - 1, strides[d]);
            if (span < 0) {
                lo = Math.addExact(lo, span);
            } else {
                hi = Math.addExact(hi, span);
            }
        }
        long capacity = seg.byteSize() / elementBytes;
        if (lo < 0 || hi >= capacity) {
            throw new IllegalArgumentException(name + ": the strided view addresses elements [" + lo + ", " + hi
                    + "] but the segment holds " + capacity + " elements of " + elementBytes + " bytes");
        }
    }

    static int toIntExact(String name, long value) {
        if (value < 0 || value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " must be in [0, " + Integer.MAX_VALUE + "], got " + value);
        }
        return (int) value;
    }
}
