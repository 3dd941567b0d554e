/**
 * Every hyper-parameter of training, in one place (docs/model.md §11).
 *
 * <ul>
 *   <li>{@link nvlm.trainer.recipe.Stage}: stage 0 (the decoder backbone), 1 (pretraining) and 2
 *       (SFT), and which parts of the model each trains;</li>
 *   <li>{@link nvlm.trainer.recipe.StageConfig}: the settings of one stage (optimizer, schedule,
 *       batch, clipping, text-only ratio, data seed);</li>
 *   <li>{@link nvlm.trainer.recipe.PaperRecipe}: the paper's values per architecture and stage;</li>
 *   <li>{@link nvlm.trainer.recipe.DemoRecipe}: the demo's, sized for the tiny preset on two CPU
 *       cores; {@link nvlm.trainer.recipe.BackboneRecipe}: stage 0's;</li>
 *   <li>{@link nvlm.trainer.recipe.StageRecipe} names the recipes {@code ./nvlm train --recipe}
 *       starts from, and {@link nvlm.trainer.recipe.StageOverrides} applies its stage options.</li>
 * </ul>
 * How a run is driven without changing its bits (checkpoints, progress, device) is
 * {@link nvlm.trainer.train.TrainerOptions}, not a recipe.
 */
package nvlm.trainer.recipe;
