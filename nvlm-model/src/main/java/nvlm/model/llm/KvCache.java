package nvlm.model.llm;

import nvlm.kernels.DType;
import nvlm.tensor.Device;
import nvlm.tensor.GradMode;
import nvlm.tensor.Tensor;

/**
 * Keys and values of every decoder layer for incremental decoding: preallocated
 * [batch, kvHeads, capacity, headDim] buffers, filled position by position.
 */
public final class KvCache {
    private final Tensor[] keys;
    private final Tensor[] values;
    private final int capacity;
    private int length;

    public KvCache(int layers, long batch, int kvHeads, int capacity, int headDim, Device device) {
        this.keys = new Tensor[layers];
        this.values = new Tensor[layers];
        this.capacity = capacity;
        for (int i = 0; i < layers; i++) {
            keys[i] = Tensor.zeros(device, DType.F32, batch, kvHeads, capacity, headDim);
            values[i] = Tensor.zeros(device, DType.F32, batch, kvHeads, capacity, headDim);
        }
    }

    /** Tokens already cached (the position of the next token). */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /**
     * Stores new keys and values [B, kvHeads, T, hd] of {@code layer} after the cached ones and
     * returns views of all cached positions, [B, kvHeads, length + T, hd].
     */
    Tensor[] append(int layer, Tensor k, Tensor v) {
        long t = k.size(2);
        if (length + t > capacity) {
            throw new IllegalStateException("KV cache full: " + length + " + " + t + " tokens exceed its capacity "
                    + capacity + "; create a larger cache (max new tokens)");
        }
        try (var noGrad = GradMode.disabled()) {
            keys[layer].narrow(2, length, t).copy_(k);
            values[layer].narrow(2, length, t).copy_(v);
            return new Tensor[] {keys[layer].narrow(2, 0, length + t), values[layer].narrow(2, 0, length + t)};
        }
    }

    /** Called once every layer has appended the same tokens. */
    void advance(int tokens) {
        length += tokens;
    }
}
