package nvlm.tensor.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import nvlm.tensor.Device;
import nvlm.tensor.GradMode;
import nvlm.tensor.Tensor;

/**
 * A tree of parameters and sub-modules whose dotted paths are checkpoint names
 * ({@code language_model.model.layers.3.self_attn.q_proj.weight}), as in PyTorch.
 */
public abstract class Module {
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** Registers a trainable tensor under {@code name}. */
    protected final Parameter parameter(String name, Tensor value) {
        checkName(name);
        Parameter p = new Parameter(name, value);
        parameters.put(name, p);
        return p;
    }

    /** Registers a sub-module under {@code name}. */
    protected final <M extends Module> M child(String name, M module) {
        checkName(name);
        children.put(name, module);
        return module;
    }

    private void checkName(String name) {
        if (name.isEmpty() || parameters.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("duplicate or empty name '" + name + "' in " + getClass().getSimpleName());
        }
    }

    /** Every parameter by full dotted name, in registration order. */
    public final Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, Map<String, Parameter> out) {
        for (var e : parameters.entrySet()) {
            out.put(prefix + e.getKey(), e.getValue());
        }
        for (var e : children.entrySet()) {
            e.getValue().collect(prefix + e.getKey() + ".", out);
        }
    }

    public final List<Parameter> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Parameters the optimizer should update. */
    public final List<Parameter> trainableParameters() {
        return parameters().stream().filter(Parameter::trainable).toList();
    }

    /** Direct sub-modules by name. */
    public final Map<String, Module> children() {
        return java.util.Collections.unmodifiableMap(children);
    }

    /** Freezes (false) or unfreezes (true) every parameter of this subtree. */
    public final Module trainable(boolean value) {
        for (Parameter p : parameters()) {
            p.trainable(value);
        }
        return this;
    }

    /** Training mode (dropout active) for the whole subtree. */
    public final Module train(boolean value) {
        training = value;
        for (Module child : children.values()) {
            child.train(value);
        }
        return this;
    }

    public final Module eval() {
        return train(false);
    }

    public final boolean isTraining() {
        return training;
    }

    public final void zeroGrad() {
        for (Parameter p : parameters()) {
            p.zeroGrad();
        }
    }

    /** Moves every parameter to a device. */
    public final Module to(Device device) {
        for (Parameter p : parameters()) {
            p.to(device);
        }
        return this;
    }

    /** Number of scalar parameters. */
    public final long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) {
            n += p.value().numel();
        }
        return n;
    }

    /** Name to value, as saved in a checkpoint. */
    public final Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        namedParameters().forEach((name, p) -> out.put(name, p.value()));
        return out;
    }

    /**
     * Copies values in by name, converting dtype and device. Every missing, unexpected and
     * shape-mismatched tensor is reported by name in one error (nothing is changed then) unless
     * {@code strict} is false, which skips missing and unexpected names but never shape mismatches.
     */
    public final void loadStateDict(Map<String, Tensor> state, boolean strict) {
        Map<String, Parameter> named = namedParameters();
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        for (var e : named.entrySet()) {
            Tensor t = state.get(e.getKey());
            if (t == null) {
                missing.add(e.getKey());
            } else if (!java.util.Arrays.equals(t.shape(), e.getValue().value().shape())) {
                mismatched.add(e.getKey() + ": checkpoint " + java.util.Arrays.toString(t.shape()) + ", model "
                        + java.util.Arrays.toString(e.getValue().value().shape()));
            }
        }
        TreeSet<String> unexpected = new TreeSet<>(state.keySet());
        unexpected.removeAll(named.keySet());
        if (!mismatched.isEmpty() || (strict && (!missing.isEmpty() || !unexpected.isEmpty()))) {
            StringBuilder sb = new StringBuilder("cannot load state into " + getClass().getSimpleName() + ":");
            if (!missing.isEmpty()) {
                sb.append("\n  missing (").append(missing.size()).append("): ").append(String.join(", ", missing));
            }
            if (!unexpected.isEmpty()) {
                sb.append("\n  unexpected (").append(unexpected.size()).append("): ").append(String.join(", ", unexpected));
            }
            if (!mismatched.isEmpty()) {
                sb.append("\n  shape mismatch (").append(mismatched.size()).append("): ").append(String.join("; ", mismatched));
            }
            throw new IllegalArgumentException(sb.toString());
        }
        try (var noGrad = GradMode.disabled()) {
            for (var e : named.entrySet()) {
                Tensor t = state.get(e.getKey());
                if (t != null) {
                    Parameter p = e.getValue();
                    Tensor current = p.value();
                    p.set(t.to(current.dtype()).to(current.device()).contiguousCopy());
                }
            }
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        describe(sb, "", 0);
        return sb.toString();
    }

    private void describe(StringBuilder sb, String name, int depth) {
        String indent = "  ".repeat(depth);
        sb.append(indent).append(name.isEmpty() ? "" : name + ": ").append(getClass().getSimpleName()).append('\n');
        for (Parameter p : parameters.values()) {
            sb.append(indent).append("  ").append(p).append('\n');
        }
        for (var e : children.entrySet()) {
            e.getValue().describe(sb, e.getKey(), depth + 1);
        }
    }
}
