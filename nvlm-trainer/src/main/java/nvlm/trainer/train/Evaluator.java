package nvlm.trainer.train;

import java.util.Map;
import nvlm.model.Nvlm;

/**
 * Evaluation during training: accuracy per task family in [0, 1] (text-only families named
 * {@code text_...}). The trainer calls it with the model in eval mode and gradients off, and
 * logs the result as an {@code eval} record of metrics.jsonl.
 */
@FunctionalInterface
public interface Evaluator {
    Map<String, Double> evaluate(Nvlm model) throws Exception;
}
