package nvlm.kernels.cpu;

import static nvlm.kernels.cpu.KernelFixtures.assertClose;
import static nvlm.kernels.cpu.KernelFixtures.maxAbs;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import nvlm.kernels.cpu.KernelFixtures.Buf;
import org.junit.jupiter.api.Test;

class RopeTest {
    private static final int[] HEAD_DIMS = {2, 4, 6, 8, 14, 16, 30, 32, 34, 64, 128};
    private static final double[] THETAS = {100, 10_000, 500_000, 1_000_000};

    @Test
    void ropeMatchesTheReferenceAndItsInverseUndoesIt() {
        qt().withExamples(200).forAll(KernelFixtures.seeds()).checkAssert(seed -> {
            Random r = new Random(seed);
            int batch = 1 + r.nextInt(3);
            int seq = 1 + r.nextInt(r.nextInt(10) == 0 ? 300 : 20);
            int heads = 1 + r.nextInt(5);
            int headDim = HEAD_DIMS[r.nextInt(HEAD_DIMS.length)];
            int startPos = r.nextBoolean() ? 0 : r.nextInt(5000);
            double theta = THETAS[r.nextInt(THETAS.length)];
            boolean inverse = r.nextBoolean();
            int n = batch * seq * heads * headDim;
            float[] xs = KernelFixtures.gaussian(r, n, 2);
            Buf x = KernelFixtures.buffer(r, xs);
            boolean inPlace = r.nextInt(4) == 0;
            Buf y = inPlace ? x.copy() : KernelFixtures.zeros(r, n);
            Buf xIn = inPlace ? y : x;
            Rope.apply(xIn.seg(), xIn.off(), y.seg(), y.off(), batch, seq, heads, headDim, startPos, theta, inverse);
            double[] want = ReferenceKernels.rope(KernelFixtures.widen(xs), batch, seq, heads, headDim, startPos, theta, inverse);
            // x1 cos - x2 sin: two products and a difference in f32, each rounding at most |x| ulp.
            String what = "rope b" + batch + " s" + seq + " h" + heads + " d" + headDim + " pos" + startPos + " theta" + theta;
            assertClose(what, want, y.toArray(), 2.5e-7 * maxAbs(KernelFixtures.widen(xs)), 0);

            Buf back = KernelFixtures.zeros(r, n);
            Rope.apply(y.seg(), y.off(), back.seg(), back.off(), batch, seq, heads, headDim, startPos, theta, !inverse);
            // cos^2 + sin^2 of the f32-rounded cos/sin is 1 within ~1e-7.
            assertClose(what + " round trip", KernelFixtures.widen(xs), back.toArray(), 6e-7 * maxAbs(KernelFixtures.widen(xs)), 0);
        });
    }

    /** The backward is the transpose of the rotation: <rope(x), g> = <x, rope_inverse(g)>. */
    @Test
    void referenceInverseIsTheAdjointOfTheRotation() {
        qt().withExamples(50).forAll(KernelFixtures.seeds()).checkAssert(seed -> {
            Random r = new Random(seed);
            int batch = 1 + r.nextInt(2);
            int seq = 1 + r.nextInt(6);
            int heads = 1 + r.nextInt(3);
            int headDim = HEAD_DIMS[r.nextInt(HEAD_DIMS.length)];
            int n = batch * seq * heads * headDim;
            double[] x = new double[n];
            double[] g = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = r.nextGaussian();
                g[i] = r.nextGaussian();
            }
            int startPos = r.nextInt(100);
            double lhs = SoftmaxTest.dot(ReferenceKernels.rope(x, batch, seq, heads, headDim, startPos, 1e4, false), g);
            double rhs = SoftmaxTest.dot(x, ReferenceKernels.rope(g, batch, seq, heads, headDim, startPos, 1e4, true));
            assertClose("adjoint", lhs, rhs, 1e-12 * n, 0);
        });
    }

    @Test
    void positionZeroIsTheIdentityAndOddHeadDimIsRejected() {
        float[] xs = {1, 2, 3, 4};
        float[] ys = new float[4];
        Rope.apply(MemorySegment.ofArray(xs), 0, MemorySegment.ofArray(ys), 0, 1, 1, 1, 4, 0, 1e4, false);
        assertClose("pos 0", new double[] {1, 2, 3, 4}, ys, 0, 0);
        // Position 1, headDim 2: a rotation by 1 radian.
        float[] two = {1, 0};
        float[] out = new float[2];
        Rope.apply(MemorySegment.ofArray(two), 0, MemorySegment.ofArray(out), 0, 1, 1, 1, 2, 1, 1e4, false);
        assertClose("rotation", new double[] {Math.cos(1), Math.sin(1)}, out, 1e-7, 0);
        var e = assertThrows(IllegalArgumentException.class,
                () -> Rope.apply(MemorySegment.ofArray(xs), 0, MemorySegment.ofArray(ys), 0, 1, 1, 1, 3, 0, 1e4, false));
        assertTrue(e.getMessage().contains("headDim"), e.getMessage());
    }
}
