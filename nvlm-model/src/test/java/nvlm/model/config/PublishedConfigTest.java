package nvlm.model.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import nvlm.tensor.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json as NVLM-D-72B and InternVL2-1B publish it, read onto the project's config. */
class PublishedConfigTest {
    @TempDir
    Path tmp;

    static Path published(String name) {
        try {
            return Path.of(PublishedConfigTest.class.getResource("/published/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void nvlmD72bIsInternViT6bWithDummyHeadsAndAQwen2DecoderWithDynamicNtk() throws IOException {
        Path dir = published("nvlm-d-72b");
        assertTrue(PublishedConfig.isPublished(dir));
        PublishedConfig p = PublishedConfig.read(dir);
        assertEquals("NVLM_D", p.modelType());
        assertEquals("chatml", p.template());
        NvlmConfig c = p.config();
        assertEquals(Architecture.D, c.architecture());
        assertEquals(new VisionConfig(448, 14, 3200, 25, 45, 12800, "rms_norm", 1e-6, true, false, 7), c.vision());
        assertEquals(new LlmConfig(8192, 80, 64, 8, 29568, 152064, 1e-6, 1e6, false, 3.0, 32768), c.llm());
        assertEquals(new NvlmConfig.ProjectorConfig(29568, false), c.projector());
        assertEquals(new NvlmConfig.TilingConfig(1, 6, true, "1d"), c.tiling());
        assertEquals(new SpecialTokens(151654, 151643, 151645), c.tokens());
        assertEquals(256, c.tokensPerTile());
    }

    @Test
    void internVl2OneBIsInternViT300mWithQwen2HalfBAndNoTileTags() throws IOException {
        PublishedConfig p = PublishedConfig.read(published("internvl2-1b"));
        assertEquals("Hermes-2", p.template());
        NvlmConfig c = p.config();
        assertEquals(new VisionConfig(448, 14, 1024, 16, 24, 4096, "layer_norm", 1e-6, false, true, 0), c.vision());
        assertEquals(new LlmConfig(896, 24, 14, 2, 4864, 151655, 1e-6, 1e6, false, 1.0, 32768), c.llm());
        assertEquals(new NvlmConfig.ProjectorConfig(896, true), c.projector());
        assertEquals(new NvlmConfig.TilingConfig(1, 12, true, "none"), c.tiling());
        assertEquals(151648, c.tokens().imageContext());
    }

    @Test
    void dynamicNtkIsInactiveUpToTheTrainedLengthAndGrowsTheBaseBeyond() throws IOException {
        LlmConfig llm = PublishedConfig.read(published("nvlm-d-72b")).config().llm();
        assertEquals(1e6, llm.ropeTheta(1), 0);
        assertEquals(1e6, llm.ropeTheta(32768), 0);
        // transformers: base * (factor * L / max - (factor - 1)) ^ (dim / (dim - 2)), dim = 128.
        double expected = 1e6 * Math.pow(3.0 * 65536 / 32768 - 2.0, 128.0 / 126.0);
        assertEquals(expected, llm.ropeTheta(65536), expected * 1e-12);
        assertFalse(new LlmConfig(64, 1, 4, 2, 128, 100, 1e-6, 1e6, false).ropeTheta(1 << 20) != 1e6);
    }

    private Path edited(String model, Consumer<Map<String, Object>> edit) throws IOException {
        Path dir = tmp.resolve(model + "-edited");
        Files.createDirectories(dir);
        Path src = published(model);
        Map<String, Object> root = Json.parseObject(Files.readString(src.resolve("config.json")));
        edit.accept(root);
        Files.writeString(dir.resolve("config.json"), Json.write(root));
        Files.copy(src.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return dir;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> llm(Map<String, Object> root) {
        return (Map<String, Object>) root.get("llm_config");
    }

    private void refused(Path dir, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PublishedConfig.read(dir));
        assertTrue(e.getMessage().contains(dir.resolve("config.json").toString()), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        }
    }

    @Test
    void unsupportedValuesAreRefusedWithTheFileTheFieldAndWhatIsSupported() throws IOException {
        refused(edited("nvlm-d-72b", r -> llm(r).put("rope_scaling", Map.of("type", "linear", "factor", 2.0))),
                "llm_config.rope_scaling.type", "dynamic", "linear");
        refused(edited("nvlm-d-72b", r -> r.put("ps_version", "v1")), "ps_version", "v2");
        refused(edited("nvlm-d-72b", r -> r.put("template", "vicuna_v1.1")), "template", "chatml, Hermes-2");
        refused(edited("nvlm-d-72b", r -> llm(r).put("attention_bias", false)), "llm_config.attention_bias");
        refused(edited("internvl2-1b", r -> llm(r).put("architectures", java.util.List.of("InternLM2ForCausalLM"))),
                "llm_config.architectures", "Qwen2ForCausalLM");
        refused(edited("internvl2-1b", r -> r.put("model_type", "llava")), "model_type", "NVLM_D, internvl_chat");
        refused(edited("internvl2-1b", r -> r.put("downsample_ratio", 0.25)), "downsample_ratio");
        refused(edited("internvl2-1b", r -> llm(r).put("use_sliding_window", true)), "llm_config.use_sliding_window");
    }

    @Test
    void theProjectsOwnConfigIsNotPublished() throws IOException {
        Files.writeString(tmp.resolve("config.json"), Presets.get("tiny", Architecture.D).toJson());
        assertFalse(PublishedConfig.isPublished(tmp));
    }
}
