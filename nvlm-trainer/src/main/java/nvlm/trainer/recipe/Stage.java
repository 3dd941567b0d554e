package nvlm.trainer.recipe;

import nvlm.model.Nvlm;
import nvlm.model.config.Architecture;
import nvlm.model.xattn.GatedCrossAttention;

/**
 * The two training stages of the paper (section 4.1, docs/model.md §11) and which parts of the model each
 * one trains. The vision encoder is frozen in both. Stage 0 is this project's: the paper starts
 * from a pretrained LLM, which cannot be downloaded here, so the decoder is first trained alone on
 * the synthetic world's text ({@link nvlm.trainer.recipe.BackboneRecipe}).
 */
public enum Stage {
    /**
     * Stage 0, the decoder backbone (project decision, not in the paper): only the LLM trains, on
     * text-only batches (the vision encoder and projector are not used).
     */
    TEXT_PRETRAINING(0),
    /**
     * Stage 1, pretraining / alignment: the LLM is frozen. Trains the projector {@code mlp1} (D),
     * the gated cross-attention blocks and their 1-layer projector (X), or both (H).
     */
    PRETRAINING(1),
    /** Stage 2, supervised fine-tuning: the LLM is unfrozen too; the vision encoder stays frozen. */
    SFT(2);

    private final int number;

    Stage(int number) {
        this.number = number;
    }

    /** 1 or 2, as in the paper and in {@code ./nvlm train --stage}; 0 for the decoder backbone. */
    public int number() {
        return number;
    }

    public static Stage of(int number) {
        for (Stage s : values()) {
            if (s.number == number) {
                return s;
            }
        }
        throw new IllegalArgumentException("stage must be 1 (pretraining) or 2 (SFT) (or 0, the decoder backbone), got " + number);
    }

    /**
     * Sets every parameter's trainable flag for this stage (docs/model.md §11). Every architecture's
     * projector trains in both stages (NVLM-X's is the 1-layer one of docs/model.md §4); the cross-attention
     * blocks live under {@code language_model} and train in stage 1 although the rest of the
     * LLM is frozen.
     */
    public void applyTo(Nvlm model) {
        model.trainable(false);
        model.mlp1().trainable(true);
        switch (this) {
            case TEXT_PRETRAINING -> {
                model.mlp1().trainable(false);
                model.languageModel().trainable(true);
                for (GatedCrossAttention block : model.languageModel().crossAttentionBlocks()) {
                    block.trainable(false);
                }
            }
            case PRETRAINING -> {
                if (model.config().architecture() != Architecture.D) {
                    for (GatedCrossAttention block : model.languageModel().crossAttentionBlocks()) {
                        block.trainable(true);
                    }
                }
            }
            case SFT -> model.languageModel().trainable(true);
        }
    }

    /** What {@link #applyTo} trains, in words, for logs and {@code --help}. */
    public String trainedParts(Architecture architecture) {
        return switch (this) {
            case TEXT_PRETRAINING -> "the LLM (decoder backbone, text only)";
            case PRETRAINING -> switch (architecture) {
                case D -> "projector (mlp1)";
                case X -> "cross-attention blocks and the 1-layer projector (mlp1)";
                case H -> "projector (mlp1) and cross-attention blocks";
            };
            case SFT -> "projector (mlp1) and the whole LLM" + (architecture == Architecture.D ? "" : " with its cross-attention blocks");
        };
    }
}
