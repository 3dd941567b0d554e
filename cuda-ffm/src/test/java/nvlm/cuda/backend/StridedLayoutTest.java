package nvlm.cuda.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Merging dimensions of several views never changes which elements they address, nor the order. */
class StridedLayoutTest {

    /** Offsets of every element of a view, in row-major order of its shape. */
    private static long[] offsets(long[] shape, long[] strides) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        long[] out = new long[Math.toIntExact(n)];
        long[] index = new long[shape.length];
        for (int e = 0; e < n; e++) {
            long at = 0;
            for (int i = 0; i < shape.length; i++) {
                at += index[i] * strides[i];
            }
            out[e] = at;
            for (int i = shape.length - 1; i >= 0; i--) {
                if (++index[i] < shape[i]) {
                    break;
                }
                index[i] = 0;
            }
        }
        return out;
    }

    private static long[] contiguous(long[] shape) {
        long[] s = new long[shape.length];
        long stride = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = stride;
            stride *= shape[i];
        }
        return s;
    }

    @Test
    void mergedViewsAddressTheSameElementsInTheSameOrder() {
        qt().withExamples(500).forAll(integers().between(1, 6), integers().between(0, 1_000_000)).checkAssert((rank, seed) -> {
            SplittableRandom rng = new SplittableRandom(seed);
            long[] shape = new long[rank];
            for (int i = 0; i < rank; i++) {
                shape[i] = 1 + rng.nextInt(4);
            }
            long[] a = contiguous(shape);
            long[] b = contiguous(shape);
            // Broadcast dimensions and a permutation-like stride change in b.
            for (int i = 0; i < rank; i++) {
                if (rng.nextInt(3) == 0) {
                    a[i] = 0;
                }
            }
            if (rank > 1 && rng.nextBoolean()) {
                int i = rng.nextInt(rank - 1);
                long t = b[i];
                b[i] = b[i + 1];
                b[i + 1] = t;
            }
            long[] out = contiguous(shape);
            StridedLayout layout = StridedLayout.of(shape, a, b, out);
            assertArrayEquals(offsets(shape, a), offsets(layout.shape(), layout.strides()[0]));
            assertArrayEquals(offsets(shape, b), offsets(layout.shape(), layout.strides()[1]));
            assertArrayEquals(offsets(shape, out), offsets(layout.shape(), layout.strides()[2]));
            assertTrue(layout.rank() <= rank);
        });
    }

    @Test
    void contiguousViewsMergeToOneDimension() {
        long[] shape = {3, 1, 4, 5};
        StridedLayout layout = StridedLayout.of(shape, contiguous(shape), contiguous(shape));
        assertArrayEquals(new long[] {60}, layout.shape());
        assertTrue(layout.contiguous(0) && layout.contiguous(1));
        assertArrayEquals(new long[] {1}, StridedLayout.of(new long[] {1, 1}, new long[] {7, 3}).shape());
    }

    @Test
    void innerLaunchesCoverEveryElementOnce() {
        long[] shape = {2, 3, 2, 3, 2, 3, 2, 5};
        long[] strides = contiguous(shape);
        // Transposing two inner pairs keeps the rank at 8 after merging.
        long[] t = strides.clone();
        t[1] = strides[2];
        t[2] = strides[1];
        t[4] = strides[5];
        t[5] = strides[4];
        StridedLayout layout = StridedLayout.of(shape, t);
        int inner = 6;
        StridedLayout in = layout.inner(inner);
        long[] want = offsets(shape, t);
        long[] got = new long[want.length];
        int at = 0;
        for (long o = 0; o < layout.outerCount(inner); o++) {
            long base = layout.outerOffset(inner, 0, o);
            for (long off : offsets(in.shape(), in.strides()[0])) {
                got[at++] = base + off;
            }
        }
        assertEquals(want.length, at);
        assertArrayEquals(want, got);
    }
}
