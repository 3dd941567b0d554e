package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import nvlm.kernels.DType;

/**
 * Packs blocks of op(A) and op(B) into the contiguous f32 panels {@link GemmMicroKernel} reads
 * (the Goto/BLIS layout), widening bf16/f16 on the way.
 *
 * <ul>
 *   <li>A block (mc x kc) becomes ceil(mc/MR) panels of kc columns x MR rows, column-major inside
 *       a panel: element (row, p) of panel i is at {@code i*kc*MR + p*MR + row}.</li>
 *   <li>B block (kc x nc) becomes ceil(nc/NR) panels of kc rows x NR columns, row-major inside a
 *       panel: element (p, col) of panel j is at {@code j*kc*NR + p*NR + col}.</li>
 * </ul>
 * Rows/columns past the edge are zero, so the micro-kernel always runs a full MR x NR tile.
 * Every read goes through one contiguous run of the source (a bulk copy or a widening loop),
 * so strided operands cost a transpose in cache, never an element-wise segment access.
 */
final class GemmPanels {
    static final int MR = GemmMicroKernel.MR;
    static final int NR = GemmMicroKernel.NR;
    private static final int V = GemmMicroKernel.V;

    private GemmPanels() {
    }

    /** One stored operand of one batch index: element (r, c) is at {@code base + r*ld + c}. */
    record Operand(DType type, MemorySegment segment, long base, long ld, boolean transposed) {
    }

    /** Per-thread scratch: the run a source row is widened into, and the 16-bit bits behind it. */
    static final class Scratch {
        float[] run = new float[0];
        short[] bits = new short[0];

        float[] run(int length) {
            if (run.length < length) {
                run = new float[length];
            }
            return run;
        }
    }

    /** Packs rows [ic, ic+mc) x columns [pc, pc+kc) of op(A) into {@code dst}. */
    static void packA(Operand a, int ic, int mc, int pc, int kc, float[] dst, Scratch scratch) {
        int panels = (mc + MR - 1) / MR;
        if (!a.transposed()) {
            // op(A) row r is a contiguous stored row: widen MR rows, then interleave them.
            float[] run = scratch.run(MR * kc);
            for (int i = 0; i < panels; i++) {
                int rows = Math.min(MR, mc - i * MR);
                for (int r = 0; r < rows; r++) {
                    readRun(a, a.base() + (long) (ic + i * MR + r) * a.ld() + pc, kc, run, r * kc, scratch);
                }
                Arrays.fill(run, rows * kc, MR * kc, 0f);
                int o = i * kc * MR;
                for (int p = 0; p < kc; p++) {
                    for (int r = 0; r < MR; r++) {
                        dst[o++] = run[r * kc + p];
                    }
                }
            }
        } else {
            // op(A) column p is a contiguous stored row: widen it once, cut it into MR pieces.
            int padded = panels * MR;
            float[] run = scratch.run(padded);
            Arrays.fill(run, mc, padded, 0f);
            for (int p = 0; p < kc; p++) {
                readRun(a, a.base() + (long) (pc + p) * a.ld() + ic, mc, run, 0, scratch);
                for (int i = 0; i < panels; i++) {
                    System.arraycopy(run, i * MR, dst, i * kc * MR + p * MR, MR);
                }
            }
        }
    }

    /** Packs rows [pc, pc+kc) x columns [jc, jc+nc) of op(B) into {@code dst}. */
    static void packB(Operand b, int pc, int kc, int jc, int nc, float[] dst, Scratch scratch) {
        int panels = (nc + NR - 1) / NR;
        if (!b.transposed()) {
            // op(B) row p is a contiguous stored row: widen it, copy NR-wide pieces with vectors.
            int padded = panels * NR;
            float[] run = scratch.run(padded);
            Arrays.fill(run, nc, padded, 0f);
            for (int p = 0; p < kc; p++) {
                readRun(b, b.base() + (long) (pc + p) * b.ld() + jc, nc, run, 0, scratch);
                for (int j = 0; j < panels; j++) {
                    int o = j * kc * NR + p * NR;
                    for (int v = 0; v < NR; v += V) {
                        FloatVector.fromArray(GemmMicroKernel.SPECIES, run, j * NR + v)
                                .intoArray(dst, o + v);
                    }
                }
            }
        } else {
            // op(B) column c is a contiguous stored row: widen NR of them, then interleave.
            float[] run = scratch.run(NR * kc);
            for (int j = 0; j < panels; j++) {
                int cols = Math.min(NR, nc - j * NR);
                for (int c = 0; c < cols; c++) {
                    readRun(b, b.base() + (long) (jc + j * NR + c) * b.ld() + pc, kc, run, c * kc, scratch);
                }
                Arrays.fill(run, cols * kc, NR * kc, 0f);
                int o = j * kc * NR;
                for (int p = 0; p < kc; p++) {
                    for (int c = 0; c < NR; c++) {
                        dst[o++] = run[c * kc + p];
                    }
                }
            }
        }
    }

    /** Widens {@code count} consecutive elements starting at element {@code index} into dst. */
    static void readRun(Operand x, long index, int count, float[] dst, int dstOffset, Scratch scratch) {
        MemorySegment src = x.segment();
        switch (x.type()) {
            case F32 -> MemorySegment.copy(src, ValueLayout.JAVA_FLOAT_UNALIGNED, index * Float.BYTES,
                    dst, dstOffset, count);
            case BF16 -> {
                short[] bits = bits(scratch, count);
                MemorySegment.copy(src, ValueLayout.JAVA_SHORT_UNALIGNED, index * Short.BYTES, bits, 0, count);
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = Float.intBitsToFloat(bits[i] << 16);
                }
            }
            case F16 -> {
                short[] bits = bits(scratch, count);
                MemorySegment.copy(src, ValueLayout.JAVA_SHORT_UNALIGNED, index * Short.BYTES, bits, 0, count);
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = Float.float16ToFloat(bits[i]);
                }
            }
            default -> throw new IllegalArgumentException("GEMM operand dtype must be F32, BF16 or F16, got " + x.type());
        }
    }

    private static short[] bits(Scratch scratch, int length) {
        if (scratch.bits.length < length) {
            scratch.bits = new short[length];
        }
        return scratch.bits;
    }
}
