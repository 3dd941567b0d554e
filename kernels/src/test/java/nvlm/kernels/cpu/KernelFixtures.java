package nvlm.kernels.cpu;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/** Random inputs and closeness checks shared by the kernel property tests. */
final class KernelFixtures {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private KernelFixtures() {
    }

    /**
     * Sizes that matter to vector code: 1, primes, odd sizes, sizes just off a multiple of the
     * vector length, small ones, and now and then one large enough for the threaded path.
     */
    static Gen<Integer> sizes(int large) {
        Gen<Integer> special = Generate.pick(java.util.List.of(1, 2, 3, 5, 7, 13, 15, 16, 17, 31, 32, 33, 61, 97, 127,
                128, 129, 257, 1021, 2049));
        Gen<Integer> small = Generate.range(1, 64);
        Gen<Integer> big = Generate.range(large / 2, large);
        return Generate.frequency(
                org.quicktheories.api.Pair.of(5, special),
                org.quicktheories.api.Pair.of(4, small),
                org.quicktheories.api.Pair.of(1, big));
    }

    static Gen<Long> seeds() {
        return Generate.longRange(Long.MIN_VALUE, Long.MAX_VALUE);
    }

    /** A float buffer of n elements starting at element {@code off} of its segment. */
    record Buf(MemorySegment seg, long off, int n) {
        float get(int i) {
            return seg.getAtIndex(F32, off + i);
        }

        void set(int i, float v) {
            seg.setAtIndex(F32, off + i, v);
        }

        float[] toArray() {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = get(i);
            }
            return a;
        }

        double[] toDoubles() {
            double[] a = new double[n];
            for (int i = 0; i < n; i++) {
                a[i] = get(i);
            }
            return a;
        }

        /** A copy in a fresh segment of the same kind, at the same offset. */
        Buf copy() {
            Buf b = new Buf(seg.isNative() ? Arena.ofAuto().allocate(seg.byteSize(), 64)
                    : MemorySegment.ofArray(new float[(int) (seg.byteSize() / 4)]), off, n);
            MemorySegment.copy(seg, 0, b.seg, 0, seg.byteSize());
            return b;
        }
    }

    /**
     * A buffer with a random element offset inside a slightly larger segment, native or heap
     * (the kernels must handle both), filled from {@code values}.
     */
    static Buf buffer(Random r, float[] values) {
        int off = r.nextInt(4) == 0 ? 0 : r.nextInt(9);
        int total = off + values.length + r.nextInt(3);
        MemorySegment seg = r.nextBoolean()
                ? Arena.ofAuto().allocate((long) total * 4, 4)
                : MemorySegment.ofArray(new float[total]);
        for (int i = 0; i < total; i++) {
            seg.setAtIndex(F32, i, Float.NaN); // poison outside the addressed range
        }
        Buf b = new Buf(seg, off, values.length);
        for (int i = 0; i < values.length; i++) {
            b.set(i, values[i]);
        }
        return b;
    }

    static Buf zeros(Random r, int n) {
        return buffer(r, new float[n]);
    }

    /** Gaussian values times scale, with a few exact zeros and a few values 100x larger. */
    static float[] gaussian(Random r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            int kind = r.nextInt(50);
            a[i] = switch (kind) {
                case 0 -> 0f;
                case 1 -> (float) (r.nextGaussian() * scale * 100);
                default -> (float) (r.nextGaussian() * scale);
            };
        }
        return a;
    }

    static MemorySegment longs(Random r, long[] values) {
        int off = r.nextInt(3);
        MemorySegment seg = r.nextBoolean() ? Arena.ofAuto().allocate((long) (values.length + off) * 8, 8)
                : MemorySegment.ofArray(new long[values.length + off]);
        for (int i = 0; i < values.length; i++) {
            seg.setAtIndex(I64, off + i, values[i]);
        }
        return off == 0 ? seg : seg.asSlice((long) off * 8);
    }

    /** |actual - expected| <= atol + rtol * |expected| for every element; NaN matches NaN, infinities match exactly. */
    static void assertClose(String what, double[] expected, float[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            String problem = mismatch(expected[i], actual[i], atol, rtol);
            if (problem != null) {
                fail(what + "[" + i + "]: " + problem);
            }
        }
    }

    static void assertClose(String what, double expected, double actual, double atol, double rtol) {
        String problem = mismatch(expected, actual, atol, rtol);
        if (problem != null) {
            fail(what + ": " + problem);
        }
    }

    /** Null when actual is within tolerance of expected, else a description (messages are built only on failure). */
    static String mismatch(double expected, double actual, double atol, double rtol) {
        if (Double.isNaN(expected) || Double.isNaN(actual)) {
            return Double.isNaN(expected) == Double.isNaN(actual) ? null : "expected " + expected + " but was " + actual;
        }
        if (Double.isInfinite(expected) || Double.isInfinite(actual)) {
            return expected == actual ? null : "expected " + expected + " but was " + actual;
        }
        double err = Math.abs(actual - expected);
        double tol = atol + rtol * Math.abs(expected);
        return err <= tol ? null
                : "expected " + expected + " but was " + actual + " (error " + err + " > tolerance " + tol + ")";
    }

    static void assertBitsEqual(String what, float[] expected, float[] actual) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + "[" + i + "]: expected " + expected[i] + " but was " + actual[i] + " (bits differ)");
            }
        }
    }

    static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            if (!Double.isNaN(v)) {
                m = Math.max(m, Math.abs(v));
            }
        }
        return m;
    }

    static double[] widen(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    /** A strided input over an output shape: its segment, base offset and strides. */
    record View(MemorySegment seg, long off, long[] strides) {
    }

    /**
     * Lays out an input for the output {@code shape}: each dimension is broadcast (stride 0) when
     * {@code broadcast[d]}, the rest live in memory in a random order with a random step (so the
     * view is sliced and permuted), at a random base offset.
     */
    static View view(Random r, long[] shape, boolean[] broadcast, int elementBytes, boolean contiguous) {
        int rank = shape.length;
        long[] strides = new long[rank];
        List<Integer> order = new ArrayList<>();
        for (int d = 0; d < rank; d++) {
            if (!broadcast[d]) {
                order.add(d);
            }
        }
        if (!contiguous) {
            Collections.shuffle(order, r);
        }
        long stride = contiguous ? 1 : 1 + r.nextInt(2);
        long span = 1;
        for (int k = order.size() - 1; k >= 0; k--) {
            int d = order.get(k);
            strides[d] = stride;
            span = stride * shape[d];
            stride = span + (contiguous || r.nextInt(3) > 0 ? 0 : r.nextInt(3));
        }
        long off = contiguous ? 0 : r.nextInt(5);
        long size = off + span + 1;
        MemorySegment seg = r.nextBoolean() ? Arena.ofAuto().allocate(size * elementBytes, 8)
                : MemorySegment.ofArray(new byte[(int) (size * elementBytes)]);
        return new View(seg, off, strides);
    }
}
