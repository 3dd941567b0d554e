/**
 * Training (docs/model.md §11): the loop around the stages whose settings are in
 * {@link nvlm.trainer.recipe}.
 *
 * <ul>
 *   <li>{@link nvlm.trainer.train.ParameterGroups}: AdamW groups (no decay on vectors);</li>
 *   <li>{@link nvlm.trainer.train.BatchSource}: deterministic batches per (step, micro-step);
 *       {@link nvlm.trainer.train.BatchFiles} reads docs/model.md §10 batch files;</li>
 *   <li>{@link nvlm.trainer.train.Trainer}: accumulation weighted by labelled tokens, clipping,
 *       cosine schedule, AdamW, progress ({@link nvlm.trainer.train.ProgressBar}), metrics
 *       ({@link nvlm.trainer.train.MetricsLog}), checkpoints
 *       ({@link nvlm.trainer.train.TrainingCheckpoint}) and bit-identical resume, Ctrl-C and
 *       NaN handling ({@link nvlm.trainer.train.TrainingDivergedException}).</li>
 * </ul>
 *
 * <pre>{@code
 * Trainer stage1 = Trainer.start(model, PaperRecipe.toy(Architecture.D, Stage.PRETRAINING), source,
 *         Path.of("runs/d/stage1"), TrainerOptions.defaults());
 * TrainResult r = stage1.run();                       // checkpoints, metrics.jsonl, model/
 * Trainer again = Trainer.resume(Path.of("runs/d/stage1"), source, TrainerOptions.defaults());
 * }</pre>
 */
package nvlm.trainer.train;
