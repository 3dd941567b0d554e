package nvlm.trainer.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import nvlm.tensor.nn.Module;
import nvlm.tensor.nn.Parameter;
import nvlm.tensor.optim.AdamW;
import nvlm.trainer.recipe.StageConfig;

/**
 * AdamW parameter groups, PyTorch / nanoGPT convention: weight decay on matrices (linear
 * weights, the patch embedding, embedding tables and lm_head), none on vectors (biases, norm
 * weights, layer scales, the cross-attention gates, the CLS token). "Vector" means at most one
 * dimension larger than 1, so the [1] gates and the [1, 1, C] class embedding count as vectors.
 * Decaying the gates would pull them back to the closed state they start in (docs/model.md §7).
 */
public final class ParameterGroups {
    private ParameterGroups() {
    }

    /** The trainable parameters of {@code model} by full name, in registration order. */
    public static Map<String, Parameter> trainable(Module model) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        model.namedParameters().forEach((name, p) -> {
            if (p.trainable()) {
                out.put(name, p);
            }
        });
        return out;
    }

    /** True when {@code p} gets weight decay. */
    public static boolean decays(Parameter p) {
        int large = 0;
        for (long size : p.value().shape()) {
            if (size > 1) {
                large++;
            }
        }
        return large >= 2;
    }

    /** Two groups (decayed, not decayed) over the trainable parameters; an empty group is left out. */
    public static List<AdamW.Group> of(Module model, StageConfig config) {
        List<Parameter> params = List.copyOf(trainable(model).values());
        if (params.isEmpty()) {
            throw new IllegalArgumentException("no trainable parameters in " + model.getClass().getSimpleName());
        }
        return of(params, ParameterGroups::decays, config);
    }

    /**
     * Two groups over {@code params}, {@code decays} telling which get weight decay (a shard of a
     * tensor-parallel parameter is judged by the whole parameter's shape).
     */
    public static List<AdamW.Group> of(List<Parameter> params, Predicate<Parameter> decays, StageConfig config) {
        List<Parameter> decay = new ArrayList<>();
        List<Parameter> noDecay = new ArrayList<>();
        for (Parameter p : params) {
            (decays.test(p) ? decay : noDecay).add(p);
        }
        List<AdamW.Group> groups = new ArrayList<>();
        if (!decay.isEmpty()) {
            groups.add(new AdamW.Group(decay, config.peakLr(), config.weightDecay(), config.beta1(), config.beta2(), config.eps()));
        }
        if (!noDecay.isEmpty()) {
            groups.add(new AdamW.Group(noDecay, config.peakLr(), 0.0, config.beta1(), config.beta2(), config.eps()));
        }
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("no trainable parameters");
        }
        return groups;
    }
}
