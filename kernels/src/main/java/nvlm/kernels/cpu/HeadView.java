package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;

/**
 * A [batch, heads, seq, headDim] f32 tensor (native byte order) addressed by element strides;
 * the last dim is contiguous (stride 1). {@code offset} and the strides count floats, not bytes.
 *
 * <p>Strides are free, so a view can read q, k or v straight out of a [B, T, H, D] activation
 * (seqStride = H*D, headStride = D) or out of a packed qkv projection without a copy.
 */
public record HeadView(MemorySegment data, long offset, long batchStride, long headStride, long seqStride) {

    /** A contiguous [batch, heads, seq, headDim] view starting at {@code offset}. */
    public static HeadView contiguous(MemorySegment data, long offset, int heads, int seq, int headDim) {
        long seqStride = headDim;
        long headStride = seqStride * seq;
        return new HeadView(data, offset, headStride * heads, headStride, seqStride);
    }

    /** Element index (in floats) of [batch, head, position, 0]. */
    long rowIndex(int batch, int head, int position) {
        return offset + batch * batchStride + head * headStride + position * seqStride;
    }
}
