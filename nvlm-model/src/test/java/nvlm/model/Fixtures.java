package nvlm.model;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.model.prompt.BatchArrays;
import nvlm.model.prompt.ChatTemplate;
import nvlm.model.prompt.Message;
import nvlm.model.prompt.PromptBuilder;
import nvlm.model.prompt.PromptImage;
import nvlm.model.prompt.Sample;
import nvlm.model.tiling.DynamicTiler;
import nvlm.model.tiling.RgbImage;
import nvlm.model.tiling.TagMode;
import nvlm.model.tokenizer.ProjectTokenizer;
import nvlm.model.xattn.GatedCrossAttention;
import nvlm.tensor.GradMode;
import nvlm.tensor.Tensor;

/** Tiny models and real prompt batches for the model's property tests. */
final class Fixtures {
    private Fixtures() {
    }

    static NvlmConfig tiny(Architecture arch) {
        return Presets.get("tiny", arch);
    }

    /** A tiny model with its cross-attention gates opened (they start at 0, which would hide the blocks). */
    static Nvlm model(Architecture arch, long seed) {
        return model(tiny(arch), seed);
    }

    /** A model of {@code config} with its cross-attention gates opened. */
    static Nvlm model(NvlmConfig config, long seed) {
        Nvlm model = Nvlm.create(config, new SplittableRandom(seed));
        try (var noGrad = GradMode.disabled()) {
            for (GatedCrossAttention block : model.languageModel().crossAttentionBlocks()) {
                block.attnGate().set(Tensor.of(new float[] {0.8f}));
                block.ffGate().set(Tensor.of(new float[] {-0.6f}));
            }
        }
        return model;
    }

    static RgbImage randomImage(SplittableRandom rng, int width, int height) {
        byte[] rgb = new byte[width * height * 3];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) rng.nextInt(256);
        }
        return new RgbImage(width, height, rgb);
    }

    static PromptBuilder builder(NvlmConfig config) {
        return PromptBuilder.forModel(config, ProjectTokenizer.instance(), ChatTemplate.withoutDefaultSystem());
    }

    static PromptImage image(NvlmConfig config, RgbImage image) {
        DynamicTiler tiler = new DynamicTiler(config.vision().imageSize(), 1, 6, true);
        return PromptImage.of(tiler.tile(image), TagMode.ONE_D);
    }

    /** One sample: an optional image, a question and an answer. */
    static Sample sample(NvlmConfig config, RgbImage image, String question, String answer) {
        List<Message> conversation = new ArrayList<>();
        conversation.add(image == null ? Message.user(question) : Message.user(image(config, image), question));
        conversation.add(Message.assistant(answer));
        return builder(config).build(conversation);
    }

    static Batch batch(NvlmConfig config, List<Sample> samples) {
        return Batch.of(BatchArrays.collate(samples, config.tokens().pad()));
    }
}
