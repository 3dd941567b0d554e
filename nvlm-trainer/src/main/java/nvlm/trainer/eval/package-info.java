/**
 * Evaluation: greedy generation with the KV cache on the world's test examples,
 * scored by exact match ({@link nvlm.trainer.eval.ExactMatch}) per task family
 * ({@link nvlm.trainer.eval.Evaluation}, {@link nvlm.trainer.eval.EvalResult}: the table and the
 * JSON of {@code ./nvlm eval --json}). Text-only families are named {@code text_...} and reported
 * apart; captioning is not scored (see {@link nvlm.trainer.eval.Evaluation}).
 */
package nvlm.trainer.eval;
