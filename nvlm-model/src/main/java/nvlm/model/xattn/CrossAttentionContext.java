package nvlm.model.xattn;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import nvlm.tensor.Tensor;

/**
 * What the gated cross-attention blocks read for one batch (docs/model.md §7, §10): the memory tokens
 * [B, Lm, d] of every row's images, which memory entries each position may attend
 * (BOOL [B, T, Lm]), and the row mask [B, T, 1] (1 where that set is non-empty, else 0, so a
 * position with no image passes through every block unchanged).
 *
 * <p>During generation the memory's keys and values are computed once per block and kept
 * ({@link #keysAndValues}); the masks are then replaced per decoding step with
 * {@link #withMasks}.
 */
public final class CrossAttentionContext {
    private final Tensor memory;
    private final Tensor mask;
    private final Tensor rowMask;
    private final Map<Integer, Tensor[]> kvCache;

    private CrossAttentionContext(Tensor memory, Tensor mask, Tensor rowMask, Map<Integer, Tensor[]> kvCache) {
        this.memory = memory;
        this.mask = mask;
        this.rowMask = rowMask;
        this.kvCache = kvCache;
    }

    /** A context for one forward pass (keys and values recomputed by each block, with gradients). */
    public static CrossAttentionContext of(Tensor memory, Tensor mask, Tensor rowMask) {
        return new CrossAttentionContext(memory, mask, rowMask, null);
    }

    /** A context that keeps each block's memory keys and values for reuse across decoding steps. */
    public static CrossAttentionContext cached(Tensor memory, Tensor mask, Tensor rowMask) {
        return new CrossAttentionContext(memory, mask, rowMask, new HashMap<>());
    }

    /** The same memory (and cached keys/values) with masks for new positions. */
    public CrossAttentionContext withMasks(Tensor newMask, Tensor newRowMask) {
        return new CrossAttentionContext(memory, newMask, newRowMask, kvCache);
    }

    public Tensor memory() {
        return memory;
    }

    public Tensor mask() {
        return mask;
    }

    public Tensor rowMask() {
        return rowMask;
    }

    Tensor[] keysAndValues(int block, Supplier<Tensor[]> compute) {
        return kvCache == null ? compute.get() : kvCache.computeIfAbsent(block, b -> compute.get());
    }
}
