package nvlm.model.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import nvlm.kernels.DType;
import nvlm.model.Batch;
import nvlm.model.Generator;
import nvlm.model.Nvlm;
import nvlm.model.prompt.BatchArrays;
import nvlm.model.prompt.ChatTemplate;
import nvlm.model.prompt.Message;
import nvlm.model.prompt.PromptImage;
import nvlm.model.prompt.Sample;
import nvlm.model.tiling.DynamicTiler;
import nvlm.model.tiling.TagMode;
import nvlm.model.tiling.RgbImage;
import nvlm.tensor.Device;
import nvlm.tensor.GradMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bare {@code Qwen2ForCausalLM} folder (the decoder alone, names without {@code language_model.}) loads as published, text only. */
class Qwen2FolderTest {
    @TempDir
    Path tmp;

    private static float[] logits(Nvlm model, Batch batch) {
        try (var noGrad = GradMode.disabled()) {
            return model.forward(batch).logits().toFloatArray();
        }
    }

    @Test
    void bareQwen2FolderIsATextOnlyDecoderWhoseMappedLogitsEqualTheF32CopyPath() throws IOException {
        Path dir = tmp.resolve("qwen2");
        PublishedFolders.qwen2(dir, DType.BF16, 64 << 10, false);
        ModelFolder folder = ModelFolder.open(dir);
        assertEquals("qwen2", folder.format());
        assertFalse(folder.config().hasVision());
        Sample sample = folder.promptBuilder().buildForGeneration(List.of(Message.user("Say hi.")));
        Batch batch = Batch.of(BatchArrays.collate(List.of(sample), folder.config().tokens().pad()));
        Nvlm copied = folder.load(Device.CPU);
        assertNull(copied.visionModel());
        assertTrue(copied.namedParameters().keySet().stream().allMatch(n -> n.startsWith("language_model.")));
        float[] expected = logits(copied, batch);
        try (MappedModel mapped = folder.map()) {
            float[] actual = logits(mapped.model(), batch);
            double scale = 0;
            for (float e : expected) {
                scale = Math.max(scale, Math.abs(e));
            }
            assertTrue(scale > 0);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 1e-4 * scale, "logit " + i);
            }
            List<Integer> ids = new ArrayList<>();
            new Generator(mapped.model()).generate(batch, new Generator.Settings(4, 0, 1, 1L), ids::add);
            assertEquals(4, ids.size(), "greedy decoding of 4 tokens");
        }
    }

    @Test
    void promptIsQwen2sOwnTemplateWithItsDefaultSystemAndNewlinesBetweenTurns() throws IOException {
        Path dir = tmp.resolve("qwen2");
        PublishedFolders.qwen2(dir, DType.BF16, Long.MAX_VALUE, true);
        ModelFolder folder = ModelFolder.open(dir);
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
                        + "<|im_start|>assistant\nhello<|im_end|>\n<|im_start|>user\nmore<|im_end|>\n<|im_start|>assistant\n",
                folder.promptBuilder().render(List.of(Message.user("hi"), Message.assistant("hello"), Message.user("more")), true));
    }

    @Test
    void defaultSystemPromptIsReadFromQwen25sToolAwareTemplateToo() {
        String qwen25 = "{%- if tools %}{{- '<|im_start|>system\\n' }}{%- if messages[0]['role'] == 'system' %}"
                + "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}{%- else %}"
                + "{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}";
        assertEquals("You are Qwen, created by Alibaba Cloud. You are a helpful assistant.", ChatTemplate.defaultSystemOf(qwen25));
        assertNull(ChatTemplate.defaultSystemOf("{{ messages }}"));
        assertNull(ChatTemplate.defaultSystemOf(null));
    }

    @Test
    void inspectionNamesThePublishedTensorsAndTiedEmbeddingsHaveNoLmHead() throws IOException {
        Path dir = tmp.resolve("qwen2-tied");
        PublishedFolders.qwen2(dir, DType.BF16, Long.MAX_VALUE, true);
        FolderInspection inspection = FolderInspection.of(dir);
        assertTrue(inspection.complete(), inspection.summary());
        assertTrue(inspection.tensors().containsKey("model.embed_tokens.weight"));
        assertTrue(inspection.tensors().containsKey("model.layers.1.self_attn.q_proj.bias"));
        assertFalse(inspection.tensors().containsKey("lm_head.weight"));
        assertTrue(inspection.summary().contains("text-only decoder"), inspection.summary());
    }

    @Test
    void anImageForATextOnlyModelIsRefusedNamingTheFolder() throws IOException {
        Path dir = tmp.resolve("qwen2");
        PublishedFolders.qwen2(dir, DType.BF16, Long.MAX_VALUE, false);
        ModelFolder folder = ModelFolder.open(dir);
        var e = assertThrows(IllegalArgumentException.class, folder::tiler);
        assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("takes no images"), e.getMessage());
        byte[] rgb = new byte[3 * 16 * 16];
        new SplittableRandom(1).nextBytes(rgb);
        PromptImage tiled = PromptImage.of(new DynamicTiler(448, 1, 1, false).tile(new RgbImage(16, 16, rgb)), TagMode.NONE);
        var p = assertThrows(IllegalArgumentException.class,
                () -> folder.promptBuilder().buildForGeneration(List.of(Message.user(tiled, "What is this?"))));
        assertTrue(p.getMessage().contains("text-only decoder"), p.getMessage());
    }
}
