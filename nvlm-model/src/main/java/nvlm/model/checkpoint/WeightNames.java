package nvlm.model.checkpoint;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import nvlm.model.config.NvlmConfig;
import nvlm.tensor.Tensor;

/**
 * Checkpoint names to this project's names (docs/model.md §9). Those names (InternVL's original
 * remote-code layout, as NVLM-D-72B ships) pass unchanged; transformers' native InternVL layout
 * ({@code model.vision_tower.*}, {@code model.multi_modal_projector.*},
 * {@code model.language_model.*}, split q/k/v in the vision attention) is mapped one to one,
 * the split vision q/k/v rows concatenated back into {@code attn.qkv}. A bare {@code Qwen2ForCausalLM}
 * folder stores the decoder at the top ({@code model.layers.*}, {@code lm_head.weight}): those are
 * the {@code language_model.} names without the prefix ({@link #storedName}).
 */
public final class WeightNames {
    private WeightNames() {
    }

    private record Rule(Pattern from, String to) {
    }

    private static Rule rule(String from, String to) {
        return new Rule(Pattern.compile(from), to);
    }

    /** transformers InternVL name -> docs/model.md §9 name (regex, replacement). */
    private static final List<Rule> TRANSFORMERS = List.of(
            rule("^model\\.vision_tower\\.embeddings\\.cls_token$", "vision_model.embeddings.class_embedding"),
            rule("^model\\.vision_tower\\.embeddings\\.patch_embeddings\\.projection\\.(weight|bias)$",
                    "vision_model.embeddings.patch_embedding.$1"),
            rule("^model\\.vision_tower\\.embeddings\\.position_embeddings$", "vision_model.embeddings.position_embedding"),
            rule("^model\\.vision_tower\\.encoder\\.layer\\.(\\d+)\\.attention\\.projection_layer\\.(weight|bias)$",
                    "vision_model.encoder.layers.$1.attn.proj.$2"),
            rule("^model\\.vision_tower\\.encoder\\.layer\\.(\\d+)\\.attention\\.(q_norm|k_norm)\\.weight$",
                    "vision_model.encoder.layers.$1.attn.$2.weight"),
            rule("^model\\.vision_tower\\.encoder\\.layer\\.(\\d+)\\.lambda_1$", "vision_model.encoder.layers.$1.ls1"),
            rule("^model\\.vision_tower\\.encoder\\.layer\\.(\\d+)\\.lambda_2$", "vision_model.encoder.layers.$1.ls2"),
            rule("^model\\.vision_tower\\.encoder\\.layer\\.(\\d+)\\.mlp\\.(fc1|fc2)\\.(weight|bias)$",
                    "vision_model.encoder.layers.$1.mlp.$2.$3"),
            rule("^model\\.vision_tower\\.encoder\\.layer\\.(\\d+)\\.layernorm_before\\.(weight|bias)$",
                    "vision_model.encoder.layers.$1.norm1.$2"),
            rule("^model\\.vision_tower\\.encoder\\.layer\\.(\\d+)\\.layernorm_after\\.(weight|bias)$",
                    "vision_model.encoder.layers.$1.norm2.$2"),
            rule("^model\\.multi_modal_projector\\.layer_norm\\.(weight|bias)$", "mlp1.0.$1"),
            rule("^model\\.multi_modal_projector\\.linear_1\\.(weight|bias)$", "mlp1.1.$1"),
            rule("^model\\.multi_modal_projector\\.linear_2\\.(weight|bias)$", "mlp1.3.$1"),
            rule("^model\\.language_model\\.(.*)$", "language_model.model.$1"),
            rule("^model\\.((?:embed_tokens|layers|norm)\\..*)$", "language_model.model.$1"),
            rule("^lm_head\\.weight$", "language_model.lm_head.weight"));

    private static final Pattern SPLIT_QKV = Pattern.compile(
            "^model\\.vision_tower\\.encoder\\.layer\\.(\\d+)\\.attention\\.([qkv])_proj\\.(weight|bias)$");

    private static final String DECODER_PREFIX = "language_model.";

    /**
     * The name a published folder of {@code config} stores parameter {@code name} under: the name
     * itself, or for a text-only model (a bare Qwen2 folder) the name without {@code language_model.}.
     */
    public static String storedName(NvlmConfig config, String name) {
        if (config.hasVision()) {
            return name;
        }
        if (!name.startsWith(DECODER_PREFIX)) {
            throw new IllegalArgumentException("parameter " + name + " of a text-only model is not under " + DECODER_PREFIX);
        }
        return name.substring(DECODER_PREFIX.length());
    }

    /** Renames (and re-fuses vision q/k/v) so the result uses only docs/model.md §9 names. */
    public static Map<String, Tensor> toSpecNames(Map<String, Tensor> weights, NvlmConfig config) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        Map<String, Tensor[]> split = new LinkedHashMap<>();
        for (var e : weights.entrySet()) {
            String name = e.getKey();
            Matcher m = SPLIT_QKV.matcher(name);
            if (m.matches()) {
                String fused = "vision_model.encoder.layers." + m.group(1) + ".attn.qkv." + m.group(3);
                int part = "qkv".indexOf(m.group(2).charAt(0));
                split.computeIfAbsent(fused, k -> new Tensor[3])[part] = e.getValue();
                continue;
            }
            out.put(rename(name), e.getValue());
        }
        split.forEach((fused, parts) -> {
            for (int i = 0; i < 3; i++) {
                if (parts[i] == null) {
                    throw new IllegalArgumentException("checkpoint has some but not all of the split vision q/k/v tensors for "
                            + fused + " (missing the " + "qkv".charAt(i) + "_proj part)");
                }
            }
            out.put(fused, Tensor.cat(0, parts[0], parts[1], parts[2]));
        });
        return out;
    }

    static String rename(String name) {
        for (Rule r : TRANSFORMERS) {
            Matcher m = r.from().matcher(name);
            if (m.matches()) {
                return m.replaceFirst(r.to());
            }
        }
        return name;
    }
}
