package nvlm.model.checkpoint;

import java.util.Map;
import nvlm.model.config.NvlmConfig;
import nvlm.tensor.Tensor;

/**
 * Resizes a checkpoint's ViT position embedding to the model's patch grid (docs/model.md §2): the CLS
 * entry is kept, the G0 x G0 patch part is resized bicubically to G x G exactly as
 * {@code torch.nn.functional.interpolate(mode="bicubic", align_corners=False)} does
 * (cubic convolution with A = -0.75, edge samples clamped), which is what InternVL uses.
 */
final class PositionEmbedding {
    static final String NAME = "vision_model.embeddings.position_embedding";
    private static final double A = -0.75;

    private PositionEmbedding() {
    }

    static void resizeIfNeeded(Map<String, Tensor> weights, NvlmConfig config) {
        Tensor pos = weights.get(NAME);
        if (pos == null || pos.dim() != 3) {
            return;
        }
        int g = config.vision().gridSize();
        long entries = pos.size(1) - 1;
        int g0 = (int) Math.round(Math.sqrt(entries));
        if (g0 == g || (long) g0 * g0 != entries) {
            return; // same grid, or not a square grid: left for the shape check to report
        }
        int c = (int) pos.size(2);
        float[] all = pos.toFloatArray();
        float[] out = new float[(1 + g * g) * c];
        System.arraycopy(all, 0, out, 0, c);
        float[] resized = resize(java.util.Arrays.copyOfRange(all, c, all.length), g0, g, c);
        System.arraycopy(resized, 0, out, c, resized.length);
        weights.put(NAME, Tensor.of(out, 1, 1L + (long) g * g, c));
    }

    /** Bicubic resize of a [in, in, c] grid (row-major, channels last) to [out, out, c]. */
    static float[] resize(float[] grid, int in, int out, int c) {
        float[] rows = new float[in * out * c];  // resize along x first: [in, out, c]
        for (int y = 0; y < in; y++) {
            for (int x = 0; x < out; x++) {
                double[] w = new double[4];
                int[] idx = new int[4];
                taps(x, in, out, w, idx);
                for (int ch = 0; ch < c; ch++) {
                    double s = 0;
                    for (int k = 0; k < 4; k++) {
                        s += w[k] * grid[(y * in + idx[k]) * c + ch];
                    }
                    rows[(y * out + x) * c + ch] = (float) s;
                }
            }
        }
        float[] result = new float[out * out * c];
        for (int y = 0; y < out; y++) {
            double[] w = new double[4];
            int[] idx = new int[4];
            taps(y, in, out, w, idx);
            for (int x = 0; x < out; x++) {
                for (int ch = 0; ch < c; ch++) {
                    double s = 0;
                    for (int k = 0; k < 4; k++) {
                        s += w[k] * rows[(idx[k] * out + x) * c + ch];
                    }
                    result[(y * out + x) * c + ch] = (float) s;
                }
            }
        }
        return result;
    }

    private static void taps(int dst, int in, int out, double[] weights, int[] index) {
        double scale = (double) in / out;
        double src = (dst + 0.5) * scale - 0.5;
        int base = (int) Math.floor(src);
        double t = src - base;
        for (int k = 0; k < 4; k++) {
            index[k] = Math.min(Math.max(base - 1 + k, 0), in - 1);
            weights[k] = cubic(t - (k - 1));
        }
    }

    private static double cubic(double x) {
        double a = Math.abs(x);
        if (a <= 1) {
            return ((A + 2) * a - (A + 3)) * a * a + 1;
        }
        if (a < 2) {
            return ((A * a - 5 * A) * a + 8 * A) * a - 4 * A;
        }
        return 0;
    }
}
