package nvlm.model.checkpoint;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import nvlm.kernels.DType;
import nvlm.model.config.NvlmConfig;

/** Shrunk random-weight folders in the published layouts, for tests. */
final class PublishedFolders {
    private PublishedFolders() {
    }

    static Path published(String name) {
        try {
            return Path.of(PublishedFolders.class.getResource("/published/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    @SuppressWarnings("unchecked")
    static void shrink(Map<String, Object> root, int visionHeads, boolean nvlm) {
        Map<String, Object> v = (Map<String, Object>) root.get("vision_config");
        v.put("hidden_size", 16L * visionHeads);
        v.put("num_attention_heads", (long) visionHeads);
        v.put("num_hidden_layers", 2L);
        v.put("intermediate_size", 96L);
        Map<String, Object> l = (Map<String, Object>) root.get("llm_config");
        l.put("hidden_size", 64L);
        l.put("num_attention_heads", 4L);
        l.put("num_key_value_heads", 2L);
        l.put("num_hidden_layers", 2L);
        l.put("intermediate_size", nvlm ? 160L : 128L);
        if (nvlm) {
            // NVLM-D's dynamic NTK RoPE (factor 3): prompts of a few hundred tokens pass the trained
            // length of 128 and stay within the context length of 3 x 128, so the scaling is exercised.
            l.put("max_position_embeddings", 128L);
        }
        root.put("max_dynamic_patch", 2L);
    }

    /** InternVL2-1B's layout: LayerNorm ViT with qkv bias, Qwen2 decoder, mlp1 with biases, its slow tokenizer files. */
    static NvlmConfig internVl(Path dir, DType dtype, long shardBytes) throws IOException {
        return RandomPublishedFolder.write(dir, published("internvl2-1b"), r -> shrink(r, 4, false), dtype, 7, shardBytes);
    }

    /** NVLM-D-72B's layout: RMSNorm ViT with qk-norm and dummy heads (5 + 3), "llama" decoder with dynamic NTK, bias-free mlp1. */
    static NvlmConfig nvlmD(Path dir, DType dtype, long shardBytes) throws IOException {
        return RandomPublishedFolder.write(dir, published("nvlm-d-72b"), r -> shrink(r, 5, true), dtype, 11, shardBytes);
    }

    /**
     * A bare Qwen2 text model: InternVL2-1B's {@code llm_config} (Qwen2-0.5B-Instruct's published
     * config, {@code Qwen2ForCausalLM}) as the whole config.json, shrunk, with its tokenizer files.
     */
    @SuppressWarnings("unchecked")
    static NvlmConfig qwen2(Path dir, DType dtype, long shardBytes, boolean tied) throws IOException {
        return RandomPublishedFolder.write(dir, published("internvl2-1b"), root -> {
            Map<String, Object> llm = (Map<String, Object>) root.get("llm_config");
            root.clear();
            root.putAll(llm);
            root.put("hidden_size", 64L);
            root.put("num_attention_heads", 4L);
            root.put("num_key_value_heads", 2L);
            root.put("num_hidden_layers", 2L);
            root.put("intermediate_size", 128L);
            root.put("tie_word_embeddings", tied);
        }, dtype, 13, shardBytes);
    }
}
