package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import nvlm.kernels.AttentionMask;
import nvlm.kernels.AttentionShape;

/**
 * Checks every argument of {@link Attention} and {@link AttentionReference} before a single byte is
 * touched, so a bad view fails with its name instead of an out-of-bounds access deep in a kernel.
 */
final class AttentionArguments {
    private AttentionArguments() {
    }

    static void checkForward(AttentionShape s, HeadView q, HeadView k, HeadView v,
                             MemorySegment mask, long maskOffset, long maskBatchStride, long maskRowStride,
                             HeadView out, MemorySegment lse, long lseOffset) {
        if (s == null) {
            throw new IllegalArgumentException("shape must not be null");
        }
        checkView("q", q, s.batch(), s.qHeads(), s.qLen(), s.headDim(), false);
        checkView("k", k, s.batch(), s.kvHeads(), s.kvLen(), s.headDim(), false);
        checkView("v", v, s.batch(), s.kvHeads(), s.kvLen(), s.headDim(), false);
        checkMask(s, mask, maskOffset, maskBatchStride, maskRowStride);
        checkView("out", out, s.batch(), s.qHeads(), s.qLen(), s.headDim(), true);
        checkLse(s, lse, lseOffset, true);
    }

    static void checkBackward(AttentionShape s, HeadView q, HeadView k, HeadView v,
                              MemorySegment mask, long maskOffset, long maskBatchStride, long maskRowStride,
                              HeadView out, MemorySegment lse, long lseOffset, HeadView dOut,
                              HeadView dq, HeadView dk, HeadView dv) {
        if (s == null) {
            throw new IllegalArgumentException("shape must not be null");
        }
        checkView("q", q, s.batch(), s.qHeads(), s.qLen(), s.headDim(), false);
        checkView("k", k, s.batch(), s.kvHeads(), s.kvLen(), s.headDim(), false);
        checkView("v", v, s.batch(), s.kvHeads(), s.kvLen(), s.headDim(), false);
        checkMask(s, mask, maskOffset, maskBatchStride, maskRowStride);
        checkView("out", out, s.batch(), s.qHeads(), s.qLen(), s.headDim(), false);
        checkLse(s, lse, lseOffset, false);
        checkView("dOut", dOut, s.batch(), s.qHeads(), s.qLen(), s.headDim(), false);
        checkView("dq", dq, s.batch(), s.qHeads(), s.qLen(), s.headDim(), true);
        checkView("dk", dk, s.batch(), s.kvHeads(), s.kvLen(), s.headDim(), true);
        checkView("dv", dv, s.batch(), s.kvHeads(), s.kvLen(), s.headDim(), true);
    }

    /** The view must address [batch, heads, seq, headDim] floats inside its segment, last dim contiguous. */
    static void checkView(String name, HeadView view, int batch, int heads, int seq, int headDim, boolean written) {
        if (view == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (view.data() == null) {
            throw new IllegalArgumentException(name + ".data must not be null");
        }
        if (view.offset() < 0 || view.batchStride() < 0 || view.headStride() < 0 || view.seqStride() < 0) {
            throw new IllegalArgumentException(name
                    + ": offset and strides must be >= 0 (the last dim has stride 1), got " + view);
        }
        if (written && view.data().isReadOnly()) {
            throw new IllegalArgumentException(name + " is written but its segment is read-only");
        }
        if (seq == 0) {
            return;
        }
        long last;
        try {
            last = Math.addExact(view.offset(), Math.addExact(
                    Math.addExact(Math.multiplyExact(batch - 1L, view.batchStride()),
                            Math.multiplyExact(heads - 1L, view.headStride())),
                    Math.addExact(Math.multiplyExact(seq - 1L, view.seqStride()), headDim - 1L)));
            last = Math.multiplyExact(Math.addExact(last, 1L), (long) Float.BYTES);
        } catch (ArithmeticException overflow) {
            throw new IllegalArgumentException(name + ": addressed range overflows a long for [" + batch + ", " + heads
                    + ", " + seq + ", " + headDim + "] with " + view);
        }
        if (last > view.data().byteSize()) {
            throw new IllegalArgumentException(name + ": [" + batch + ", " + heads + ", " + seq + ", " + headDim
                    + "] with offset " + view.offset() + " and strides (" + view.batchStride() + ", "
                    + view.headStride() + ", " + view.seqStride() + ", 1) needs " + last
                    + " bytes but the segment has " + view.data().byteSize());
        }
    }

    static void checkLse(AttentionShape s, MemorySegment lse, long lseOffset, boolean written) {
        if (lse == null) {
            throw new IllegalArgumentException("lse must not be null");
        }
        if (lseOffset < 0) {
            throw new IllegalArgumentException("lseOffset must be >= 0, got " + lseOffset);
        }
        if (written && lse.isReadOnly()) {
            throw new IllegalArgumentException("lse is written but its segment is read-only");
        }
        long count = (long) s.batch() * s.qHeads() * s.qLen();
        long needed;
        try {
            needed = Math.multiplyExact(Math.addExact(lseOffset, count), (long) Float.BYTES);
        } catch (ArithmeticException overflow) {
            throw new IllegalArgumentException("lse: offset " + lseOffset + " overflows a long");
        }
        if (needed > lse.byteSize()) {
            throw new IllegalArgumentException("lse: [" + s.batch() + ", " + s.qHeads() + ", " + s.qLen()
                    + "] floats at offset " + lseOffset + " need " + needed + " bytes but the segment has "
                    + lse.byteSize());
        }
    }

    static void checkMask(AttentionShape s, MemorySegment mask, long maskOffset, long maskBatchStride,
                          long maskRowStride) {
        if (s.mask() != AttentionMask.EXPLICIT) {
            return;
        }
        if (mask == null) {
            throw new IllegalArgumentException("mask must not be null when the shape's mask is EXPLICIT");
        }
        if (maskOffset < 0 || maskBatchStride < 0 || maskRowStride < 0) {
            throw new IllegalArgumentException("mask: offset and strides must be >= 0, got offset " + maskOffset
                    + ", batchStride " + maskBatchStride + ", rowStride " + maskRowStride);
        }
        if (s.qLen() == 0 || s.kvLen() == 0) {
            return;
        }
        long last;
        try {
            last = Math.addExact(maskOffset, Math.addExact(Math.multiplyExact(s.batch() - 1L, maskBatchStride),
                    Math.addExact(Math.multiplyExact(s.qLen() - 1L, maskRowStride), (long) s.kvLen())));
        } catch (ArithmeticException overflow) {
            throw new IllegalArgumentException("mask: addressed range overflows a long");
        }
        if (last > mask.byteSize()) {
            throw new IllegalArgumentException("mask: [" + s.batch() + ", " + s.qLen() + ", " + s.kvLen()
                    + "] bytes at offset " + maskOffset + " with strides (" + maskBatchStride + ", " + maskRowStride
                    + ", 1) need " + last + " bytes but the segment has " + mask.byteSize());
        }
    }
}
