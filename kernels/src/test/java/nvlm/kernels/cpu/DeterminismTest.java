package nvlm.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Every kernel, on inputs large enough to run on several threads, gives the same bits on every
 * call: the first call (interpreted or C1-compiled code) and later ones (C2) included.
 */
class DeterminismTest {
    private static final int ROWS = 96;
    private static final int COLS = 3001;
    private static final Random R = new Random(42);
    private static final float[] X = KernelFixtures.gaussian(R, ROWS * COLS, 3);
    private static final float[] G = KernelFixtures.gaussian(R, ROWS * COLS, 1);
    private static final float[] W = KernelFixtures.gaussian(R, COLS, 1);

    private static MemorySegment seg(float[] a) {
        return MemorySegment.ofArray(a);
    }

    /** Runs {@code kernel} five times; every run must produce the first run's bits. */
    private static void assertSameBitsEveryRun(String name, Supplier<float[]> kernel) {
        int[] first = bits(kernel.get());
        for (int run = 1; run < 5; run++) {
            assertArrayEquals(first, bits(kernel.get()), name + " run " + run);
        }
    }

    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }

    private static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @Test
    void softmaxAndCrossEntropyGiveTheSameBitsEveryRun() {
        assertSameBitsEveryRun("softmax + backward", () -> {
            float[] y = new float[X.length];
            float[] gx = new float[X.length];
            Softmax.softmax(seg(X), 0, seg(y), 0, ROWS, COLS);
            Softmax.softmaxBackward(seg(y), 0, seg(G), 0, seg(gx), 0, ROWS, COLS);
            float[] ly = new float[X.length];
            float[] lgx = new float[X.length];
            Softmax.logSoftmax(seg(X), 0, seg(ly), 0, ROWS, COLS);
            Softmax.logSoftmaxBackward(seg(ly), 0, seg(G), 0, seg(lgx), 0, ROWS, COLS);
            return concat(y, gx, ly, lgx);
        });
        long[] targets = new long[ROWS];
        for (int i = 0; i < ROWS; i++) {
            targets[i] = i % 7 == 0 ? -100 : (i * 31L) % COLS;
        }
        assertSameBitsEveryRun("cross-entropy", () -> {
            float[] lse = new float[ROWS];
            var result = CrossEntropy.forward(seg(X), 0, ROWS, COLS, MemorySegment.ofArray(targets), 0, -100, seg(lse), 0);
            float[] g = new float[X.length];
            CrossEntropy.backward(seg(X), 0, ROWS, COLS, MemorySegment.ofArray(targets), 0, -100, seg(lse), 0, 0.01f, seg(g), 0);
            double loss = result.lossSum();
            return concat(lse, g, new float[] {(float) loss, (float) (loss - (float) loss)});
        });
    }

    @Test
    void normsGiveTheSameBitsEveryRun() {
        assertSameBitsEveryRun("layer norm", () -> {
            float[] y = new float[X.length];
            float[] mean = new float[ROWS];
            float[] rstd = new float[ROWS];
            LayerNorm.forward(seg(X), 0, seg(W), 0, seg(W), 0, seg(y), 0, seg(mean), 0, seg(rstd), 0, ROWS, COLS, 1e-5f);
            float[] gx = new float[X.length];
            float[] gw = new float[COLS];
            float[] gb = new float[COLS];
            LayerNorm.backward(seg(X), 0, seg(W), 0, seg(mean), 0, seg(rstd), 0, seg(G), 0, seg(gx), 0, seg(gw), 0, seg(gb), 0,
                    ROWS, COLS);
            return concat(y, mean, rstd, gx, gw, gb);
        });
        assertSameBitsEveryRun("rms norm", () -> {
            float[] y = new float[X.length];
            float[] rstd = new float[ROWS];
            RmsNorm.forward(seg(X), 0, seg(W), 0, seg(y), 0, seg(rstd), 0, ROWS, COLS, 1e-6f);
            float[] gx = new float[X.length];
            float[] gw = new float[COLS];
            RmsNorm.backward(seg(X), 0, seg(W), 0, seg(rstd), 0, seg(G), 0, seg(gx), 0, seg(gw), 0, ROWS, COLS);
            return concat(y, rstd, gx, gw);
        });
    }

    @Test
    void reductionsRopeAndAdamWGiveTheSameBitsEveryRun() {
        assertSameBitsEveryRun("reduce", () -> {
            float[] all = new float[1];
            float[] rows = new float[ROWS];
            float[] cols = new float[COLS];
            Reduce.reduce(Reduce.Op.SUM, seg(X), 0, 1, X.length, 1, seg(all), 0);
            Reduce.reduce(Reduce.Op.MEAN, seg(X), 0, ROWS, COLS, 1, seg(rows), 0);
            Reduce.reduce(Reduce.Op.SUM, seg(X), 0, 1, ROWS, COLS, seg(cols), 0);
            return concat(all, rows, cols);
        });
        assertSameBitsEveryRun("rope", () -> {
            float[] y = new float[4 * 24 * 12 * 64];
            Rope.apply(seg(X), 0, seg(y), 0, 4, 24, 12, 64, 17, 1e6, false);
            return y;
        });
        assertSameBitsEveryRun("adamw", () -> {
            float[] p = X.clone();
            float[] m = new float[X.length];
            float[] v = new float[X.length];
            for (int step = 1; step <= 3; step++) {
                AdamW.step(seg(p), 0, seg(G), 0, seg(m), 0, seg(v), 0, X.length, 1e-3, 0.9, 0.95, 1e-8, 0.1, step);
            }
            double sq = AdamW.sumOfSquares(seg(p), 0, p.length);
            return concat(p, m, v, new float[] {(float) sq, (float) (sq - (float) sq)});
        });
        assertSameBitsEveryRun("gelu + backward", () -> {
            float[] y = new float[X.length];
            float[] gx = new float[X.length];
            float[] gt = new float[X.length];
            Elementwise.unary(Elementwise.Unary.GELU_ERF, seg(X), 0, seg(y), 0, X.length);
            Elementwise.unaryBackward(Elementwise.Unary.GELU_ERF, seg(X), 0, null, 0, seg(G), 0, seg(gx), 0, X.length);
            Elementwise.unaryBackward(Elementwise.Unary.GELU_TANH, seg(X), 0, null, 0, seg(G), 0, seg(gt), 0, X.length);
            return concat(y, gx, gt);
        });
    }
}
