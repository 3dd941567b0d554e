package nvlm.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import nvlm.kernels.DType;
import nvlm.kernels.hat.BF16Buffer;
import nvlm.kernels.hat.F32Buffer;
import org.junit.jupiter.api.Test;

class StridedCopyTest {
    @Test
    void permutedViewBecomesContiguousInPermutedOrder() {
        qt().withExamples(60).forAll(integers().between(1, 6), longs().all()).checkAssert((rank, seed) -> {
            SplittableRandom random = new SplittableRandom(seed);
            long[] source = new long[rank];
            for (int i = 0; i < rank; i++) {
                source[i] = random.nextInt(1, rank <= 3 ? 9 : 5);
            }
            long[] sourceStrides = StridedCopy.contiguousStrides(source);
            int[] permutation = permutation(random, rank);
            long[] shape = new long[rank];
            long[] viewStrides = new long[rank];
            for (int i = 0; i < rank; i++) {
                shape[i] = source[permutation[i]];
                viewStrides[i] = sourceStrides[permutation[i]];
            }
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            float[] data = Fixtures.gaussian(random, (int) n, 1);
            F32Buffer out = Fixtures.zeros(n);
            StridedCopy.f32(F32Buffer.wrap(data), viewStrides, out, StridedCopy.contiguousStrides(shape), shape).runOnCpu();
            short[] bits = new short[(int) n];
            for (int i = 0; i < n; i++) {
                bits[i] = DType.floatToBf16(data[i]);
            }
            BF16Buffer outBf16 = BF16Buffer.wrapBits(new short[(int) n]);
            StridedCopy.bf16(BF16Buffer.wrapBits(bits), viewStrides, outBf16, StridedCopy.contiguousStrides(shape), shape)
                    .runOnCpu();
            long[] index = new long[rank];
            for (long flat = 0; flat < n; flat++) {
                long rest = flat;
                long sourceOffset = 0;
                for (int d = rank - 1; d >= 0; d--) {
                    index[d] = rest % shape[d];
                    rest /= shape[d];
                    sourceOffset += index[d] * viewStrides[d];
                }
                assertEquals(data[(int) sourceOffset], out.get(flat), "element " + flat);
                assertEquals(bits[(int) sourceOffset], DType.floatToBf16(outBf16.get(flat)), "bf16 element " + flat);
            }
        });
    }

    @Test
    void copyWritesIntoAStridedDestinationView() {
        // A [3, 4] block written into columns 2..5 of a [3, 8] matrix.
        float[] block = new float[12];
        for (int i = 0; i < 12; i++) {
            block[i] = i + 1;
        }
        F32Buffer matrix = Fixtures.zeros(24);
        StridedCopy.f32(F32Buffer.wrap(block), new long[] {4, 1}, F32Buffer.of(matrix.segment().asSlice(2 * 4)),
                new long[] {8, 1}, new long[] {3, 4}).runOnCpu();
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 8; c++) {
                float expected = c >= 2 && c < 6 ? block[r * 4 + c - 2] : 0f;
                assertEquals(expected, matrix.get(r * 8 + c), "row " + r + " column " + c);
            }
        }
    }

    @Test
    void viewsReachingPastTheBufferAreRefused() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> StridedCopy.f32(
                Fixtures.zeros(10), new long[] {4, 1}, Fixtures.zeros(12), new long[] {4, 1}, new long[] {3, 4}));
        assertEquals("StridedCopy.f32: src has 10 elements, needs at least 12", error.getMessage());
    }

    static int[] permutation(SplittableRandom random, int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
