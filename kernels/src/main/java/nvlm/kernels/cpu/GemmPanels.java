package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
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
 *
 * <p>Every read of the source is one contiguous run (a bulk copy, or a widening loop for 16-bit
 * types) into a per-thread scratch row; the interleaving then happens in cache, for a
 * row-major A by an in-register transpose of MR rows x V columns ({@link MrTranspose}).
 */
final class GemmPanels {
    static final int MR = GemmMicroKernel.MR;
    static final int NR = GemmMicroKernel.NR;
    private static final int V = GemmMicroKernel.V;
    private static final VectorSpecies<Float> SPECIES = GemmMicroKernel.SPECIES;
    /** V bf16 bit patterns, widened to one float vector. */
    private static final VectorSpecies<Short> BF16_SPECIES =
            VectorSpecies.of(short.class, VectorShape.forBitSize(V * Short.SIZE));
    private static final VectorSpecies<Integer> INT_SPECIES =
            VectorSpecies.of(int.class, VectorShape.forBitSize(V * Integer.SIZE));
    /** k-steps of a transposed A or a plain B widened before they are cut into panels. */
    private static final int STEPS = 16;
    private GemmPanels() {
    }

    /** One stored operand of one batch index: element (r, c) is at {@code base + r*ld + c}. */
    record Operand(DType type, MemorySegment segment, long base, long ld, boolean transposed) {
    }

    /**
     * Per-thread scratch, grown on demand: the runs source rows are widened into, the 16-bit
     * bits behind them, and two more buffers for the packing and skinny paths.
     */
    static final class Scratch {
        float[] run = new float[0];
        float[] part = new float[0];
        float[] rows = new float[0];
        short[] bits = new short[0];
        /** One vector's lanes, for a fixed-order lane sum. */
        final float[] lanes = new float[V];

        float[] rows(int length) {
            if (rows.length < length) {
                rows = new float[length];
            }
            return rows;
        }

        float[] run(int length) {
            if (run.length < length) {
                run = new float[length];
            }
            return run;
        }

        float[] part(int length) {
            if (part.length < length) {
                part = new float[length];
            }
            return part;
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
                MrTranspose.pack(run, kc, dst, i * kc * MR);
            }
        } else {
            // op(A) column p is a contiguous stored row: widen STEPS of them, then cut them into
            // MR-long pieces panel by panel, so each panel is written in one sequential run
            // (panels are kc*MR floats apart: writing one piece per panel per step would hit
            // the same few L1 sets over and over).
            int padded = panels * MR;
            float[] run = scratch.run(STEPS * padded);
            for (int p0 = 0; p0 < kc; p0 += STEPS) {
                int steps = Math.min(STEPS, kc - p0);
                for (int s = 0; s < steps; s++) {
                    readRun(a, a.base() + (long) (pc + p0 + s) * a.ld() + ic, mc, run, s * padded, scratch);
                    Arrays.fill(run, s * padded + mc, (s + 1) * padded, 0f);
                }
                for (int i = 0; i < panels; i++) {
                    int o = i * kc * MR + p0 * MR;
                    for (int s = 0; s < steps; s++) {
                        System.arraycopy(run, s * padded + i * MR, dst, o + s * MR, MR);
                    }
                }
            }
        }
    }

    /** Packs rows [pc, pc+kc) x columns [jc, jc+nc) of op(B) into {@code dst} from index {@code dstOff}. */
    static void packB(Operand b, int pc, int kc, int jc, int nc, float[] dst, int dstOff, Scratch scratch) {
        int panels = (nc + NR - 1) / NR;
        if (!b.transposed()) {
            // op(B) row p is a contiguous stored row: widen STEPS of them, then copy NR-wide
            // pieces panel by panel (sequential writes, as for a transposed A).
            int padded = panels * NR;
            float[] run = scratch.run(STEPS * padded);
            for (int p0 = 0; p0 < kc; p0 += STEPS) {
                int steps = Math.min(STEPS, kc - p0);
                for (int s = 0; s < steps; s++) {
                    readRun(b, b.base() + (long) (pc + p0 + s) * b.ld() + jc, nc, run, s * padded, scratch);
                    Arrays.fill(run, s * padded + nc, (s + 1) * padded, 0f);
                }
                for (int j = 0; j < panels; j++) {
                    int o = dstOff + j * kc * NR + p0 * NR;
                    for (int s = 0; s < steps; s++) {
                        // A plain copy: through FloatVector, C2 kept the vectors boxed here (JFR: 6 GB of
                        // float[] in 25 s of NVLM-X training steps).
                        System.arraycopy(run, s * padded + j * NR, dst, o + s * NR, NR);
                    }
                }
            }
        } else {
            // op(B) column c is a contiguous stored row: widen MR of them at a time, transpose
            // them as if they were an A panel, then copy each k-step into its MR-wide part of
            // the B panel.
            float[] run = scratch.run(MR * kc);
            float[] part = scratch.part(MR * kc);
            for (int j = 0; j < panels; j++) {
                int cols = Math.min(NR, nc - j * NR);
                for (int g = 0; g < NR; g += MR) {
                    int groupCols = Math.max(0, Math.min(MR, cols - g));
                    for (int c = 0; c < groupCols; c++) {
                        readRun(b, b.base() + (long) (jc + j * NR + g + c) * b.ld() + pc, kc, run, c * kc, scratch);
                    }
                    Arrays.fill(run, groupCols * kc, MR * kc, 0f);
                    MrTranspose.pack(run, kc, part, 0);
                    for (int p = 0; p < kc; p++) {
                        System.arraycopy(part, p * MR, dst, dstOff + j * kc * NR + p * NR + g, MR);
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
                // bf16 is the top half of an f32: zero-extend the bits and shift them up (the
                // scalar form of this loop does not auto-vectorize).
                int i = 0;
                for (; i + V <= count; i += V) {
                    ((IntVector) ShortVector.fromArray(BF16_SPECIES, bits, i)
                            .convertShape(VectorOperators.ZERO_EXTEND_S2I, INT_SPECIES, 0))
                            .lanewise(VectorOperators.LSHL, 16)
                            .reinterpretAsFloats()
                            .intoArray(dst, dstOffset + i);
                }
                for (; i < count; i++) {
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

    /**
     * Packs one full A panel from MR rows of a row-major A: V columns at a time, the MR x V block
     * is loaded as MR row vectors and transposed in registers into MR vectors of the panel's
     * p-major order ({@code p*MR + row}), by log2(MR) rounds of two-vector lane selects (one
     * {@code vpermi2ps} each on AVX-512). Round t pairs the vectors whose index differs in bit
     * (MR/2 >> t) and trades that row bit for a column bit of the lane index; the select
     * indices are worked out once, here, by tracking where every element goes.
     */
    static final class MrTranspose {
        private static final int ROUNDS = Integer.numberOfTrailingZeros(MR);
        /** index[(round * MR + vector) * V + lane]: where output lane comes from (0..2V-1). */
        private static final int[] INDEX = new int[ROUNDS * MR * V];
        /** False where this shape of transpose does not apply (then the scalar path is used). */
        private static final boolean AVAILABLE = MR == 8 && V == 2 * MR && buildIndex();

        private MrTranspose() {
        }

        /** Element e = row * V + column sits at a (vector, lane) given by two lists of its bits. */
        private static boolean buildIndex() {
            int rBits = ROUNDS;
            int jBits = Integer.numberOfTrailingZeros(V);
            // Bit ids: 0..jBits-1 are column bits, jBits.. are row bits. Lists are MSB first.
            int[] vec = new int[rBits];
            int[] lane = new int[jBits];
            for (int i = 0; i < rBits; i++) {
                vec[i] = jBits + rBits - 1 - i;
            }
            for (int i = 0; i < jBits; i++) {
                lane[i] = jBits - 1 - i;
            }
            // Panel order: linear position p*MR + row, i.e. bits [columns..., rows...] MSB first.
            int[] order = new int[rBits + jBits];
            for (int i = 0; i < jBits; i++) {
                order[i] = jBits - 1 - i;
            }
            for (int i = 0; i < rBits; i++) {
                order[jBits + i] = jBits + rBits - 1 - i;
            }
            int[] finalVec = Arrays.copyOfRange(order, 0, rBits);
            int[] finalLane = Arrays.copyOfRange(order, rBits, rBits + jBits);
            for (int t = 0; t < ROUNDS; t++) {
                int[] nextVec = vec.clone();
                int[] nextLane = lane.clone();
                int at = indexOf(nextLane, finalVec[t]);
                if (at < 0) {
                    return false;
                }
                nextLane[at] = nextVec[t];
                nextVec[t] = finalVec[t];
                if (t == ROUNDS - 1) {
                    nextLane = finalLane; // the last round may put lanes in any order
                }
                int pairBit = MR / 2 >> t;
                for (int out = 0; out < MR; out++) {
                    int low = out & ~pairBit;
                    for (int l = 0; l < V; l++) {
                        int e = element(nextVec, nextLane, out, l);
                        int from = position(vec, lane, e);
                        int fromVector = from / V;
                        if ((fromVector & ~pairBit) != low) {
                            return false;
                        }
                        INDEX[(t * MR + out) * V + l] = (fromVector == low ? 0 : V) + from % V;
                    }
                }
                vec = nextVec;
                lane = nextLane;
            }
            return Arrays.equals(vec, finalVec) && Arrays.equals(lane, finalLane);
        }

        private static int indexOf(int[] bits, int id) {
            for (int i = 0; i < bits.length; i++) {
                if (bits[i] == id) {
                    return i;
                }
            }
            return -1;
        }

        private static int element(int[] vec, int[] lane, int v, int l) {
            int e = 0;
            for (int i = 0; i < vec.length; i++) {
                e |= ((v >> (vec.length - 1 - i)) & 1) << vec[i];
            }
            for (int i = 0; i < lane.length; i++) {
                e |= ((l >> (lane.length - 1 - i)) & 1) << lane[i];
            }
            return e;
        }

        private static int position(int[] vec, int[] lane, int e) {
            int v = 0;
            int l = 0;
            for (int bit : vec) {
                v = v << 1 | ((e >> bit) & 1);
            }
            for (int bit : lane) {
                l = l << 1 | ((e >> bit) & 1);
            }
            return v * V + l;
        }


        /**
         * MR rows of kc floats, kc apart in {@code rows}, into the A panel layout
         * {@code dst[offset + p*MR + row]}. Select indices are integer lanes (float ones would
         * cost a checked float-to-int conversion per select), and every call in the loop is a
         * force-inlined Vector API call, so it compiles to loads, vpermi2d and stores. (A
         * variant that stores straight into a B panel's stride would be too large for C1 to
         * compile, which then leaves it interpreted for a long while.)
         */
        static void pack(float[] rows, int kc, float[] dst, int offset) {
            int p = AVAILABLE ? contiguous(rows, kc, dst, offset) : 0;
            for (; p < kc; p++) {
                for (int r = 0; r < MR; r++) {
                    dst[offset + p * MR + r] = rows[r * kc + p];
                }
            }
        }

        /** Transposes whole V-column blocks for stride MR; returns the first column not done. */
        private static int contiguous(float[] rows, int kc, float[] dst, int offset) {
            int p = 0;
            for (; p + V <= kc; p += V) {
                IntVector x0 = FloatVector.fromArray(SPECIES, rows, p).reinterpretAsInts();
                IntVector x1 = FloatVector.fromArray(SPECIES, rows, kc + p).reinterpretAsInts();
                IntVector x2 = FloatVector.fromArray(SPECIES, rows, 2 * kc + p).reinterpretAsInts();
                IntVector x3 = FloatVector.fromArray(SPECIES, rows, 3 * kc + p).reinterpretAsInts();
                IntVector x4 = FloatVector.fromArray(SPECIES, rows, 4 * kc + p).reinterpretAsInts();
                IntVector x5 = FloatVector.fromArray(SPECIES, rows, 5 * kc + p).reinterpretAsInts();
                IntVector x6 = FloatVector.fromArray(SPECIES, rows, 6 * kc + p).reinterpretAsInts();
                IntVector x7 = FloatVector.fromArray(SPECIES, rows, 7 * kc + p).reinterpretAsInts();
                // round 0: pairs (v, v ^ 4)
                IntVector y0 = IntVector.fromArray(INT_SPECIES, INDEX, 0 * V).selectFrom(x0, x4);
                IntVector y4 = IntVector.fromArray(INT_SPECIES, INDEX, 4 * V).selectFrom(x0, x4);
                IntVector y1 = IntVector.fromArray(INT_SPECIES, INDEX, 1 * V).selectFrom(x1, x5);
                IntVector y5 = IntVector.fromArray(INT_SPECIES, INDEX, 5 * V).selectFrom(x1, x5);
                IntVector y2 = IntVector.fromArray(INT_SPECIES, INDEX, 2 * V).selectFrom(x2, x6);
                IntVector y6 = IntVector.fromArray(INT_SPECIES, INDEX, 6 * V).selectFrom(x2, x6);
                IntVector y3 = IntVector.fromArray(INT_SPECIES, INDEX, 3 * V).selectFrom(x3, x7);
                IntVector y7 = IntVector.fromArray(INT_SPECIES, INDEX, 7 * V).selectFrom(x3, x7);
                // round 1: pairs (v, v ^ 2)
                IntVector z0 = IntVector.fromArray(INT_SPECIES, INDEX, 8 * V).selectFrom(y0, y2);
                IntVector z2 = IntVector.fromArray(INT_SPECIES, INDEX, 10 * V).selectFrom(y0, y2);
                IntVector z1 = IntVector.fromArray(INT_SPECIES, INDEX, 9 * V).selectFrom(y1, y3);
                IntVector z3 = IntVector.fromArray(INT_SPECIES, INDEX, 11 * V).selectFrom(y1, y3);
                IntVector z4 = IntVector.fromArray(INT_SPECIES, INDEX, 12 * V).selectFrom(y4, y6);
                IntVector z6 = IntVector.fromArray(INT_SPECIES, INDEX, 14 * V).selectFrom(y4, y6);
                IntVector z5 = IntVector.fromArray(INT_SPECIES, INDEX, 13 * V).selectFrom(y5, y7);
                IntVector z7 = IntVector.fromArray(INT_SPECIES, INDEX, 15 * V).selectFrom(y5, y7);
                // round 2: pairs (v, v ^ 1); vector v then holds k-steps p + 2v and p + 2v + 1
                int o = offset + p * MR;
                IntVector.fromArray(INT_SPECIES, INDEX, 16 * V).selectFrom(z0, z1).reinterpretAsFloats()
                        .intoArray(dst, o);
                IntVector.fromArray(INT_SPECIES, INDEX, 17 * V).selectFrom(z0, z1).reinterpretAsFloats()
                        .intoArray(dst, o + V);
                IntVector.fromArray(INT_SPECIES, INDEX, 18 * V).selectFrom(z2, z3).reinterpretAsFloats()
                        .intoArray(dst, o + 2 * V);
                IntVector.fromArray(INT_SPECIES, INDEX, 19 * V).selectFrom(z2, z3).reinterpretAsFloats()
                        .intoArray(dst, o + 3 * V);
                IntVector.fromArray(INT_SPECIES, INDEX, 20 * V).selectFrom(z4, z5).reinterpretAsFloats()
                        .intoArray(dst, o + 4 * V);
                IntVector.fromArray(INT_SPECIES, INDEX, 21 * V).selectFrom(z4, z5).reinterpretAsFloats()
                        .intoArray(dst, o + 5 * V);
                IntVector.fromArray(INT_SPECIES, INDEX, 22 * V).selectFrom(z6, z7).reinterpretAsFloats()
                        .intoArray(dst, o + 6 * V);
                IntVector.fromArray(INT_SPECIES, INDEX, 23 * V).selectFrom(z6, z7).reinterpretAsFloats()
                        .intoArray(dst, o + 7 * V);
            }
            return p;
        }
    }
}
