package nvlm.kernels;

/**
 * Sizes of one attention call: q is [batch, qHeads, qLen, headDim], k and v are
 * [batch, kvHeads, kvLen, headDim]; query head h reads kv head h / (qHeads / kvHeads) (GQA).
 * {@code qLen} or {@code kvLen} may be 0 (an empty cross-attention memory: every row gets 0).
 */
public record AttentionShape(int batch, int qHeads, int kvHeads, int qLen, int kvLen, int headDim, float scale,
                             AttentionMask mask) {

    public AttentionShape {
        if (batch <= 0) {
            throw new IllegalArgumentException("AttentionShape.batch must be > 0, got " + batch);
        }
        if (qHeads <= 0 || kvHeads <= 0) {
            throw new IllegalArgumentException(
                    "AttentionShape.qHeads and kvHeads must be > 0, got qHeads=" + qHeads + " kvHeads=" + kvHeads);
        }
        if (qHeads % kvHeads != 0) {
            throw new IllegalArgumentException("AttentionShape.qHeads (" + qHeads
                    + ") must be a multiple of kvHeads (" + kvHeads + ") for grouped-query attention");
        }
        if (qLen < 0 || kvLen < 0) {
            throw new IllegalArgumentException(
                    "AttentionShape.qLen and kvLen must be >= 0, got qLen=" + qLen + " kvLen=" + kvLen);
        }
        if (headDim <= 0) {
            throw new IllegalArgumentException("AttentionShape.headDim must be > 0, got " + headDim);
        }
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException("AttentionShape.scale must be finite, got " + scale);
        }
        if (mask == null) {
            throw new IllegalArgumentException("AttentionShape.mask must not be null (use AttentionMask.NONE)");
        }
    }

    /** Query heads per kv head. */
    public int group() {
        return qHeads / kvHeads;
    }

    /** Causal offset: query i sees key j iff j <= i + causalOffset(). */
    public int causalOffset() {
        return kvLen - qLen;
    }
}
