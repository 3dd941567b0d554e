package nvlm.trainer.recipe;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import nvlm.tensor.io.Json;

/**
 * Stage 0 (project decision; the paper starts from pretrained InternViT and Qwen2 weights, which
 * cannot be downloaded here): how the two backbones are trained before stage 1.
 * <ul>
 *   <li>Decoder: the LLM alone on {@link nvlm.trainer.data.TaskBlend#stage0Text()}, the world's
 *       text-only tasks plus its image tasks described in words (no image token, no tile tag, so
 *       no architecture's layout), in chat format
 *       ({@link Stage#TEXT_PRETRAINING}); AdamW, cosine with warmup, clipping.</li>
 *   <li>Vision encoder: InternViT with a throwaway linear head on its pixel-shuffled tokens that
 *       tells each token's cell symbol ({@link nvlm.trainer.backbone.CellClassifier}); same optimizer.</li>
 * </ul>
 * Every field goes into the backbones' manifest (with the decoder's blend and the tokenizer's added
 * tokens, which change what the decoder learns), and {@link #hash()} identifies the recipe: the
 * shipped backbones record the hash they were made with, and a test fails if the code's default
 * recipe drifts from it without the backbones being made again.
 *
 * @param preset        model shape (the backbones are its vision encoder and LLM)
 * @param seed          model initialization, data order, and the world's seed (its splits)
 * @param textSteps     decoder optimizer steps
 * @param textBatch     decoder rows per step
 * @param textLr        decoder peak learning rate (cosine to textLr / 10)
 * @param visionSteps   vision optimizer steps
 * @param visionImages  world images per vision step (all their regular tiles train; thumbnails have no targets)
 * @param visionLr      vision peak learning rate (cosine to visionLr / 10)
 * @param weightDecay   AdamW weight decay of matrices, both backbones
 * @param clipNorm      global gradient-norm clip, both backbones
 * @param evalSamples   test examples per family (and test images for the cell accuracy) measured at the end
 * @param rowsShare     the share of each image task's decoder text that writes the picture in the rows view instead
 *                      of describing it in words ({@link nvlm.trainer.data.TaskBlend#stage0Text(double)}); 0 by default
 */
public record BackboneRecipe(String preset, long seed, int textSteps, int textBatch, double textLr, int visionSteps,
                             int visionImages, double visionLr, double weightDecay, double clipNorm, int evalSamples,
                             double rowsShare) {
    /** AdamW betas and epsilon of both backbones (the paper's stage-1 values for NVLM-D, docs/model.md §11). */
    public static final double BETA1 = 0.9;
    public static final double BETA2 = 0.95;
    public static final double EPS = 1e-8;
    /**
     * Questions per picture in the decoder's data (the task's own, others about the same picture,
     * and a tile transcription; {@link nvlm.trainer.data.SyntheticWorld#example}).
     */
    public static final int TEXT_QUESTIONS = 4;
    /** Warmup is this fraction of each backbone's steps. */
    public static final double WARMUP_FRACTION = 0.05;

    public BackboneRecipe {
        if (textSteps < 1 || textBatch < 1 || visionSteps < 1 || visionImages < 1 || evalSamples < 0) {
            throw new IllegalArgumentException("backbone recipe: steps, batch sizes must be >= 1 and eval samples >= 0, got text "
                    + textSteps + " x " + textBatch + ", vision " + visionSteps + " x " + visionImages + ", eval " + evalSamples);
        }
        if (!(textLr > 0) || !(visionLr > 0) || !(weightDecay >= 0) || !(clipNorm >= 0)) {
            throw new IllegalArgumentException("backbone recipe: learning rates must be > 0, weight decay and clip >= 0");
        }
        if (!(rowsShare >= 0 && rowsShare <= 1)) {
            throw new IllegalArgumentException("backbone recipe: the rows share must be in [0, 1], got " + rowsShare);
        }
    }

    /** The recipe of the shipped backbones (the tiny preset). */
    public static BackboneRecipe defaults(long seed) {
        return new BackboneRecipe("tiny", seed, 12000, 16, 2e-3, 400, 8, 1e-3, 0.1, 1.0, 200, 0);
    }

    public BackboneRecipe withSteps(int text, int vision) {
        return new BackboneRecipe(preset, seed, text, textBatch, textLr, vision, visionImages, visionLr, weightDecay, clipNorm, evalSamples,
                rowsShare);
    }

    public BackboneRecipe withEvalSamples(int n) {
        return new BackboneRecipe(preset, seed, textSteps, textBatch, textLr, visionSteps, visionImages, visionLr, weightDecay, clipNorm, n,
                rowsShare);
    }

    public BackboneRecipe withSeed(long s) {
        return new BackboneRecipe(preset, s, textSteps, textBatch, textLr, visionSteps, visionImages, visionLr, weightDecay, clipNorm,
                evalSamples, rowsShare);
    }

    public BackboneRecipe withRowsShare(double share) {
        return new BackboneRecipe(preset, seed, textSteps, textBatch, textLr, visionSteps, visionImages, visionLr, weightDecay, clipNorm,
                evalSamples, share);
    }

    /** The decoder's data: {@link nvlm.trainer.data.TaskBlend#stage0Text(double)} with this recipe's rows share. */
    public nvlm.trainer.data.TaskBlend textBlend() {
        return nvlm.trainer.data.TaskBlend.stage0Text(rowsShare);
    }

    /** The decoder's stage config ({@link Stage#TEXT_PRETRAINING}). */
    public StageConfig textStage() {
        return new StageConfig(Stage.TEXT_PRETRAINING, textLr, textLr / 10, warmup(textSteps), textSteps, BETA1, BETA2, EPS, weightDecay,
                clipNorm, textBatch, 1, 1.0, seed);
    }

    public static int warmup(int steps) {
        return Math.max(1, (int) Math.round(steps * WARMUP_FRACTION));
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("preset", preset);
        m.put("seed", seed);
        m.put("text_steps", (long) textSteps);
        m.put("text_batch", (long) textBatch);
        m.put("text_lr", textLr);
        m.put("vision_steps", (long) visionSteps);
        m.put("vision_images", (long) visionImages);
        m.put("vision_lr", visionLr);
        m.put("weight_decay", weightDecay);
        m.put("clip_norm", clipNorm);
        m.put("eval_samples", (long) evalSamples);
        m.put("text_questions", (long) TEXT_QUESTIONS);
        m.put("betas", java.util.List.of(BETA1, BETA2));
        m.put("eps", EPS);
        m.put("warmup_fraction", WARMUP_FRACTION);
        // The blend records the rows share (its rows-view entries), so the shipped recipe's hash is unchanged.
        m.put("text_blend", textBlend().toJson());
        m.put("tokenizer_added_tokens", nvlm.model.tokenizer.ProjectTokenizer.addedTokens());
        return m;
    }

    /** SHA-256 of the recipe's JSON, in hex: what the manifest of the backbones records. */
    public String hash() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(Json.write(toJson()).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
