package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.I64Buffer;
import org.junit.jupiter.api.Test;

class EmbeddingTest {
    @Test
    void gatherAndBothScatterAddsMatchTheReference() {
        qt().withExamples(25).forAll(integers().between(1, 40), integers().between(1, 70), integers().between(1, 300),
                longs().all()).checkAssert((vocab, dim, tokens, seed) -> {
            SplittableRandom random = new SplittableRandom(seed);
            float[] table = Fixtures.gaussian(random, vocab * dim, 1);
            long[] ids = new long[tokens];
            for (int n = 0; n < tokens; n++) {
                ids[n] = random.nextInt(Math.min(vocab, 1 + random.nextInt(vocab)));  // repeats are common
            }
            F32Buffer out = Fixtures.zeros((long) tokens * dim);
            Embedding.gather(Fixtures.buffer(table), I64Buffer.wrap(ids), out, tokens, dim, vocab).runOnCpu();
            for (int n = 0; n < tokens; n++) {
                for (int d = 0; d < dim; d++) {
                    assertEquals(table[(int) ids[n] * dim + d], out.get((long) n * dim + d));
                }
            }
            float[] dout = Fixtures.gaussian(random, tokens * dim, 1);
            float[] initial = Fixtures.gaussian(random, vocab * dim, 1);
            double[] expected = new double[vocab * dim];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = initial[i];
            }
            for (int n = 0; n < tokens; n++) {
                for (int d = 0; d < dim; d++) {
                    expected[(int) ids[n] * dim + d] += dout[n * dim + d];
                }
            }
            assertTrue(Embedding.deterministic(tokens, vocab));
            F32Buffer dtable = Fixtures.buffer(initial);
            Embedding.scatterAdd(Fixtures.buffer(dout), I64Buffer.wrap(ids), dtable, tokens, dim, vocab).runOnCpu();
            // float sums of up to 300 unit terms
            assertClose("deterministic scatter-add", expected, dtable, 1e-4, 1e-5);
            // The atomic kernel scatterAdd takes past DETERMINISTIC_LIMIT (id reads), launched here directly.
            F32Buffer atomic = Fixtures.buffer(initial);
            GpuKernel.of(Embedding.class, "scatterAddAtomicKernel").runOnCpu(Launches.elementwise((long) tokens * dim),
                    Fixtures.buffer(dout), I64Buffer.wrap(ids), atomic, (long) tokens, (long) dim, (long) vocab);
            assertClose("atomic scatter-add", expected, atomic, 1e-4, 1e-5);
        });
    }

    @Test
    void scatterAddTakesAtomicsOnlyPastTheIdReadBudget() {
        assertTrue(Embedding.deterministic(4096, 320));
        assertTrue(Embedding.deterministic(1 << 13, 1 << 13));
        assertTrue(!Embedding.deterministic(1 << 20, 152064));
        assertEquals("Embedding.scatterAddAtomicKernel", Embedding.scatterAdd(Fixtures.zeros(1 << 20),
                I64Buffer.wrap(new long[1 << 20]), Fixtures.zeros(65), 1 << 20, 1, 65).kernel().name());
    }

    @Test
    void deterministicScatterAddIsBitIdenticalAcrossRuns() {
        SplittableRandom random = new SplittableRandom(11);
        int vocab = 17;
        int dim = 40;
        int tokens = 500;
        long[] ids = new long[tokens];
        for (int n = 0; n < tokens; n++) {
            ids[n] = random.nextInt(4);
        }
        float[] dout = Fixtures.gaussian(random, tokens * dim, 1);
        F32Buffer first = Fixtures.zeros((long) vocab * dim);
        F32Buffer second = Fixtures.zeros((long) vocab * dim);
        Embedding.scatterAdd(Fixtures.buffer(dout), I64Buffer.wrap(ids), first, tokens, dim, vocab).runOnCpu();
        Embedding.scatterAdd(Fixtures.buffer(dout), I64Buffer.wrap(ids), second, tokens, dim, vocab).runOnCpu();
        for (int i = 0; i < vocab * dim; i++) {
            assertEquals(Float.floatToIntBits(first.get(i)), Float.floatToIntBits(second.get(i)));
        }
    }

    @Test
    void idsOutsideTheTableGiveNaNRowsAndAreSkippedByTheScatters() {
        F32Buffer out = Fixtures.zeros(6);
        I64Buffer ids = I64Buffer.wrap(1, -1, 5);
        Embedding.gather(Fixtures.buffer(new float[] {1, 2, 3, 4}), ids, out, 3, 2, 2).runOnCpu();
        assertEquals(3f, out.get(0));
        assertEquals(4f, out.get(1));
        for (int i = 2; i < 6; i++) {
            assertTrue(Float.isNaN(out.get(i)), "element " + i);
        }
        F32Buffer table = Fixtures.zeros(4);
        Embedding.scatterAdd(Fixtures.buffer(new float[] {1, 2, 3, 4, 5, 6}), ids, table, 3, 2, 2).runOnCpu();
        assertClose("scatter of ids 1, -1, 5 into 2 rows", new double[] {0, 0, 1, 2}, table, 0, 0);
    }

    @Test
    void copyRowsWritesEachSourceRowToItsIndexedRow() {
        F32Buffer dst = Fixtures.buffer(new float[] {9, 9, 9, 9, 9, 9, 9, 9});
        Embedding.copyRows(dst, I64Buffer.wrap(3, 0, 7), Fixtures.buffer(new float[] {1, 2, 3, 4, 5, 6}), 3, 2, 4)
                .runOnCpu();
        assertClose("rows 3 and 0 written, the out-of-range 7 skipped", new double[] {3, 4, 9, 9, 9, 9, 1, 2}, dst, 0, 0);
    }
}
