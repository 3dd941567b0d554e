package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.I32Buffer;
import org.junit.jupiter.api.Test;

class EmbeddingTest {
    @Test
    void gatherAndBothScatterAddsMatchTheReference() {
        qt().withExamples(25).forAll(integers().between(1, 40), integers().between(1, 70), integers().between(1, 300),
                longs().all()).checkAssert((vocab, dim, tokens, seed) -> {
            SplittableRandom random = new SplittableRandom(seed);
            float[] table = Fixtures.gaussian(random, vocab * dim, 1);
            int[] ids = new int[tokens];
            for (int n = 0; n < tokens; n++) {
                ids[n] = random.nextInt(Math.min(vocab, 1 + random.nextInt(vocab)));  // repeats are common
            }
            F32Buffer out = Fixtures.zeros((long) tokens * dim);
            Embedding.forward(I32Buffer.wrap(ids), Fixtures.buffer(table), out, tokens, dim, vocab).runOnCpu();
            for (int n = 0; n < tokens; n++) {
                for (int d = 0; d < dim; d++) {
                    assertEquals(table[ids[n] * dim + d], out.get((long) n * dim + d));
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
                    expected[ids[n] * dim + d] += dout[n * dim + d];
                }
            }
            F32Buffer dtable = Fixtures.buffer(initial);
            Embedding.backward(I32Buffer.wrap(ids), Fixtures.buffer(dout), dtable, tokens, dim, vocab).runOnCpu();
            // float sums of up to 300 unit terms
            assertClose("deterministic scatter-add", expected, dtable, 1e-4, 1e-5);
            F32Buffer atomic = Fixtures.buffer(initial);
            Embedding.backwardAtomic(I32Buffer.wrap(ids), Fixtures.buffer(dout), atomic, tokens, dim, vocab).runOnCpu();
            assertClose("atomic scatter-add", expected, atomic, 1e-4, 1e-5);
        });
    }

    @Test
    void deterministicScatterAddIsBitIdenticalAcrossRuns() {
        SplittableRandom random = new SplittableRandom(11);
        int vocab = 17;
        int dim = 40;
        int tokens = 500;
        int[] ids = new int[tokens];
        for (int n = 0; n < tokens; n++) {
            ids[n] = random.nextInt(4);
        }
        float[] dout = Fixtures.gaussian(random, tokens * dim, 1);
        F32Buffer first = Fixtures.zeros((long) vocab * dim);
        F32Buffer second = Fixtures.zeros((long) vocab * dim);
        Embedding.backward(I32Buffer.wrap(ids), Fixtures.buffer(dout), first, tokens, dim, vocab).runOnCpu();
        Embedding.backward(I32Buffer.wrap(ids), Fixtures.buffer(dout), second, tokens, dim, vocab).runOnCpu();
        for (int i = 0; i < vocab * dim; i++) {
            assertEquals(Float.floatToIntBits(first.get(i)), Float.floatToIntBits(second.get(i)));
        }
    }

    @Test
    void idsOutsideTheVocabularyGiveNaNRows() {
        F32Buffer out = Fixtures.zeros(6);
        Embedding.forward(I32Buffer.wrap(1, -1, 5), Fixtures.buffer(new float[] {1, 2, 3, 4}), out, 3, 2, 2).runOnCpu();
        assertEquals(3f, out.get(0));
        assertEquals(4f, out.get(1));
        for (int i = 2; i < 6; i++) {
            assertTrue(Float.isNaN(out.get(i)), "element " + i);
        }
    }
}
