package nvlm.kernels.cpu;

import static nvlm.kernels.cpu.KernelFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import nvlm.kernels.cpu.KernelFixtures.Buf;
import org.junit.jupiter.api.Test;

class EmbeddingTest {
    private static final long SKIP = -100;

    @Test
    void gatherAndScatterAddMatchTheReference() {
        qt().withExamples(120).forAll(KernelFixtures.sizes(3000), KernelFixtures.seeds()).checkAssert((dim, seed) -> {
            Random r = new Random(seed);
            int vocab = 1 + r.nextInt(r.nextBoolean() ? 5 : (dim > 500 ? 20 : 300)); // small vocabularies repeat ids
            int n = 1 + r.nextInt(dim > 500 ? 80 : 400);
            long[] ids = new long[n];
            for (int i = 0; i < n; i++) {
                ids[i] = r.nextInt(8) == 0 ? SKIP : r.nextInt(vocab);
            }
            MemorySegment idSeg = KernelFixtures.longs(r, ids);
            float[] table = KernelFixtures.gaussian(r, vocab * dim, 1);
            Buf t = KernelFixtures.buffer(r, table);
            Buf out = KernelFixtures.zeros(r, n * dim);
            Buf expected = KernelFixtures.zeros(r, n * dim);
            Embedding.gather(t.seg(), t.off(), vocab, dim, idSeg, 0, n, out.seg(), out.off(), SKIP);
            ReferenceKernels.embeddingGather(t.seg(), t.off(), vocab, dim, idSeg, 0, n, expected.seg(), expected.off(), SKIP);
            KernelFixtures.assertBitsEqual("gather", expected.toArray(), out.toArray());

            float[] gOut = KernelFixtures.gaussian(r, n * dim, 1);
            Buf g = KernelFixtures.buffer(r, gOut);
            float[] g0 = KernelFixtures.gaussian(r, vocab * dim, 1);
            Buf gTable = KernelFixtures.buffer(r, g0);
            Buf gRef = gTable.copy();
            Embedding.scatterAdd(g.seg(), g.off(), idSeg, 0, n, vocab, dim, gTable.seg(), gTable.off(), SKIP);
            ReferenceKernels.embeddingScatterAdd(g.seg(), g.off(), idSeg, 0, n, vocab, dim, gRef.seg(), gRef.off(), SKIP);
            // f32 sums in row order against the double sum: error below ~1 ulp of the sum of magnitudes per add.
            double[] magnitude = new double[vocab * dim];
            for (int i = 0; i < vocab * dim; i++) {
                magnitude[i] = Math.abs(g0[i]);
            }
            for (int row = 0; row < n; row++) {
                if (ids[row] != SKIP) {
                    for (int c = 0; c < dim; c++) {
                        magnitude[(int) ids[row] * dim + c] += Math.abs(gOut[row * dim + c]);
                    }
                }
            }
            double[] want = gRef.toDoubles();
            float[] got = gTable.toArray();
            int dups = n; // at most n additions into one element
            for (int i = 0; i < want.length; i++) {
                assertClose("scatterAdd[" + i + "]", want[i], got[i], 6e-8 * Math.min(dups, 64) * magnitude[i] + 1e-30, 0);
            }
        });
    }

    @Test
    void idsOutsideTheVocabularyAreRejectedWithTheirRow() {
        MemorySegment table = MemorySegment.ofArray(new float[12]);
        MemorySegment out = MemorySegment.ofArray(new float[12]);
        MemorySegment ids = MemorySegment.ofArray(new long[] {0, 2, 3});
        var e = assertThrows(IllegalArgumentException.class, () -> Embedding.gather(table, 0, 3, 4, ids, 0, 3, out, 0));
        assertTrue(e.getMessage().contains("ids[2] = 3"), e.getMessage());
        MemorySegment negative = MemorySegment.ofArray(new long[] {-1});
        e = assertThrows(IllegalArgumentException.class, () -> Embedding.scatterAdd(out, 0, negative, 0, 1, 3, 4, table, 0));
        assertTrue(e.getMessage().contains("ids[0] = -1"), e.getMessage());
        // With skipId -1 the same id is a padding row.
        Embedding.gather(table, 0, 3, 4, negative, 0, 1, out, 0, -1);
        assertEquals(0f, out.getAtIndex(KernelFixtures.F32, 0));
    }

    @Test
    void scatterAddIsDeterministicWithManyDuplicates() {
        Random r = new Random(4);
        int n = 4000;
        int dim = 512;
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(7);
        }
        MemorySegment idSeg = MemorySegment.ofArray(ids);
        MemorySegment g = MemorySegment.ofArray(KernelFixtures.gaussian(r, n * dim, 1));
        float[] first = new float[7 * dim];
        float[] second = new float[7 * dim];
        Embedding.scatterAdd(g, 0, idSeg, 0, n, 7, dim, MemorySegment.ofArray(first), 0);
        for (int k = 0; k < 3; k++) {
            java.util.Arrays.fill(second, 0f);
            Embedding.scatterAdd(g, 0, idSeg, 0, n, 7, dim, MemorySegment.ofArray(second), 0);
        }
        KernelFixtures.assertBitsEqual("scatterAdd", first, second);
    }
}
