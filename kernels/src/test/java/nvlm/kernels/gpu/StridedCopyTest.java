package nvlm.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import nvlm.kernels.DType;
import nvlm.kernels.translator.BF16Buffer;
import nvlm.kernels.translator.Buffer;
import nvlm.kernels.translator.F32Buffer;
import org.junit.jupiter.api.Test;

class StridedCopyTest {
    @Test
    void permutedViewBecomesContiguousInPermutedOrder() {
        qt().withExamples(60).forAll(integers().between(1, 6), longs().all()).checkAssert((rank, seed) -> {
            SplittableRandom random = new SplittableRandom(seed);
            long[] source = new long[rank];
            for (int i = 0; i < rank; i++) {
                source[i] = random.nextInt(1, rank <= 3 ? 9 : 5);
            }
            long[] sourceStrides = StridedCopy.contiguousStrides(source);
            int[] permutation = permutation(random, rank);
            long[] shape = new long[rank];
            long[] viewStrides = new long[rank];
            for (int i = 0; i < rank; i++) {
                shape[i] = source[permutation[i]];
                viewStrides[i] = sourceStrides[permutation[i]];
            }
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            float[] data = Fixtures.gaussian(random, (int) n, 1);
            F32Buffer out = Fixtures.zeros(n);
            StridedCopy.f32(F32Buffer.wrap(data), viewStrides, out, StridedCopy.contiguousStrides(shape), shape).runOnCpu();
            short[] bits = new short[(int) n];
            for (int i = 0; i < n; i++) {
                bits[i] = DType.floatToBf16(data[i]);
            }
            BF16Buffer outBf16 = BF16Buffer.wrapBits(new short[(int) n]);
            StridedCopy.bf16(BF16Buffer.wrapBits(bits), viewStrides, outBf16, StridedCopy.contiguousStrides(shape), shape)
                    .runOnCpu();
            long[] index = new long[rank];
            for (long flat = 0; flat < n; flat++) {
                long rest = flat;
                long sourceOffset = 0;
                for (int d = rank - 1; d >= 0; d--) {
                    index[d] = rest % shape[d];
                    rest /= shape[d];
                    sourceOffset += index[d] * viewStrides[d];
                }
                assertEquals(data[(int) sourceOffset], out.get(flat), "element " + flat);
                assertEquals(bits[(int) sourceOffset], DType.floatToBf16(outBf16.get(flat)), "bf16 element " + flat);
            }
        });
    }

    @Test
    void copyWritesIntoAStridedDestinationView() {
        // A [3, 4] block written into columns 2..5 of a [3, 8] matrix.
        float[] block = new float[12];
        for (int i = 0; i < 12; i++) {
            block[i] = i + 1;
        }
        F32Buffer matrix = Fixtures.zeros(24);
        StridedCopy.f32(F32Buffer.wrap(block), new long[] {4, 1}, F32Buffer.of(matrix.segment().asSlice(2 * 4)),
                new long[] {8, 1}, new long[] {3, 4}).runOnCpu();
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 8; c++) {
                float expected = c >= 2 && c < 6 ? block[r * 4 + c - 2] : 0f;
                assertEquals(expected, matrix.get(r * 8 + c), "row " + r + " column " + c);
            }
        }
    }

    @Test
    void viewsReachingPastTheBufferAreRefused() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> StridedCopy.f32(
                Fixtures.zeros(10), new long[] {4, 1}, Fixtures.zeros(12), new long[] {4, 1}, new long[] {3, 4}));
        assertEquals("StridedCopy.f32: src has 10 elements, needs at least 12", error.getMessage());
    }

    @Test
    void convertCopiesEveryDtypePairThroughTransposedViewsAsTheCpuBackendConverts() {
        double[] values = {0, 1, -1, 2.5, -2.75, 300.75, 65504, 1e-3, 1e10, -1e10, 7, -0.4};
        long[] shape = {3, 4};
        long[] transposed = {1, 3};  // the source is stored [4, 3]
        for (DType from : DType.values()) {
            for (DType to : DType.values()) {
                Buffer src = typed(from, values);
                Buffer dst = typed(to, new double[values.length]);
                StridedCopy.convert(from, src, transposed, to, dst, StridedCopy.contiguousStrides(shape), shape).runOnCpu();
                for (int r = 0; r < 3; r++) {
                    for (int c = 0; c < 4; c++) {
                        double source = read(from, src, c * 3 + r);
                        long expected = from.isFloatingPoint() || to.isFloatingPoint()
                                ? bits(to, source) : bits(to, (long) source);
                        assertEquals(expected, rawBits(to, dst, r * 4 + c), from + " -> " + to + " of " + source);
                    }
                }
            }
        }
    }

    @Test
    void fillSetsEveryDtypeAsTheCpuBackendConverts() {
        for (DType type : DType.values()) {
            for (double value : new double[] {0, -1.5, 3e9, 1e-3, Double.NEGATIVE_INFINITY}) {
                Buffer dst = typed(type, new double[5]);
                StridedCopy.fill(type, dst, 4, value).runOnCpu();
                // Integers take the value as a Java cast does, BOOL whether it is nonzero.
                long expected = switch (type) {
                    case I32 -> (int) value;
                    case I64 -> (long) value;
                    case BOOL -> value != 0 ? 1 : 0;
                    default -> bits(type, value);
                };
                for (int i = 0; i < 4; i++) {
                    assertEquals(expected, rawBits(type, dst, i), "fill " + type + " with " + value);
                }
                assertEquals(0, rawBits(type, dst, 4), "fill " + type + " past n");
            }
        }
    }

    /** A buffer of {@code type} holding {@code values} as the CPU backend stores doubles in it. */
    private static Buffer typed(DType type, double[] values) {
        MemorySegment memory = switch (type) {
            case F32 -> MemorySegment.ofArray(new float[values.length]);
            case BF16, F16 -> MemorySegment.ofArray(new short[values.length]);
            case I32 -> MemorySegment.ofArray(new int[values.length]);
            case I64 -> MemorySegment.ofArray(new long[values.length]);
            case BOOL -> MemorySegment.ofArray(new byte[values.length]);
        };
        Buffer buffer = Buffer.of(type, memory);
        for (int i = 0; i < values.length; i++) {
            long bits = bits(type, values[i]);
            switch (type) {
                case F32, I32 -> memory.setAtIndex(ValueLayout.JAVA_INT, i, (int) bits);
                case BF16, F16 -> memory.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) bits);
                case I64 -> memory.setAtIndex(ValueLayout.JAVA_LONG, i, bits);
                case BOOL -> memory.set(ValueLayout.JAVA_BYTE, i, (byte) bits);
            }
        }
        return buffer;
    }

    /** The stored bits of {@code value} converted to {@code type} from a float (Java's narrowing casts). */
    private static long bits(DType type, double value) {
        return switch (type) {
            case F32 -> Float.floatToIntBits((float) value);
            case BF16 -> DType.floatToBf16((float) value);
            case F16 -> DType.floatToF16((float) value);
            case I32 -> (int) value;
            case I64 -> (long) value;
            case BOOL -> value != 0 ? 1 : 0;
        };
    }

    /** The stored bits of the integer {@code value} converted to {@code type} (integer to integer: exactly). */
    private static long bits(DType type, long value) {
        return switch (type) {
            case I32 -> (int) value;
            case I64 -> value;
            case BOOL -> value != 0 ? 1 : 0;
            default -> bits(type, (double) value);
        };
    }

    private static double read(DType type, Buffer buffer, int i) {
        MemorySegment m = buffer.segment();
        return switch (type) {
            case F32 -> m.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            case BF16 -> DType.bf16ToFloat(m.getAtIndex(ValueLayout.JAVA_SHORT, i));
            case F16 -> DType.f16ToFloat(m.getAtIndex(ValueLayout.JAVA_SHORT, i));
            case I32 -> m.getAtIndex(ValueLayout.JAVA_INT, i);
            case I64 -> m.getAtIndex(ValueLayout.JAVA_LONG, i);
            case BOOL -> m.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
        };
    }

    private static long rawBits(DType type, Buffer buffer, int i) {
        MemorySegment m = buffer.segment();
        return switch (type) {
            case F32, I32 -> m.getAtIndex(ValueLayout.JAVA_INT, i);
            case BF16, F16 -> m.getAtIndex(ValueLayout.JAVA_SHORT, i);
            case I64 -> m.getAtIndex(ValueLayout.JAVA_LONG, i);
            case BOOL -> m.get(ValueLayout.JAVA_BYTE, i);
        };
    }

    static int[] permutation(SplittableRandom random, int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
