/**
 * The pipeline over the data and the trainer: what a run reads ({@link nvlm.trainer.pipeline.DataSpec},
 * kept in the run folder for {@code --resume}), the world's blend per stage and the batches
 * ({@link nvlm.trainer.pipeline.WorldStage}), and the main job ({@link nvlm.trainer.pipeline.Demo}
 * with {@link nvlm.trainer.recipe.DemoRecipe}: backbones, stage 1, stage 2, evaluation, report).
 */
package nvlm.trainer.pipeline;
