package nvlm.model.vision;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import nvlm.model.config.VisionConfig;
import nvlm.tensor.MemoryScope;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Module;
import nvlm.tensor.nn.ModuleList;

/**
 * The InternViT vision encoder (docs/model.md §2), in either flavour: 6B style (RMSNorm, qk-norm, no qkv
 * bias) or 300M style (LayerNorm, qkv bias). Output: the last block's hidden states without CLS,
 * [N, G*G, C]. There is no final norm.
 */
public final class InternViT extends Module {
    private final VisionConfig config;
    private final VisionEmbeddings embeddings;
    private final ModuleList<VisionBlock> layers;

    public InternViT(VisionConfig config, RandomGenerator rng) {
        this.config = config;
        this.embeddings = child("embeddings", new VisionEmbeddings(config, rng));
        List<VisionBlock> blocks = new ArrayList<>();
        for (int l = 0; l < config.numLayers(); l++) {
            blocks.add(new VisionBlock(config, rng));
        }
        Encoder encoder = child("encoder", new Encoder(blocks));
        this.layers = encoder.layers;
    }

    /** Holds the blocks under {@code encoder.layers.<l>} (docs/model.md §9 names). */
    static final class Encoder extends Module {
        final ModuleList<VisionBlock> layers;

        Encoder(List<VisionBlock> blocks) {
            this.layers = child("layers", new ModuleList<>(blocks));
        }
    }

    public VisionConfig config() {
        return config;
    }

    /** pixel_values [N, 3, S, S] to patch features [N, G*G, C]. */
    public Tensor forward(Tensor pixels) {
        Tensor x = embeddings.forward(pixels);
        for (VisionBlock block : layers) {
            Tensor in = x;
            x = MemoryScope.block(() -> block.forward(in));
        }
        return x.narrow(1, 1, x.size(1) - 1);
    }
}
