package nvlm.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.kernels.DType;
import nvlm.model.Batch;
import nvlm.model.Nvlm;
import nvlm.model.config.Architecture;
import nvlm.model.config.LlmConfig;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.model.prompt.BatchArrays;
import nvlm.tensor.CpuMemoryPool;
import nvlm.tensor.io.Json;
import nvlm.tensor.nn.Parameter;

/**
 * The model {@code bench generate} times: NVLM-D of InternVL2-1B's shape (InternViT-300M +
 * Qwen2-0.5B, the {@code internvl2-1b} preset with {@code tie_word_embeddings} as the published
 * config.json says), random weights, every linear layer's weight in BF16 as the published
 * checkpoint stores them; and its prompts, built as token arrays (random text ids, 256
 * image-context tokens per tile).
 */
final class GenerationModel {
    private GenerationModel() {
    }

    /** The preset, with the LLM's tied/untied head taken from a published config.json (InternVL2-1B's unties it). */
    static NvlmConfig config(Path publishedConfig) throws IOException {
        NvlmConfig preset = Presets.get("internvl2-1b", Architecture.D);
        if (!Files.isRegularFile(publishedConfig)) {
            throw new IOException("no published config at " + publishedConfig + " (expected InternVL2-1B's config.json)");
        }
        Map<String, Object> root = Json.parseObject(Files.readString(publishedConfig));
        Object llm = root.get("llm_config");
        if (!(llm instanceof Map<?, ?> l) || !(l.get("tie_word_embeddings") instanceof Boolean tie)
                || !(l.get("hidden_size") instanceof Long hidden) || hidden != preset.llm().hiddenSize()) {
            throw new IllegalArgumentException(publishedConfig + ": expected llm_config.tie_word_embeddings and llm_config.hidden_size "
                    + preset.llm().hiddenSize() + " (InternVL2-1B)");
        }
        LlmConfig p = preset.llm();
        LlmConfig untied = new LlmConfig(p.hiddenSize(), p.numLayers(), p.numHeads(), p.numKvHeads(), p.intermediateSize(),
                p.vocabSize(), p.rmsNormEps(), p.ropeTheta(), tie);
        return new NvlmConfig(preset.architecture(), preset.preset(), preset.vision(), preset.downsampleRatio(), preset.projector(),
                untied, preset.xattnEvery(), preset.tiling(), preset.tokens());
    }

    /** Random weights; every 2-D weight but the embedding table in BF16 (norms, biases and embeddings stay F32). */
    static Nvlm create(NvlmConfig config, long seed) {
        Nvlm model = Nvlm.create(config, new SplittableRandom(seed));
        toBf16(model);
        return model;
    }

    static void toBf16(Nvlm model) {
        long sinceRelease = 0;
        for (var e : model.namedParameters().entrySet()) {
            Parameter p = e.getValue();
            if (p.value().dim() == 2 && e.getKey().endsWith(".weight") && !e.getKey().endsWith("embed_tokens.weight")) {
                sinceRelease += p.value().numel() * Float.BYTES;
                p.set(p.value().to(DType.BF16).contiguousCopy());
                if (sinceRelease > (256L << 20)) {
                    releaseUnreachable();
                    sinceRelease = 0;
                }
            }
        }
        releaseUnreachable();
    }

    /**
     * Gives the F32 originals back to the system as the cast goes (3.8 GB at InternVL2-1B's
     * size): unreachable tensors return to the pool when the GC has run their cleaners, and the
     * pool would otherwise cache up to 4 GiB of them.
     */
    static void releaseUnreachable() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            CpuMemoryPool.instance().emptyCache();
        }
    }

    /** Bytes of weights one decoded token reads: every decoder and head weight once, plus one embedding row. */
    static long decodeWeightBytes(Nvlm model) {
        long bytes = 0;
        for (var e : model.namedParameters().entrySet()) {
            if (!e.getKey().startsWith("language_model.")) {
                continue;
            }
            var v = e.getValue().value();
            boolean lookupOnly = e.getKey().endsWith("embed_tokens.weight") && !model.config().llm().tieWordEmbeddings();
            bytes += (lookupOnly ? v.size(1) : v.numel()) * v.dtype().byteSize();
        }
        return bytes;
    }

    /**
     * A one-row prompt of {@code textTokens} random text ids with, when {@code tiles} > 0, one
     * image of that many tiles (random pixels) after the first half of the text: NVLM-D places
     * 256 image-context tokens per tile (docs/model.md §10).
     */
    static Batch prompt(NvlmConfig config, int textTokens, int tiles, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int perTile = config.tokensPerTile();
        int length = textTokens + tiles * perTile;
        long[] ids = new long[length];
        long[] labels = new long[length];
        long[] mediaImage = new long[length];
        long[] mediaTile = new long[length];
        Arrays.fill(labels, -100);
        Arrays.fill(mediaImage, -1);
        Arrays.fill(mediaTile, -1);
        int imageAt = textTokens / 2;
        // Ordinary text ids: below the added tokens of Qwen2's vocabulary (151643 on).
        int textVocab = Math.min(config.llm().vocabSize(), config.tokens().pad());
        for (int t = 0; t < length; t++) {
            boolean image = tiles > 0 && t >= imageAt && t < imageAt + tiles * perTile;
            ids[t] = image ? config.tokens().imageContext() : rng.nextInt(textVocab);
            if (tiles > 0 && t >= imageAt) {
                mediaImage[t] = 0;
                if (image) {
                    mediaTile[t] = (t - imageAt) / perTile;
                }
            }
        }
        int size = config.vision().imageSize();
        float[] pixels = new float[tiles * 3 * size * size];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) (rng.nextDouble() * 4 - 2);
        }
        long[] imageTiles = tiles > 0 ? new long[] {tiles} : new long[0];
        long[] imageRow = tiles > 0 ? new long[] {0} : new long[0];
        long[] tags = new long[tiles];
        Arrays.fill(tags, -1);
        return Batch.of(new BatchArrays(1, length, ids, labels, mediaImage, mediaTile, tiles, size, pixels, imageTiles, imageRow,
                1, tags));
    }
}
