package nvlm.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import nvlm.kernels.AttentionMask;
import nvlm.kernels.AttentionShape;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

class AttentionTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Lengths around the 64-wide blocks and vector widths: 1, primes, odd, block-1/block/block+1, several blocks. */
    private static final int[] LENGTHS = {1, 2, 3, 5, 7, 13, 16, 17, 31, 63, 64, 65, 97, 130};
    private static final int[] HEAD_DIMS = {1, 7, 32, 64, 80};
    private static final int[] GQA_RATIOS = {1, 2, 4};

    /** How a problem's tensors sit in memory. */
    enum Layout {
        /** [B, H, T, D], each tensor its own segment. */
        CONTIGUOUS,
        /** [B, T, H, D] as a projection writes it: seqStride = H * D (plus a gap so no stride is a tidy multiple). */
        INTERLEAVED,
        /** One packed qkv buffer [B, T, (Hq + 2 Hkv) D] (self-attention only: qLen == kvLen). */
        PACKED_QKV
    }

    /** One random attention problem: shape, inputs, mask, and freshly allocated outputs in the same layout. */
    static final class Problem {
        final AttentionShape shape;
        final Layout layout;
        final HeadView q;
        final HeadView k;
        final HeadView v;
        final HeadView dOut;
        final MemorySegment mask;
        final long maskOffset;
        final long maskBatchStride;
        final long maskRowStride;
        final double magnitude;

        Problem(AttentionShape shape, Layout layout, double magnitude, long seed) {
            this.shape = shape;
            this.layout = layout;
            this.magnitude = magnitude;
            SplittableRandom random = new SplittableRandom(seed);
            int d = shape.headDim();
            if (layout == Layout.PACKED_QKV) {
                int width = (shape.qHeads() + 2 * shape.kvHeads()) * d;
                long seqStride = width;
                long batchStride = (long) width * shape.qLen();
                MemorySegment qkv = randomSegment(random, 3 + batchStride * shape.batch(), magnitude);
                q = new HeadView(qkv, 3, batchStride, d, seqStride);
                k = new HeadView(qkv, 3 + (long) shape.qHeads() * d, batchStride, d, seqStride);
                v = new HeadView(qkv, 3 + (long) (shape.qHeads() + shape.kvHeads()) * d, batchStride, d, seqStride);
            } else {
                q = newView(random, shape.qHeads(), shape.qLen(), magnitude);
                k = newView(random, shape.kvHeads(), shape.kvLen(), magnitude);
                v = newView(random, shape.kvHeads(), shape.kvLen(), magnitude);
            }
            dOut = newView(random, shape.qHeads(), shape.qLen(), 1.0);
            if (shape.mask() == AttentionMask.EXPLICIT) {
                maskRowStride = shape.kvLen() + random.nextInt(3);
                boolean broadcast = shape.batch() > 1 && random.nextInt(3) == 0;
                maskBatchStride = broadcast ? 0 : maskRowStride * shape.qLen() + random.nextInt(2);
                maskOffset = random.nextInt(5);
                long bytes = maskOffset + maskBatchStride * (shape.batch() - 1) + maskRowStride * shape.qLen() + 1;
                mask = Arena.ofAuto().allocate(bytes);
                double density = new double[] {0.05, 0.5, 0.95}[random.nextInt(3)];
                for (int b = 0; b < shape.batch(); b++) {
                    for (int i = 0; i < shape.qLen(); i++) {
                        // About one row in five sees nothing: out and grads must be exactly 0 there.
                        boolean emptyRow = random.nextInt(5) == 0;
                        for (int j = 0; j < shape.kvLen(); j++) {
                            boolean allowed = !emptyRow && random.nextDouble() < density;
                            mask.set(ValueLayout.JAVA_BYTE, maskOffset + b * maskBatchStride + i * maskRowStride + j,
                                    (byte) (allowed ? 1 + random.nextInt(255) : 0));
                        }
                    }
                }
            } else {
                mask = null;
                maskOffset = 0;
                maskBatchStride = 0;
                maskRowStride = 0;
            }
        }

        private HeadView newView(SplittableRandom random, int heads, int seq, double scale) {
            int d = shape.headDim();
            long offset = random.nextInt(4);
            if (layout == Layout.CONTIGUOUS) {
                MemorySegment data = randomSegment(random, offset + (long) shape.batch() * heads * seq * d, scale);
                return HeadView.contiguous(data, offset, heads, seq, d);
            }
            long gap = random.nextInt(3);
            long seqStride = (long) heads * d + gap;
            long batchStride = seqStride * Math.max(seq, 1) + random.nextInt(3);
            MemorySegment data = randomSegment(random, offset + batchStride * shape.batch(), scale);
            return new HeadView(data, offset, batchStride, d, seqStride);
        }

        /** A fresh output view like q (or like k when forKeys), filled with NaN so unwritten elements show. */
        HeadView newOutput(boolean forKeys) {
            SplittableRandom random = new SplittableRandom(7);
            int heads = forKeys ? shape.kvHeads() : shape.qHeads();
            int seq = forKeys ? shape.kvLen() : shape.qLen();
            HeadView view = newView(random, heads, seq, 1.0);
            view.data().fill((byte) 0xff);
            return view;
        }

        MemorySegment newLse() {
            MemorySegment lse = Arena.ofAuto().allocate(4L * (3 + (long) shape.batch() * shape.qHeads()
                    * shape.qLen()));
            lse.fill((byte) 0xff);
            return lse;
        }

        /** Largest scale * sum_c |q_c k_c| over all (query, visible-or-not key) pairs: how large scores can get. */
        double scoreMagnitude() {
            double max = 0;
            for (int b = 0; b < shape.batch(); b++) {
                for (int h = 0; h < shape.qHeads(); h++) {
                    for (int i = 0; i < shape.qLen(); i++) {
                        for (int j = 0; j < shape.kvLen(); j++) {
                            double sum = 0;
                            for (int c = 0; c < shape.headDim(); c++) {
                                sum += Math.abs(get(q, b, h, i, c) * get(k, b, h / shape.group(), j, c));
                            }
                            max = Math.max(max, sum);
                        }
                    }
                }
            }
            return Math.abs(shape.scale()) * max;
        }

        void forward(boolean reference, HeadView out, MemorySegment lse) {
            if (reference) {
                AttentionReference.forward(shape, q, k, v, mask, maskOffset, maskBatchStride, maskRowStride, out, lse,
                        2);
            } else {
                Attention.forward(shape, q, k, v, mask, maskOffset, maskBatchStride, maskRowStride, out, lse, 2);
            }
        }

        void backward(boolean reference, HeadView out, MemorySegment lse, HeadView dq, HeadView dk, HeadView dv) {
            if (reference) {
                AttentionReference.backward(shape, q, k, v, mask, maskOffset, maskBatchStride, maskRowStride, out, lse,
                        2, dOut, dq, dk, dv);
            } else {
                Attention.backward(shape, q, k, v, mask, maskOffset, maskBatchStride, maskRowStride, out, lse, 2,
                        dOut, dq, dk, dv);
            }
        }

        @Override
        public String toString() {
            return shape + " layout=" + layout + " magnitude=" + magnitude;
        }
    }

    static MemorySegment randomSegment(SplittableRandom random, long floats, double magnitude) {
        MemorySegment segment = Arena.ofAuto().allocate(Math.max(1, floats) * 4);
        for (long i = 0; i < floats; i++) {
            segment.setAtIndex(F32, i, (float) ((random.nextDouble() * 2 - 1) * magnitude));
        }
        return segment;
    }

    static float get(HeadView view, int b, int h, int t, int c) {
        return view.data().getAtIndex(F32, view.rowIndex(b, h, t) + c);
    }

    static float maxAbs(HeadView view, int batch, int heads, int seq, int d) {
        float max = 0;
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < seq; t++) {
                    for (int c = 0; c < d; c++) {
                        max = Math.max(max, Math.abs(get(view, b, h, t, c)));
                    }
                }
            }
        }
        return max;
    }

    /**
     * Asserts |actual - expected| <= tolerance elementwise, and that every element the reference
     * makes exactly 0 (an empty row, a key nobody sees) is exactly 0 in actual too.
     */
    static void assertClose(String what, Problem p, HeadView expected, HeadView actual, int heads, int seq,
                            double tolerance, boolean exactZeros) {
        for (int b = 0; b < p.shape.batch(); b++) {
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < seq; t++) {
                    for (int c = 0; c < p.shape.headDim(); c++) {
                        float e = get(expected, b, h, t, c);
                        float a = get(actual, b, h, t, c);
                        if (!(Math.abs(a - e) <= tolerance) || (exactZeros && e == 0f && a != 0f)) {
                            fail(what + "[" + b + "," + h + "," + t + "," + c + "]: expected " + e + " got " + a
                                    + " (tolerance " + tolerance + ") for " + p);
                        }
                    }
                }
            }
        }
    }

    static Gen<AttentionShape> shapes(boolean selfAttentionOnly) {
        Gen<Integer> index = integers().between(0, Integer.MAX_VALUE - 1);
        return index.zip(index, index, (a, b2, c) -> {
            SplittableRandom random = new SplittableRandom(((long) a << 31) ^ b2 ^ ((long) c << 17));
            int ratio = GQA_RATIOS[random.nextInt(GQA_RATIOS.length)];
            int kvHeads = 1 + random.nextInt(2);
            int batch = 1 + random.nextInt(3);
            int d = HEAD_DIMS[random.nextInt(HEAD_DIMS.length)];
            int qLen = LENGTHS[random.nextInt(LENGTHS.length)];
            int kvLen = selfAttentionOnly || random.nextInt(3) == 0 ? qLen : LENGTHS[random.nextInt(LENGTHS.length)];
            // Keep the double reference cheap: shrink batch and heads on the largest problems.
            if ((long) batch * kvHeads * ratio * qLen * kvLen * d > 1_500_000) {
                batch = 1;
                kvHeads = 1;
            }
            AttentionMask mask = AttentionMask.values()[random.nextInt(3)];
            float scale = (float) (1 / Math.sqrt(d)) * (random.nextInt(4) == 0 ? 3f : 1f);
            return new AttentionShape(batch, kvHeads * ratio, kvHeads, qLen, kvLen, d, scale, mask);
        });
    }

    static Gen<Problem> problems(double... magnitudes) {
        return shapes(false).zip(longs().all(), (shape, seed) -> {
            SplittableRandom random = new SplittableRandom(seed);
            Layout layout = Layout.values()[random.nextInt(3)];
            if (layout == Layout.PACKED_QKV && shape.qLen() != shape.kvLen()) {
                layout = Layout.INTERLEAVED;
            }
            return new Problem(shape, layout, magnitudes[random.nextInt(magnitudes.length)], seed);
        });
    }

    /**
     * Error bound on one float score: a d-term dot product has relative error at most about d units
     * of roundoff (Higham's gamma_d) of sum |q_c k_c|, plus the rounding of scale * q.
     */
    static double scoreError(Problem p) {
        return (p.shape.headDim() + 2) * 0x1p-24 * p.scoreMagnitude();
    }

    @Test
    void forwardMatchesTheDoubleReference() {
        qt().withExamples(120).forAll(problems(1.0, 3.0)).checkAssert(p -> {
            HeadView out = p.newOutput(false);
            HeadView expected = p.newOutput(false);
            MemorySegment lse = p.newLse();
            MemorySegment expectedLse = p.newLse();
            p.forward(false, out, lse);
            p.forward(true, expected, expectedLse);
            // An output is a convex mix of v rows: a score error e moves it by at most ~2e max|v|,
            // plus roundoff of the exp, the sums and the final division.
            double vMax = maxAbs(p.v, p.shape.batch(), p.shape.kvHeads(), p.shape.kvLen(), p.shape.headDim());
            double tolerance = vMax * (4 * scoreError(p) + 2e-6 * Math.sqrt(p.shape.kvLen() + 1));
            assertClose("out", p, expected, out, p.shape.qHeads(), p.shape.qLen(), tolerance, true);
            assertLseClose(p, expectedLse, lse);
        });
    }

    static void assertLseClose(Problem p, MemorySegment expected, MemorySegment actual) {
        double tolerance = 2 * scoreError(p) + 1e-6;
        long count = (long) p.shape.batch() * p.shape.qHeads() * p.shape.qLen();
        for (long i = 2; i < 2 + count; i++) {
            float e = expected.getAtIndex(F32, i);
            float a = actual.getAtIndex(F32, i);
            boolean ok = e == Float.NEGATIVE_INFINITY ? a == e
                    : Math.abs(a - e) <= tolerance + 2e-7 * Math.abs(e);
            long index = i - 2;
            assertTrue(ok, () -> "lse[" + index + "]: expected " + e + " got " + a + " for " + p);
        }
        assertTrue(Float.isNaN(actual.getAtIndex(F32, 2 + count)), "lse written past its end");
        assertTrue(Float.isNaN(actual.getAtIndex(F32, 1)), "lse written before lseOffset");
    }

    @Test
    void backwardMatchesTheDoubleReference() {
        qt().withExamples(100).forAll(problems(1.0, 3.0)).checkAssert(p -> {
            HeadView out = p.newOutput(false);
            MemorySegment lse = p.newLse();
            p.forward(false, out, lse);
            HeadView dq = p.newOutput(false);
            HeadView dk = p.newOutput(true);
            HeadView dv = p.newOutput(true);
            HeadView eq = p.newOutput(false);
            HeadView ek = p.newOutput(true);
            HeadView ev = p.newOutput(true);
            p.backward(false, out, lse, dq, dk, dv);
            p.backward(true, out, lse, eq, ek, ev);
            assertGradientsClose(p, eq, ek, ev, dq, dk, dv);
        });
    }

    /**
     * First-order error analysis, per element, in double: a probability carries a relative error of
     * about twice the score error e (its score and the row's lse), dp_ij = dOut_i . v_j carries
     * d units of roundoff of sum_c |dOut_ic v_jc|. So ds_ij is off by about
     * p_ij (2e (|dp_ij| + |D_i|) + (d+2) u sum_c |dOut_ic v_jc|), and each gradient is off by the
     * same sums as the gradient itself with every term replaced by its error. The tolerance is 4x
     * that (a bound, not an estimate) plus the roundoff of the final sums.
     */
    static void assertGradientsClose(Problem p, HeadView eq, HeadView ek, HeadView ev, HeadView dq, HeadView dk,
                                     HeadView dv) {
        AttentionShape s = p.shape;
        int d = s.headDim();
        double e = scoreError(p) + 1e-7;
        double u = 0x1p-24;
        double scale = Math.abs(s.scale());
        double[] dqScale = new double[s.batch() * s.qHeads() * s.qLen() * d];
        double[] dkScale = new double[s.batch() * s.kvHeads() * s.kvLen() * d];
        double[] dvScale = new double[dkScale.length];
        // Sums of |term| of each gradient: float roundoff of a sum of n terms is at most ~n u of that.
        double[] dqAbs = new double[dqScale.length];
        double[] dkAbs = new double[dkScale.length];
        double[] dvAbs = new double[dkScale.length];
        AttentionReference.Visibility visible = AttentionReference.visibility(s, p.mask, p.maskOffset,
                p.maskBatchStride, p.maskRowStride);
        boolean[] rowEmpty = new boolean[s.batch() * s.qHeads() * s.qLen()];
        for (int b = 0; b < s.batch(); b++) {
            for (int h = 0; h < s.qHeads(); h++) {
                int kvh = h / s.group();
                for (int i = 0; i < s.qLen(); i++) {
                    double[] prob = new double[s.kvLen()];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < s.kvLen(); j++) {
                        prob[j] = Double.NEGATIVE_INFINITY;
                        if (visible.visible(b, i, j)) {
                            double dot = 0;
                            for (int c = 0; c < d; c++) {
                                dot += (double) get(p.q, b, h, i, c) * get(p.k, b, kvh, j, c);
                            }
                            prob[j] = s.scale() * dot;
                            max = Math.max(max, prob[j]);
                        }
                    }
                    int row = (b * s.qHeads() + h) * s.qLen() + i;
                    if (max == Double.NEGATIVE_INFINITY) {
                        rowEmpty[row] = true;
                        continue;
                    }
                    double sum = 0;
                    for (int j = 0; j < s.kvLen(); j++) {
                        prob[j] = Math.exp(prob[j] - max);
                        sum += prob[j];
                    }
                    double[] dp = new double[s.kvLen()];
                    double[] dpAbs = new double[s.kvLen()];
                    double rowDot = 0;
                    for (int j = 0; j < s.kvLen(); j++) {
                        prob[j] /= sum;
                        for (int c = 0; c < d; c++) {
                            double term = (double) get(p.dOut, b, h, i, c) * get(p.v, b, kvh, j, c);
                            dp[j] += term;
                            dpAbs[j] += Math.abs(term);
                        }
                        rowDot += prob[j] * dp[j];
                    }
                    for (int j = 0; j < s.kvLen(); j++) {
                        double dsError = prob[j] * (2 * e * (Math.abs(dp[j]) + Math.abs(rowDot))
                                + (d + 2) * u * dpAbs[j]);
                        double ds = Math.abs(prob[j] * (dp[j] - rowDot));
                        int key = ((b * s.kvHeads() + kvh) * s.kvLen() + j) * d;
                        for (int c = 0; c < d; c++) {
                            double kAbs = Math.abs(get(p.k, b, kvh, j, c));
                            double qAbs = Math.abs(get(p.q, b, h, i, c));
                            double dOutAbs = Math.abs(get(p.dOut, b, h, i, c));
                            dqScale[row * d + c] += scale * dsError * kAbs;
                            dkScale[key + c] += scale * dsError * qAbs;
                            dvScale[key + c] += 2 * e * prob[j] * dOutAbs;
                            dqAbs[row * d + c] += scale * ds * kAbs;
                            dkAbs[key + c] += scale * ds * qAbs;
                            dvAbs[key + c] += prob[j] * dOutAbs;
                        }
                    }
                }
            }
        }
        int queriesPerKey = Math.max(1, s.qLen() * s.group());
        // 1e-7 absolute covers gradients that are zero up to roundoff (e.g. a row with a single key has ds = 0).
        assertWithin("dq", p, eq, dq, s.qHeads(), s.qLen(), dqScale, dqAbs, (s.kvLen() + 2) * u, 1e-7);
        assertWithin("dk", p, ek, dk, s.kvHeads(), s.kvLen(), dkScale, dkAbs, (queriesPerKey + 2) * u, 1e-7);
        assertWithin("dv", p, ev, dv, s.kvHeads(), s.kvLen(), dvScale, dvAbs, (queriesPerKey + 2) * u, 1e-7);
        // Structural zeros are exact: empty query rows get dq = 0, keys no query sees get dk = dv = 0.
        for (int b = 0; b < s.batch(); b++) {
            for (int h = 0; h < s.qHeads(); h++) {
                for (int i = 0; i < s.qLen(); i++) {
                    if (rowEmpty[(b * s.qHeads() + h) * s.qLen() + i]) {
                        for (int c = 0; c < d; c++) {
                            assertEquals(0f, get(dq, b, h, i, c), "dq of an empty row for " + p);
                        }
                    }
                }
            }
            for (int h = 0; h < s.kvHeads(); h++) {
                for (int j = 0; j < s.kvLen(); j++) {
                    boolean seen = false;
                    for (int c = 0; c < d; c++) {
                        seen |= dvScale[((b * s.kvHeads() + h) * s.kvLen() + j) * d + c] != 0;
                    }
                    if (!seen) {
                        for (int c = 0; c < d; c++) {
                            assertEquals(0f, get(dk, b, h, j, c), "dk of an unseen key for " + p);
                            assertEquals(0f, get(dv, b, h, j, c), "dv of an unseen key for " + p);
                        }
                    }
                }
            }
        }
    }

    /** |actual - expected| <= 4 (errorScale + roundoff * termMagnitude) + absolute, elementwise. */
    static void assertWithin(String what, Problem p, HeadView expected, HeadView actual, int heads, int seq,
                             double[] errorScale, double[] termMagnitude, double roundoff, double absolute) {
        int d = p.shape.headDim();
        for (int b = 0; b < p.shape.batch(); b++) {
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < seq; t++) {
                    for (int c = 0; c < d; c++) {
                        float ex = get(expected, b, h, t, c);
                        float a = get(actual, b, h, t, c);
                        int at = ((b * heads + h) * seq + t) * d + c;
                        double bound = 4 * (errorScale[at] + roundoff * termMagnitude[at]) + absolute;
                        if (!(Math.abs(a - ex) <= bound)) {
                            fail(what + "[" + b + "," + h + "," + t + "," + c + "]: expected " + ex + " got " + a
                                    + " (bound " + bound + ") for " + p);
                        }
                    }
                }
            }
        }
    }

    @Test
    void largeMagnitudesStayFiniteAndAccurate() {
        // Scores in the thousands: the online softmax must subtract running maxima, never overflow.
        qt().withExamples(30).forAll(problems(30.0, 100.0)).checkAssert(p -> {
            HeadView out = p.newOutput(false);
            HeadView expected = p.newOutput(false);
            MemorySegment lse = p.newLse();
            MemorySegment expectedLse = p.newLse();
            p.forward(false, out, lse);
            p.forward(true, expected, expectedLse);
            double vMax = maxAbs(p.v, p.shape.batch(), p.shape.kvHeads(), p.shape.kvLen(), p.shape.headDim());
            // The softmax is nearly one-hot here: a score error e still moves the output by at most ~2e max|v|.
            double tolerance = vMax * (4 * scoreError(p) + 2e-6 * Math.sqrt(p.shape.kvLen() + 1));
            assertClose("out", p, expected, out, p.shape.qHeads(), p.shape.qLen(), tolerance, true);
            assertLseClose(p, expectedLse, lse);
            HeadView dq = p.newOutput(false);
            HeadView dk = p.newOutput(true);
            HeadView dv = p.newOutput(true);
            p.backward(false, out, lse, dq, dk, dv);
            HeadView eq = p.newOutput(false);
            HeadView ek = p.newOutput(true);
            HeadView ev = p.newOutput(true);
            p.backward(true, out, lse, eq, ek, ev);
            assertGradientsClose(p, eq, ek, ev, dq, dk, dv);
        });
    }

    @Test
    void resultsAreBitIdenticalFromRunToRun() {
        AttentionShape shape = new AttentionShape(2, 8, 2, 150, 150, 64, 0.125f, AttentionMask.CAUSAL);
        Problem p = new Problem(shape, Layout.INTERLEAVED, 1.0, 42);
        float[][] first = null;
        for (int run = 0; run < 3; run++) {
            HeadView out = p.newOutput(false);
            MemorySegment lse = p.newLse();
            p.forward(false, out, lse);
            HeadView dq = p.newOutput(false);
            HeadView dk = p.newOutput(true);
            HeadView dv = p.newOutput(true);
            p.backward(false, out, lse, dq, dk, dv);
            float[][] all = {out.data().toArray(F32), lse.toArray(F32), dq.data().toArray(F32),
                    dk.data().toArray(F32), dv.data().toArray(F32)};
            if (first == null) {
                first = all;
            } else {
                for (int i = 0; i < all.length; i++) {
                    assertArrayEquals(first[i], all[i], "run " + run + " differs in output " + i);
                }
            }
        }
    }

    @Test
    void backwardOutputsMayOverwriteItsInputs() {
        // Backward packs every input before it writes, so dq may reuse dOut's memory and dk, dv those of k, v.
        AttentionShape shape = new AttentionShape(2, 4, 2, 70, 70, 16, 0.25f, AttentionMask.CAUSAL);
        Problem p = new Problem(shape, Layout.CONTIGUOUS, 1.0, 17);
        HeadView out = p.newOutput(false);
        MemorySegment lse = p.newLse();
        p.forward(false, out, lse);
        HeadView dq = p.newOutput(false);
        HeadView dk = p.newOutput(true);
        HeadView dv = p.newOutput(true);
        p.backward(false, out, lse, dq, dk, dv);
        Problem same = new Problem(shape, Layout.CONTIGUOUS, 1.0, 17);
        Attention.backward(shape, same.q, same.k, same.v, null, 0, 0, 0, out, lse, 2, same.dOut, same.dOut, same.k,
                same.v);
        assertClose("dq in dOut", p, dq, same.dOut, shape.qHeads(), shape.qLen(), 0, false);
        assertClose("dk in k", p, dk, same.k, shape.kvHeads(), shape.kvLen(), 0, false);
        assertClose("dv in v", p, dv, same.v, shape.kvHeads(), shape.kvLen(), 0, false);
    }

    @Test
    void decodingOneQueryAgainstACacheSeesTheWholeCache() {
        // qLen 1 against a cache of 100: bottom-right alignment lets the single query see every key.
        AttentionShape causal = new AttentionShape(1, 4, 2, 1, 100, 32, 0.2f, AttentionMask.CAUSAL);
        AttentionShape open = new AttentionShape(1, 4, 2, 1, 100, 32, 0.2f, AttentionMask.NONE);
        Problem p = new Problem(causal, Layout.CONTIGUOUS, 1.0, 3);
        HeadView a = p.newOutput(false);
        HeadView b = p.newOutput(false);
        Attention.forward(causal, p.q, p.k, p.v, null, 0, 0, 0, a, p.newLse(), 0);
        Attention.forward(open, p.q, p.k, p.v, null, 0, 0, 0, b, p.newLse(), 0);
        assertArrayEquals(b.data().toArray(F32), a.data().toArray(F32));
    }

    @Test
    void anEmptyMemoryGivesZeroOutputAndZeroGradients() {
        AttentionShape shape = new AttentionShape(2, 2, 1, 5, 0, 8, 0.3f, AttentionMask.EXPLICIT);
        Problem p = new Problem(shape, Layout.CONTIGUOUS, 1.0, 5);
        HeadView out = p.newOutput(false);
        MemorySegment lse = p.newLse();
        p.forward(false, out, lse);
        for (int i = 0; i < 2 * 2 * 5; i++) {
            assertEquals(Float.NEGATIVE_INFINITY, lse.getAtIndex(F32, 2 + i));
        }
        assertTrue(maxAbs(out, 2, 2, 5, 8) == 0f);
        HeadView dq = p.newOutput(false);
        p.backward(false, out, lse, dq, p.newOutput(true), p.newOutput(true));
        assertTrue(maxAbs(dq, 2, 2, 5, 8) == 0f);
    }

    @Test
    void badArgumentsAreRejectedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AttentionShape(1, 6, 4, 3, 3, 8, 1f, AttentionMask.NONE));
        assertTrue(e.getMessage().contains("kvHeads"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new AttentionShape(1, 4, 4, 3, 3, 0, 1f, AttentionMask.NONE));
        assertTrue(e.getMessage().contains("headDim"), e.getMessage());

        AttentionShape shape = new AttentionShape(1, 2, 1, 4, 6, 8, 0.3f, AttentionMask.EXPLICIT);
        Problem p = new Problem(shape, Layout.CONTIGUOUS, 1.0, 9);
        HeadView out = p.newOutput(false);
        MemorySegment lse = p.newLse();
        HeadView shortK = new HeadView(p.k.data(), 1, p.k.batchStride(), p.k.headStride(), p.k.seqStride() + 1);
        e = assertThrows(IllegalArgumentException.class, () -> Attention.forward(shape, p.q, shortK, p.v, p.mask,
                p.maskOffset, p.maskBatchStride, p.maskRowStride, out, lse, 0));
        assertTrue(e.getMessage().startsWith("k:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Attention.forward(shape, p.q, p.k, p.v, null,
                0, 0, 0, out, lse, 0));
        assertTrue(e.getMessage().contains("mask"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Attention.forward(shape, p.q, p.k, p.v, p.mask,
                p.maskOffset, p.maskBatchStride, p.maskRowStride + 1000, out, lse, 0));
        assertTrue(e.getMessage().startsWith("mask:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Attention.forward(shape, p.q, p.k, p.v, p.mask,
                p.maskOffset, p.maskBatchStride, p.maskRowStride, out, lse, 100));
        assertTrue(e.getMessage().startsWith("lse:"), e.getMessage());
        HeadView negative = new HeadView(out.data(), 0, out.batchStride(), -1, out.seqStride());
        e = assertThrows(IllegalArgumentException.class, () -> Attention.forward(shape, p.q, p.k, p.v, p.mask,
                p.maskOffset, p.maskBatchStride, p.maskRowStride, negative, lse, 0));
        assertTrue(e.getMessage().startsWith("out:"), e.getMessage());
        HeadView readOnly = new HeadView(out.data().asReadOnly(), out.offset(), out.batchStride(), out.headStride(),
                out.seqStride());
        e = assertThrows(IllegalArgumentException.class, () -> Attention.forward(shape, p.q, p.k, p.v, p.mask,
                p.maskOffset, p.maskBatchStride, p.maskRowStride, readOnly, lse, 0));
        assertTrue(e.getMessage().startsWith("out "), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Attention.backward(shape, p.q, p.k, p.v, p.mask,
                p.maskOffset, p.maskBatchStride, p.maskRowStride, out, lse, 0, p.dOut, out, shortK, p.newOutput(true)));
        assertTrue(e.getMessage().startsWith("dk:"), e.getMessage());
    }
}
