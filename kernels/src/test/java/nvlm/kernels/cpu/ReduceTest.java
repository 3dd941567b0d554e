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
import org.quicktheories.generators.Generate;

class ReduceTest {

    /** [outer, axis, inner] with each from the vector-unfriendly sizes, sometimes one long axis. */
    private static int[] dims(Random r) {
        int[] pool = {1, 1, 2, 3, 7, 13, 16, 17, 31, 33, 100, 129};
        int[] d = {pool[r.nextInt(pool.length)], pool[r.nextInt(pool.length)], pool[r.nextInt(pool.length)]};
        switch (r.nextInt(16)) {
            case 0 -> d = new int[] {1, 70_000 + r.nextInt(60_000), 1};             // one long row: blocks in parallel
            case 1 -> d = new int[] {2 + r.nextInt(40), 2000 + r.nextInt(2000), 1};  // many rows
            case 2 -> d = new int[] {1 + r.nextInt(3), 50 + r.nextInt(100), 1000 + r.nextInt(1000)}; // column blocks
            default -> { }
        }
        return d;
    }

    @Test
    void reductionsMatchTheDoubleReference() {
        qt().withExamples(200).forAll(Generate.enumValues(Reduce.Op.class), KernelFixtures.seeds()).checkAssert((op, seed) -> {
            Random r = new Random(seed);
            int[] d = dims(r);
            int outer = d[0];
            int axis = d[1];
            int inner = d[2];
            float[] xs = KernelFixtures.gaussian(r, outer * axis * inner, 3);
            Buf x = KernelFixtures.buffer(r, xs);
            Buf out = KernelFixtures.zeros(r, outer * inner);
            Buf expected = KernelFixtures.zeros(r, outer * inner);
            Reduce.reduce(op, x.seg(), x.off(), outer, axis, inner, out.seg(), out.off());
            ReferenceKernels.reduce(op, x.seg(), x.off(), outer, axis, inner, expected.seg(), expected.off());
            double[] want = expected.toDoubles();
            float[] got = out.toArray();
            if (op == Reduce.Op.MAX || op == Reduce.Op.MIN) {
                assertClose(op + " " + java.util.Arrays.toString(d), want, got, 0, 0);
                return;
            }
            // Blocked f32 partials: error bounded by ~1e-6 of the sum of magnitudes (divided by axis for MEAN).
            for (int o = 0; o < outer; o++) {
                for (int i = 0; i < inner; i++) {
                    double absSum = 0;
                    for (int a = 0; a < axis; a++) {
                        absSum += Math.abs(xs[(o * axis + a) * inner + i]);
                    }
                    double scale = op == Reduce.Op.MEAN ? absSum / axis : absSum;
                    assertClose(op + " " + java.util.Arrays.toString(d) + " at [" + o + ", " + i + "]",
                            want[o * inner + i], got[o * inner + i], 1e-6 * scale, 0);
                }
            }
        });
    }

    @Test
    void argmaxTakesTheFirstMaximumAndTheFirstNaN() {
        qt().withExamples(200).forAll(KernelFixtures.seeds()).checkAssert(seed -> {
            Random r = new Random(seed);
            int[] d = dims(r);
            int n = d[0] * d[1] * d[2];
            float[] xs = new float[n];
            for (int i = 0; i < n; i++) {
                xs[i] = r.nextInt(5) - 2; // many ties
                if (r.nextInt(3000) == 0) {
                    xs[i] = Float.NaN;
                }
            }
            Buf x = KernelFixtures.buffer(r, xs);
            MemorySegment out = MemorySegment.ofArray(new long[d[0] * d[2]]);
            MemorySegment expected = MemorySegment.ofArray(new long[d[0] * d[2]]);
            Reduce.argmax(x.seg(), x.off(), d[0], d[1], d[2], out, 0);
            ReferenceKernels.argmax(x.seg(), x.off(), d[0], d[1], d[2], expected, 0);
            assertEquals(-1L, expected.mismatch(out), () -> "argmax " + java.util.Arrays.toString(d));
        });
    }

    @Test
    void aMillionElementSumStaysAccurate() {
        Random r = new Random(9);
        int n = 1_000_000;
        float[] xs = new float[n];
        double exact = 0;
        for (int i = 0; i < n; i++) {
            xs[i] = r.nextFloat() + 1000f; // a large common offset makes naive f32 summation lose ~4 digits
            exact += xs[i];
        }
        float[] out = new float[1];
        Reduce.reduce(Reduce.Op.SUM, MemorySegment.ofArray(xs), 0, 1, n, 1, MemorySegment.ofArray(out), 0);
        assertTrue(Math.abs(out[0] - exact) / exact < 2e-7, "relative error " + Math.abs(out[0] - exact) / exact);
        Reduce.reduce(Reduce.Op.MEAN, MemorySegment.ofArray(xs), 0, 1, n, 1, MemorySegment.ofArray(out), 0);
        assertEquals((float) (exact / n), out[0], 1e-4f);
        // The same column sums with inner > 1.
        float[] cols = new float[2];
        Reduce.reduce(Reduce.Op.SUM, MemorySegment.ofArray(xs), 0, 1, n / 2, 2, MemorySegment.ofArray(cols), 0);
        assertTrue(Math.abs(cols[0] + cols[1] - exact) / exact < 2e-7, "column sums");
    }

    @Test
    void emptyAxisFollowsPyTorch() {
        MemorySegment x = MemorySegment.ofArray(new float[0]);
        float[] out = {7, 7};
        Reduce.reduce(Reduce.Op.SUM, x, 0, 2, 0, 1, MemorySegment.ofArray(out), 0);
        assertEquals(0f, out[0]);
        Reduce.reduce(Reduce.Op.MEAN, x, 0, 2, 0, 1, MemorySegment.ofArray(out), 0);
        assertTrue(Float.isNaN(out[1]));
        var e = assertThrows(IllegalArgumentException.class,
                () -> Reduce.reduce(Reduce.Op.MAX, x, 0, 2, 0, 1, MemorySegment.ofArray(out), 0));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
    }
}
