package nvlm.model;

import nvlm.tensor.Tensor;

/**
 * Pixel shuffle with ratio 0.5, "v2" order (docs/model.md §3): per tile, [G*G, C] patch features in
 * row-major order become [(G/2)^2, 4C]; output token {@code y2*(G/2)+x2} concatenates
 * {@code in[2y2,2x2], in[2y2,2x2+1], in[2y2+1,2x2], in[2y2+1,2x2+1]} in that order.
 */
public final class PixelShuffle {
    private PixelShuffle() {
    }

    /** features [N, G*G, C] to [N, (G/2)^2, 4C]. */
    public static Tensor apply(Tensor features, int grid) {
        long n = features.size(0);
        long c = features.size(2);
        if (features.size(1) != (long) grid * grid || grid % 2 != 0) {
            throw new IllegalArgumentException("pixel shuffle needs [N, G*G, C] with even G=" + grid + ", got "
                    + java.util.Arrays.toString(features.shape()));
        }
        int h = grid / 2;
        // [N, y2, dy, x2, dx, C] -> [N, y2, x2, dy, dx, C]: dy major, dx minor within each output token.
        return features.reshape(n, h, 2, h, 2, c).permute(0, 1, 3, 2, 4, 5).reshape(n, (long) h * h, 4 * c);
    }
}
