package nvlm.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import nvlm.kernels.AttentionMask;
import nvlm.kernels.AttentionShape;
import org.junit.jupiter.api.Test;

/**
 * A 4096-token causal head runs forward and backward without a T x T buffer. Heap: measured with
 * the JVM's per-thread allocation counters over every live thread (the caller and the pool's
 * workers). Native: Attention allocates no native memory at all (its panels and tiles are float[]),
 * so the heap counter sees every buffer it makes.
 */
class AttentionMemoryTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final int T = 4096;
    private static final int D = 64;

    @Test
    void aLongCausalSequenceNeverAllocatesAQuadraticBuffer() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
        AttentionShape shape = new AttentionShape(1, 1, 1, T, T, D, (float) (1 / Math.sqrt(D)), AttentionMask.CAUSAL);
        SplittableRandom random = new SplittableRandom(11);
        Arena arena = Arena.ofAuto();
        HeadView q = view(arena, random);
        HeadView k = view(arena, random);
        HeadView v = view(arena, random);
        HeadView dOut = view(arena, random);
        HeadView out = view(arena, random);
        HeadView dq = view(arena, random);
        HeadView dk = view(arena, random);
        HeadView dv = view(arena, random);
        MemorySegment lse = arena.allocate(4L * T);
        // Until C2 compiles the kernels, the Vector API runs as Java code that allocates an object per
        // vector operation. Warm up on a small problem until one call allocates about what its packed
        // panels need (7 panels of 256 x 64 floats = 448 KiB, plus tiles), then measure the long one.
        AttentionShape small = new AttentionShape(1, 1, 1, 256, 256, D, 0.125f, AttentionMask.CAUSAL);
        long deadline = System.nanoTime() + 120_000_000_000L;
        long perCall;
        do {
            long start = threads.getTotalThreadAllocatedBytes();
            Attention.forward(small, q, k, v, null, 0, 0, 0, out, lse, 0);
            Attention.backward(small, q, k, v, null, 0, 0, 0, out, lse, 0, dOut, dq, dk, dv);
            perCall = threads.getTotalThreadAllocatedBytes() - start;
        } while (perCall > 1_000_000 && System.nanoTime() < deadline);
        assertTrue(perCall <= 1_000_000, "kernels still allocate " + perCall + " bytes per 256-token call after two"
                + " minutes of warm-up: the JIT did not compile them");

        // One unmeasured call at the full length too: its longer loops reach code paths (and OSR
        // compilations) the short warm-up did not, which allocated an extra ~18 MiB of boxed vectors
        // on a loaded machine.
        Attention.forward(shape, q, k, v, null, 0, 0, 0, out, lse, 0);
        Attention.backward(shape, q, k, v, null, 0, 0, 0, out, lse, 0, dOut, dq, dk, dv);
        long before = threads.getTotalThreadAllocatedBytes();
        Attention.forward(shape, q, k, v, null, 0, 0, 0, out, lse, 0);
        Attention.backward(shape, q, k, v, null, 0, 0, 0, out, lse, 0, dOut, dq, dk, dv);
        long allocated = threads.getTotalThreadAllocatedBytes() - before;
        long quadratic = 4L * T * T;
        System.out.printf("T=%d forward+backward allocated %.1f MiB (a T x T f32 buffer is %.1f MiB)%n", T,
                allocated / 1048576.0, quadratic / 1048576.0);
        // O(T*d), never T*T: inputs are T*d*4 = 1 MiB each, and forward plus backward pack about 17
        // panels of that size (18.4 MB measured, deterministic); a score matrix alone is 64 MiB.
        long linear = 4L * T * D;
        assertTrue(allocated <= 24 * linear && allocated < quadratic,
                "allocated " + allocated + " bytes, more than 24 T x d buffers (" + 24 * linear + "); a T x T f32 buffer is "
                        + quadratic);

        // The result is real: spot rows against the reference. Bottom-right causal alignment lets the
        // last rows be checked as a 3-query problem over the whole cache, the first rows as a short prefix.
        checkRows(shape, q, k, v, out, 0, 100, 100);
        checkRows(shape, q, k, v, out, T - 3, 3, T);
        // Gradient identities: softmax rows sum to 1, so sum_j dv_j = sum_i dOut_i and sum_j dk_j = 0.
        for (int c = 0; c < D; c++) {
            double dvSum = 0;
            double dOutSum = 0;
            double dkSum = 0;
            double dkAbs = 0;
            for (int t = 0; t < T; t++) {
                dvSum += AttentionTest.get(dv, 0, 0, t, c);
                dOutSum += AttentionTest.get(dOut, 0, 0, t, c);
                dkSum += AttentionTest.get(dk, 0, 0, t, c);
                dkAbs += Math.abs(AttentionTest.get(dk, 0, 0, t, c));
            }
            assertEquals(dOutSum, dvSum, 1e-3 * (1 + Math.abs(dOutSum)), "sum of dv, channel " + c);
            assertEquals(0, dkSum, 1e-4 * dkAbs, "sum of dk, channel " + c);
        }
    }

    private static HeadView view(Arena arena, SplittableRandom random) {
        MemorySegment data = arena.allocate(4L * T * D);
        for (long i = 0; i < (long) T * D; i++) {
            data.setAtIndex(F32, i, (float) (random.nextDouble() * 2 - 1));
        }
        return HeadView.contiguous(data, 0, 1, T, D);
    }

    /** Compares out rows [first, first + rows) with the reference on those queries and the first kvLen keys. */
    private static void checkRows(AttentionShape shape, HeadView q, HeadView k, HeadView v, HeadView out, int first,
                                  int rows, int kvLen) {
        AttentionShape part = new AttentionShape(1, 1, 1, rows, kvLen, D, shape.scale(), AttentionMask.CAUSAL);
        HeadView qPart = new HeadView(q.data(), (long) first * D, 0, 0, D);
        MemorySegment expected = Arena.ofAuto().allocate(4L * rows * D);
        AttentionReference.forward(part, qPart, k, v, null, 0, 0, 0, HeadView.contiguous(expected, 0, 1, rows, D),
                Arena.ofAuto().allocate(4L * rows), 0);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < D; c++) {
                float e = expected.getAtIndex(F32, (long) r * D + c);
                int row = first + r;
                int channel = c;
                assertEquals(e, AttentionTest.get(out, 0, 0, row, c), 2e-5f, () -> "out[" + row + "," + channel + "]");
            }
        }
    }
}
