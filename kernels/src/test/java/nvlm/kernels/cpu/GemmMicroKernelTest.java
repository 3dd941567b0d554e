package nvlm.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.quicktheories.generators.Generate;

/**
 * The two ways {@link Gemm} writes a tile to C: straight from the registers ({@code multiplyStore},
 * {@code multiplyAccumulate}, full tiles) and through a scratch tile ({@code multiplyStore} with
 * alpha 1, then {@code update}: edge tiles). {@link GemmTest} checks both against the reference;
 * here they must give the same bits, so that an element of C does not depend on which tile of
 * the blocking it fell in.
 */
class GemmMicroKernelTest {
    private static final int MR = GemmMicroKernel.MR;
    private static final int NR = GemmMicroKernel.NR;

    @Test
    void fullTilesAreBitIdenticalToTheEdgeTilePath() {
        qt().withExamples(200)
                .forAll(Generate.range(1, 600), Generate.pick(List.of(0f, 1f, 0.5f, -2f)),
                        Generate.pick(List.of(1f, 0.25f, -3f)), Generate.longRange(0, Long.MAX_VALUE))
                .checkAssert((kc, beta, alpha, seed) -> check(kc, alpha, beta, seed));
    }

    private static void check(int kc, float alpha, float beta, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int aOffset = random.nextInt(5);
        int bOffset = random.nextInt(5);
        float[] a = randoms(random, aOffset + kc * MR);
        float[] b = randoms(random, bOffset + kc * NR);
        int ldc = NR + random.nextInt(9); // C rows further apart than the tile, at an odd offset
        int cOffset = 1 + random.nextInt(3);
        float[] initial = randoms(random, cOffset + MR * ldc);
        float[] expected = initial.clone();
        float[] actual = initial.clone();
        long cByte = (long) cOffset * Float.BYTES;
        long ldcBytes = (long) ldc * Float.BYTES;

        float[] tile = new float[MR * NR];
        GemmMicroKernel.multiplyStore(kc, a, aOffset, b, bOffset, MemorySegment.ofArray(tile), 0,
                (long) NR * Float.BYTES, 1f);
        GemmMicroKernel.update(tile, MemorySegment.ofArray(expected), cByte, ldcBytes, MR, NR, alpha, beta);
        if (beta == 0) {
            GemmMicroKernel.multiplyStore(kc, a, aOffset, b, bOffset, MemorySegment.ofArray(actual), cByte, ldcBytes,
                    alpha);
        } else {
            GemmMicroKernel.multiplyAccumulate(kc, a, aOffset, b, bOffset, MemorySegment.ofArray(actual), cByte,
                    ldcBytes, alpha, beta);
        }
        for (int i = 0; i < actual.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    "element " + i + " (kc " + kc + ", alpha " + alpha + ", beta " + beta + "): expected "
                            + expected[i] + ", got " + actual[i]);
        }
    }

    private static float[] randoms(SplittableRandom random, int length) {
        float[] x = new float[length];
        for (int i = 0; i < length; i++) {
            x[i] = (float) random.nextDouble(-1, 1);
        }
        return x;
    }
}
