package nvlm.trainer.recipe;

import nvlm.model.config.Architecture;

/** The named recipes a training stage starts from ({@code ./nvlm train --recipe}). */
public enum StageRecipe {
    /** The rates and sizes {@code ./nvlm demo} uses at the tiny preset ({@link DemoRecipe}). */
    DEMO,
    /** The paper's, with learning rates raised for toy models ({@link PaperRecipe#toy}). */
    TOY,
    /** The paper's own, tuned for 34B-72B weights ({@link PaperRecipe#paper}). */
    PAPER;

    /** The settings of {@code stage} (1 or 2) for {@code arch}; {@code seed} orders the data. */
    public StageConfig stage(Architecture arch, Stage stage, long seed) {
        return switch (this) {
            case DEMO -> stage == Stage.PRETRAINING ? DemoRecipe.of(arch, seed).stage1() : DemoRecipe.of(arch, seed).stage2();
            case TOY -> PaperRecipe.toy(arch, stage);
            case PAPER -> PaperRecipe.paper(arch, stage);
        };
    }
}
