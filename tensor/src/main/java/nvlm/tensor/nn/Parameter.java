package nvlm.tensor.nn;

import nvlm.tensor.Device;
import nvlm.tensor.Tensor;

/**
 * A trainable tensor of a {@link Module}, registered under its checkpoint name. The value is a
 * leaf tensor with {@code requiresGrad}; it can be replaced (loading a checkpoint, moving to a
 * device) without rebuilding the module.
 */
public final class Parameter {
    private final String name;
    private Tensor value;
    private boolean trainable = true;

    Parameter(String name, Tensor value) {
        this.name = name;
        set(value);
    }

    /** The local name (e.g. {@code weight}); {@link Module#namedParameters()} gives the full path. */
    public String name() {
        return name;
    }

    /** The current value (a leaf tensor). */
    public Tensor value() {
        return value;
    }

    /** The gradient accumulated by backward, or null. */
    public Tensor grad() {
        return value.grad();
    }

    /** Replaces the value (shape must match); the new value becomes the leaf. */
    public void set(Tensor newValue) {
        if (value != null && !java.util.Arrays.equals(value.shape(), newValue.shape())) {
            throw new IllegalArgumentException("parameter '" + name + "': new value " + newValue.dtype()
                    + java.util.Arrays.toString(newValue.shape()) + " does not match " + java.util.Arrays.toString(value.shape()));
        }
        Tensor leaf = newValue.detach().name(name);
        leaf.requiresGrad(trainable && leaf.dtype().isFloatingPoint());
        value = leaf;
    }

    /** Whether the optimizer updates this parameter (false freezes it: no gradient is computed). */
    public boolean trainable() {
        return trainable;
    }

    public Parameter trainable(boolean value) {
        trainable = value;
        this.value.requiresGrad(value && this.value.dtype().isFloatingPoint());
        if (!value) {
            this.value.setGrad(null);
        }
        return this;
    }

    /** Moves the value to a device. */
    public void to(Device device) {
        if (value.device() != device) {
            set(value.to(device));
        }
    }

    /** Drops the gradient, keeping its memory for the next backward pass ({@link Tensor#recycleGrad()}). */
    public void zeroGrad() {
        value.recycleGrad();
    }

    @Override
    public String toString() {
        return "Parameter " + name + " " + value.dtype() + java.util.Arrays.toString(value.shape())
                + (trainable ? "" : " (frozen)");
    }
}
