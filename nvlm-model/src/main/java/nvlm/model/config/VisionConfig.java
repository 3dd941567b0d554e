package nvlm.model.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * InternViT (docs/model.md §2): patch P, image S, width C, heads H, layers L, MLP width F, the norm type,
 * qk-normalization, qkv bias and NVLM-D-72B's padded dummy heads.
 */
public record VisionConfig(int imageSize, int patchSize, int hiddenSize, int numHeads, int numLayers,
                           int intermediateSize, String normType, double normEps, boolean qkNormalization,
                           boolean qkvBias, int numDummyHeads) {

    public VisionConfig {
        if (imageSize % patchSize != 0) {
            throw new IllegalArgumentException("vision.image_size " + imageSize + " is not a multiple of vision.patch_size " + patchSize);
        }
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("vision.hidden_size " + hiddenSize + " is not a multiple of vision.num_heads " + numHeads);
        }
        if (!normType.equals("rms_norm") && !normType.equals("layer_norm")) {
            throw new IllegalArgumentException("vision.norm_type must be rms_norm or layer_norm, got " + normType);
        }
    }

    /** Patches per side, G = S / P. */
    public int gridSize() {
        return imageSize / patchSize;
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** Heads including the zero-padded dummy heads. */
    public int paddedHeads() {
        return numHeads + numDummyHeads;
    }

    public boolean rmsNorm() {
        return normType.equals("rms_norm");
    }

    static VisionConfig read(ConfigReader r) {
        return new VisionConfig(r.positive("image_size"), r.positive("patch_size"), r.positive("hidden_size"),
                r.positive("num_heads"), r.positive("num_layers"), r.positive("intermediate_size"),
                r.oneOf("norm_type", "rms_norm", "layer_norm"), r.number("norm_eps", 1e-6),
                r.bool("qk_normalization", false), r.bool("qkv_bias", false), r.integer("num_dummy_heads", 0));
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("image_size", (long) imageSize);
        m.put("patch_size", (long) patchSize);
        m.put("hidden_size", (long) hiddenSize);
        m.put("num_heads", (long) numHeads);
        m.put("num_layers", (long) numLayers);
        m.put("intermediate_size", (long) intermediateSize);
        m.put("norm_type", normType);
        m.put("norm_eps", normEps);
        m.put("qk_normalization", qkNormalization);
        m.put("qkv_bias", qkvBias);
        m.put("num_dummy_heads", (long) numDummyHeads);
        return m;
    }
}
