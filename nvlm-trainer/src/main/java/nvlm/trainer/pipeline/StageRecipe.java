package nvlm.trainer.pipeline;

import nvlm.model.config.Architecture;
import nvlm.trainer.train.Recipe;
import nvlm.trainer.train.Stage;
import nvlm.trainer.train.StageConfig;

/** The named recipes a training stage starts from ({@code ./nvlm train --recipe}). */
public enum StageRecipe {
    /** The rates and sizes {@code ./nvlm demo} uses at the tiny preset ({@link DemoRecipe}). */
    DEMO,
    /** The paper's, with learning rates raised for toy models ({@link Recipe#toy}). */
    TOY,
    /** The paper's own, tuned for 34B-72B weights ({@link Recipe#paper}). */
    PAPER;

    /** The settings of {@code stage} (1 or 2) for {@code arch}; {@code seed} orders the data. */
    public StageConfig stage(Architecture arch, Stage stage, long seed) {
        return switch (this) {
            case DEMO -> stage == Stage.PRETRAINING ? DemoRecipe.of(arch, seed).stage1() : DemoRecipe.of(arch, seed).stage2();
            case TOY -> Recipe.toy(arch, stage);
            case PAPER -> Recipe.paper(arch, stage);
        };
    }
}
