package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import nvlm.kernels.DType;

/**
 * Materializes a strided view (a permutation, slice, expand or plain tensor) into contiguous
 * row-major storage, converting the element type on the way.
 *
 * <p>Conversions: between float types through f32 with round-to-nearest-even
 * ({@link DType#floatToBf16}, {@link DType#floatToF16}); integer to float as a Java cast to float
 * (I64 values beyond 2^24 round once to f32, then once more to BF16/F16); float to integer as a
 * Java cast (truncation toward zero, NaN to 0, saturating); I64 to I32 throws when the value does
 * not fit. Same-type copies move bits unchanged (NaN payloads included).
 *
 * <p>Fast paths: contiguous same-type (bulk copy), contiguous conversion, and the 2-D transpose
 * (copied in square tiles so both the reads and the writes stay in cache).
 */
public final class StridedCopy {
    private static final int MAX_RANK = 8;
    /** Tile edge of the blocked transpose: 64 x 64 f32 tiles are 16 KiB, inside L1. */
    private static final int TILE = 64;

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private StridedCopy() {
    }

    /**
     * Copies the view (shape, srcStrides in elements of srcType, starting at element srcOff) into
     * dst as a contiguous row-major array of dstType starting at element dstOff. On an I64 -> I32
     * range error the destination may be partly written.
     */
    public static void copy(DType srcType, long[] shape, MemorySegment src, long srcOff, long[] srcStrides,
                            DType dstType, MemorySegment dst, long dstOff) {
        Arguments.requireNonNull("srcType", srcType);
        Arguments.requireNonNull("dstType", dstType);
        long n = Arguments.numel("shape", shape, MAX_RANK);
        Arguments.requireStrided("src", src, srcOff, shape, srcStrides, srcType.byteSize());
        Arguments.requireRange("dst", dst, dstOff, n, dstType.byteSize());
        if (n == 0) {
            return;
        }
        BroadcastLoop loop = BroadcastLoop.of(shape, srcStrides);
        int srcBytes = srcType.byteSize();
        int dstBytes = dstType.byteSize();
        if (loop.isContiguous(0) && srcType == dstType) {
            ElementBlocks.forElements(n, ElementBlocks.MIN_PER_TASK * 4, (s, e) ->
                    MemorySegment.copy(src, (srcOff + s) * srcBytes, dst, (dstOff + s) * dstBytes, (e - s) * srcBytes));
            return;
        }
        if (loop.rank() == 2 && loop.stride(0, 1) != 1 && loop.stride(0, 0) == 1) {
            transpose(srcType, src, srcOff, loop.dim(0), loop.dim(1), loop.stride(0, 1), dstType, dst, dstOff);
            return;
        }
        long inner = loop.innerStride(0);
        loop.forEachRow((o, is, unused1, unused2, len) ->
                copyRow(srcType, src, srcOff + is, inner, dstType, dst, dstOff + o, len));
    }

    /**
     * dst[i, j] (rows x cols, contiguous) = src[i + j * colStride]: the source is read down its
     * columns, so both sides are walked in TILE x TILE blocks.
     */
    private static void transpose(DType srcType, MemorySegment src, long srcOff, long rows, long cols, long colStride,
                                  DType dstType, MemorySegment dst, long dstOff) {
        long rowTiles = (rows + TILE - 1) / TILE;
        long colTiles = (cols + TILE - 1) / TILE;
        long tiles = rowTiles * colTiles;
        boolean words = srcType == dstType && srcType.byteSize() == 4;
        ElementBlocks.forElements(tiles, Math.max(1, ElementBlocks.MIN_PER_TASK / (TILE * TILE)), (s, e) -> {
            int[] tile = words ? new int[TILE * TILE] : null;
            for (long t = s; t < e; t++) {
                long i0 = (t / colTiles) * TILE;
                long j0 = (t % colTiles) * TILE;
                int h = (int) (Math.min(rows, i0 + TILE) - i0);
                int w = (int) (Math.min(cols, j0 + TILE) - j0);
                if (words) {
                    transposeWordTile(src, srcOff + i0 + j0 * colStride, colStride, dst, dstOff + i0 * cols + j0, cols, h, w, tile);
                } else {
                    for (int i = 0; i < h; i++) {
                        copyRow(srcType, src, srcOff + i0 + i + j0 * colStride, colStride, dstType, dst,
                                dstOff + (i0 + i) * cols + j0, w);
                    }
                }
            }
        });
    }

    /**
     * One h x w tile of 4-byte elements: the source's w contiguous runs of h elements are bulk-read
     * into a heap tile, transposed there (plain array loops, no per-element segment checks), and
     * the destination's h runs of w elements bulk-written.
     */
    private static void transposeWordTile(MemorySegment src, long srcIndex, long colStride, MemorySegment dst, long dstIndex,
                                          long dstRowStride, int h, int w, int[] tile) {
        for (int j = 0; j < w; j++) {
            MemorySegment.copy(src, I32, (srcIndex + j * colStride) * 4, tile, j * TILE, h);
        }
        int[] row = new int[TILE];
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                row[j] = tile[j * TILE + i];
            }
            MemorySegment.copy(row, 0, dst, I32, (dstIndex + i * dstRowStride) * 4, w);
        }
    }

    /** Copies n elements read with element stride {@code stride} into n contiguous elements. */
    private static void copyRow(DType srcType, MemorySegment src, long srcIndex, long stride,
                                DType dstType, MemorySegment dst, long dstIndex, long n) {
        if (srcType == dstType && stride == 1) {
            // A contiguous run (e.g. the head dimension of a permuted [B, T, H, D] view): bulk copy.
            int size = srcType.byteSize();
            MemorySegment.copy(src, srcIndex * size, dst, dstIndex * size, n * size);
            return;
        }
        if (stride == 1 && srcType == DType.F32 && dstType == DType.BF16) {
            f32ToBf16(src, srcIndex, dst, dstIndex, n);
            return;
        }
        if (stride == 1 && srcType == DType.BF16 && dstType == DType.F32) {
            bf16ToF32(src, srcIndex, dst, dstIndex, n);
            return;
        }
        if (srcType == dstType) {
            switch (srcType.byteSize()) {
                case 1 -> {
                    for (long i = 0; i < n; i++) {
                        dst.set(ValueLayout.JAVA_BYTE, dstIndex + i, src.get(ValueLayout.JAVA_BYTE, srcIndex + i * stride));
                    }
                }
                case 2 -> {
                    for (long i = 0; i < n; i++) {
                        dst.setAtIndex(I16, dstIndex + i, src.getAtIndex(I16, srcIndex + i * stride));
                    }
                }
                case 4 -> {
                    for (long i = 0; i < n; i++) {
                        dst.setAtIndex(I32, dstIndex + i, src.getAtIndex(I32, srcIndex + i * stride));
                    }
                }
                default -> {
                    for (long i = 0; i < n; i++) {
                        dst.setAtIndex(I64, dstIndex + i, src.getAtIndex(I64, srcIndex + i * stride));
                    }
                }
            }
            return;
        }
        if (srcType == DType.F32 && dstType == DType.BF16) {
            for (long i = 0; i < n; i++) {
                dst.setAtIndex(I16, dstIndex + i, DType.floatToBf16(src.getAtIndex(F32, srcIndex + i * stride)));
            }
            return;
        }
        if (srcType == DType.BF16 && dstType == DType.F32) {
            for (long i = 0; i < n; i++) {
                dst.setAtIndex(F32, dstIndex + i, DType.bf16ToFloat(src.getAtIndex(I16, srcIndex + i * stride)));
            }
            return;
        }
        if (srcType.isFloatingPoint()) {
            for (long i = 0; i < n; i++) {
                writeFloat(dstType, dst, dstIndex + i, readFloat(srcType, src, srcIndex + i * stride));
            }
        } else {
            for (long i = 0; i < n; i++) {
                writeLong(dstType, dst, dstIndex + i, readLong(srcType, src, srcIndex + i * stride), srcIndex + i * stride);
            }
        }
    }

    private static float readFloat(DType type, MemorySegment seg, long index) {
        return switch (type) {
            case F32 -> seg.getAtIndex(F32, index);
            case BF16 -> DType.bf16ToFloat(seg.getAtIndex(I16, index));
            case F16 -> DType.f16ToFloat(seg.getAtIndex(I16, index));
            default -> throw new AssertionError(type);
        };
    }

    private static long readLong(DType type, MemorySegment seg, long index) {
        return switch (type) {
            case I32 -> seg.getAtIndex(I32, index);
            case I64 -> seg.getAtIndex(I64, index);
            case BOOL -> seg.get(ValueLayout.JAVA_BYTE, index) != 0 ? 1 : 0;
            default -> throw new AssertionError(type);
        };
    }

    private static void writeFloat(DType type, MemorySegment seg, long index, float v) {
        switch (type) {
            case F32 -> seg.setAtIndex(F32, index, v);
            case BF16 -> seg.setAtIndex(I16, index, DType.floatToBf16(v));
            case F16 -> seg.setAtIndex(I16, index, DType.floatToF16(v));
            case I32 -> seg.setAtIndex(I32, index, (int) v);
            case I64 -> seg.setAtIndex(I64, index, (long) v);
            case BOOL -> seg.set(ValueLayout.JAVA_BYTE, index, (byte) (v != 0 ? 1 : 0));
        }
    }

    private static void writeLong(DType type, MemorySegment seg, long index, long v, long srcIndex) {
        switch (type) {
            case F32, BF16, F16 -> writeFloat(type, seg, index, (float) v);
            case I32 -> {
                if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("StridedCopy I64 -> I32: value " + v
                            + " at source element " + srcIndex + " does not fit in I32");
                }
                seg.setAtIndex(I32, index, (int) v);
            }
            case I64 -> seg.setAtIndex(I64, index, v);
            case BOOL -> seg.set(ValueLayout.JAVA_BYTE, index, (byte) (v != 0 ? 1 : 0));
        }
    }

    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    /** Shorts with as many lanes as INTS (half the bits). */
    private static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class, VectorShape.forBitSize(INTS.vectorBitSize() / 2));
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    /**
     * n contiguous f32 to bf16, vectorized; bit-identical to {@link DType#floatToBf16}: round to
     * nearest even by adding 0x7fff plus the lowest kept bit, NaN kept quiet (0x0040 set).
     */
    private static void f32ToBf16(MemorySegment src, long srcIndex, MemorySegment dst, long dstIndex, long n) {
        int lanes = INTS.length();
        long i = 0;
        for (; i + lanes <= n; i += lanes) {
            IntVector bits = IntVector.fromMemorySegment(INTS, src, (srcIndex + i) * 4, ORDER);
            toBf16(bits).intoMemorySegment(dst, (dstIndex + i) * 2, ORDER);
        }
        for (; i < n; i++) {
            dst.setAtIndex(I16, dstIndex + i, DType.floatToBf16(src.getAtIndex(F32, srcIndex + i)));
        }
    }

    private static ShortVector toBf16(IntVector bits) {
        IntVector rounded = bits.add(bits.lanewise(VectorOperators.LSHR, 16).and(1).add(0x7fff)).lanewise(VectorOperators.LSHR, 16);
        IntVector quietNaN = bits.lanewise(VectorOperators.LSHR, 16).or(0x0040);
        VectorMask<Integer> nan = bits.and(0x7fffffff).compare(VectorOperators.GT, 0x7f800000);
        return (ShortVector) rounded.blend(quietNaN, nan).convertShape(VectorOperators.I2S, SHORTS, 0);
    }

    /** n contiguous bf16 to f32 (exact widening: the bits shifted up by 16), vectorized. */
    private static void bf16ToF32(MemorySegment src, long srcIndex, MemorySegment dst, long dstIndex, long n) {
        int lanes = INTS.length();
        long i = 0;
        for (; i + lanes <= n; i += lanes) {
            ShortVector halves = ShortVector.fromMemorySegment(SHORTS, src, (srcIndex + i) * 2, ORDER);
            ((IntVector) halves.convertShape(VectorOperators.ZERO_EXTEND_S2I, INTS, 0)).lanewise(VectorOperators.LSHL, 16)
                    .intoMemorySegment(dst, (dstIndex + i) * 4, ORDER);
        }
        for (; i < n; i++) {
            dst.setAtIndex(F32, dstIndex + i, DType.bf16ToFloat(src.getAtIndex(I16, srcIndex + i)));
        }
    }
}
