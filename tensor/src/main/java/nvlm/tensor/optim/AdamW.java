package nvlm.tensor.optim;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nvlm.kernels.DType;
import nvlm.tensor.Backend;
import nvlm.tensor.GradMode;
import nvlm.tensor.MemoryScope;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Parameter;

/**
 * AdamW with decoupled weight decay (torch.optim.AdamW semantics, bit-for-bit the same update
 * order) over parameter groups, e.g. no decay for norms and biases. Moments are f32 and live in
 * each parameter's memory scope.
 */
public final class AdamW {
    /** Parameters sharing hyper-parameters. {@code lr} is changed by schedules through {@link #setLearningRate}. */
    public static final class Group {
        final List<Parameter> params;
        double lr;
        final double weightDecay;
        final double beta1;
        final double beta2;
        final double eps;

        public Group(List<Parameter> params, double lr, double weightDecay, double beta1, double beta2, double eps) {
            this.params = List.copyOf(params);
            this.lr = lr;
            this.weightDecay = weightDecay;
            this.beta1 = beta1;
            this.beta2 = beta2;
            this.eps = eps;
        }

        public List<Parameter> params() {
            return params;
        }

        public double lr() {
            return lr;
        }

        public double weightDecay() {
            return weightDecay;
        }
    }

    private record Moments(Tensor m, Tensor v) {
    }

    private final List<Group> groups;
    private final Map<Parameter, Moments> state = new IdentityHashMap<>();
    private int step;

    public AdamW(List<Group> groups) {
        this.groups = List.copyOf(groups);
        IdentityHashMap<Parameter, Boolean> seen = new IdentityHashMap<>();
        for (Group g : groups) {
            for (Parameter p : g.params) {
                if (seen.put(p, true) != null) {
                    throw new IllegalArgumentException("parameter '" + p.name() + "' is in two AdamW groups");
                }
            }
        }
    }

    /** One group with the given hyper-parameters. */
    public static AdamW of(List<Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        return new AdamW(List.of(new Group(params, lr, weightDecay, beta1, beta2, eps)));
    }

    public List<Group> groups() {
        return groups;
    }

    /** Steps taken so far. */
    public int stepCount() {
        return step;
    }

    public void setLearningRate(double lr) {
        for (Group g : groups) {
            g.lr = lr;
        }
    }

    /**
     * Updates every trainable parameter that has a gradient; one without (no loss of the step
     * reached it) keeps its value and moments, as PyTorch skips a None gradient. The bias
     * correction counts optimizer steps, not a parameter's own updates as PyTorch's per-parameter
     * {@code state["step"]} does: the two differ only for a parameter that skipped steps, and
     * only while {@code 1 - beta^t} is far from 1.
     */
    public void step() {
        step++;
        try (var noGrad = GradMode.disabled()) {
            for (Group g : groups) {
                for (Parameter p : g.params) {
                    Tensor grad = p.grad();
                    if (grad == null || !p.trainable()) {
                        continue;
                    }
                    Tensor value = p.value();
                    if (value.dtype() != DType.F32 || !value.isContiguous()) {
                        throw new IllegalStateException("AdamW updates f32 contiguous master weights; parameter '"
                                + p.name() + "' is " + value.dtype());
                    }
                    Moments moments = state.computeIfAbsent(p, k -> MemoryScope.runIn(value.storage().scope(),
                            () -> new Moments(Tensor.zeros(value.device(), DType.F32, value.shape()),
                                    Tensor.zeros(value.device(), DType.F32, value.shape()))));
                    Backend.of(value.device()).adamw(value, grad.contiguous(), moments.m(), moments.v(), (float) g.lr, (float) g.beta1,
                            (float) g.beta2, (float) g.eps, (float) g.weightDecay, step);
                }
            }
        }
    }

    public void zeroGrad() {
        for (Group g : groups) {
            for (Parameter p : g.params) {
                p.zeroGrad();
            }
        }
    }

    /**
     * Optimizer state for checkpoints: {@code <param>.exp_avg}, {@code <param>.exp_avg_sq} (names
     * from {@code names}) and {@code step} (I64 scalar).
     */
    public Map<String, Tensor> stateDict(Map<String, Parameter> names) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("step", Tensor.of(new long[] {step}, new long[0]));
        names.forEach((name, p) -> {
            Moments mo = state.get(p);
            if (mo != null) {
                out.put(name + ".exp_avg", mo.m());
                out.put(name + ".exp_avg_sq", mo.v());
            }
        });
        return out;
    }

    /** Restores {@link #stateDict}; moments are copied into f32 tensors beside each parameter. */
    public void loadStateDict(Map<String, Tensor> saved, Map<String, Parameter> names) {
        Tensor s = saved.get("step");
        if (s == null) {
            throw new IllegalArgumentException("optimizer state has no 'step'");
        }
        List<String> problems = new ArrayList<>();
        Map<Parameter, Moments> loaded = new IdentityHashMap<>();
        names.forEach((name, p) -> {
            Tensor m = saved.get(name + ".exp_avg");
            Tensor v = saved.get(name + ".exp_avg_sq");
            if (m == null && v == null) {
                return;
            }
            if (m == null || v == null || !java.util.Arrays.equals(m.shape(), p.value().shape())
                    || !java.util.Arrays.equals(v.shape(), p.value().shape())) {
                problems.add(name);
                return;
            }
            Tensor value = p.value();
            loaded.put(p, MemoryScope.runIn(value.storage().scope(), () -> new Moments(
                    m.to(DType.F32).to(value.device()).contiguousCopy().detach(),
                    v.to(DType.F32).to(value.device()).contiguousCopy().detach())));
        });
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("optimizer state does not match parameters: " + String.join(", ", problems));
        }
        state.clear();
        state.putAll(loaded);
        step = (int) s.toLongArray()[0];
    }
}
