package nvlm.model.vision;

import java.util.random.RandomGenerator;
import nvlm.model.config.VisionConfig;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Init;
import nvlm.tensor.nn.Module;
import nvlm.tensor.nn.Parameter;

/**
 * Patch embedding, CLS token and position embedding (docs/model.md §2). The P x P stride-P convolution is
 * computed as a linear map over each patch flattened in (channel, ky, kx) order; its weight
 * keeps the checkpoint's conv shape [C, 3, P, P].
 */
public final class VisionEmbeddings extends Module {
    private final VisionConfig config;
    private final Parameter classEmbedding;
    private final Parameter patchEmbeddingWeight;
    private final Parameter patchEmbeddingBias;
    private final Parameter positionEmbedding;

    public VisionEmbeddings(VisionConfig config, RandomGenerator rng) {
        this.config = config;
        int c = config.hiddenSize();
        int p = config.patchSize();
        int g = config.gridSize();
        this.classEmbedding = parameter("class_embedding", Init.normal(rng, 0.02, 1, 1, c));
        double bound = 1 / Math.sqrt(3.0 * p * p);
        this.patchEmbeddingWeight = parameter("patch_embedding.weight", Init.uniform(rng, bound, c, 3, p, p));
        this.patchEmbeddingBias = parameter("patch_embedding.bias", Init.uniform(rng, bound, c));
        this.positionEmbedding = parameter("position_embedding", Init.normal(rng, 0.02, 1, 1L + (long) g * g, c));
    }

    /** pixel_values [N, 3, S, S] to [N, 1 + G*G, C]. */
    public Tensor forward(Tensor pixels) {
        long n = pixels.size(0);
        int s = config.imageSize();
        int p = config.patchSize();
        int g = config.gridSize();
        int c = config.hiddenSize();
        if (pixels.dim() != 4 || pixels.size(1) != 3 || pixels.size(2) != s || pixels.size(3) != s) {
            throw new IllegalArgumentException("pixel_values must be [N, 3, " + s + ", " + s + "], got "
                    + java.util.Arrays.toString(pixels.shape()));
        }
        // [N, 3, G, P, G, P] -> [N, G, G, 3, P, P]: patches row-major, each flattened (channel, ky, kx).
        Tensor patches = pixels.reshape(n, 3, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(n, (long) g * g, 3L * p * p);
        Tensor tokens = F.linear(patches, patchEmbeddingWeight.value().reshape(c, 3L * p * p), patchEmbeddingBias.value());
        Tensor cls = classEmbedding.value().expand(n, 1, c);
        return Tensor.cat(1, cls, tokens).add(positionEmbedding.value());
    }

    public Parameter positionEmbedding() {
        return positionEmbedding;
    }
}
