package nvlm.tensor;

/**
 * One recorded operation of the autograd graph: its inputs and how to turn the gradient of its
 * output into gradients of its inputs. Backward functions run with grad mode disabled.
 */
public final class Node {
    /** Gradients of the inputs (same order; null where an input needs none) from the output's gradient. */
    @FunctionalInterface
    public interface Backward {
        Tensor[] apply(Tensor gradOutput);
    }

    private final String name;
    final Tensor[] inputs;
    private Backward backward;

    Node(String name, Tensor[] inputs, Backward backward) {
        this.name = name;
        this.inputs = inputs;
        this.backward = backward;
    }

    /** The operation's name, as in PyTorch's grad_fn (e.g. "mul", "matmul"). */
    public String name() {
        return name;
    }

    Tensor[] apply(Tensor gradOutput) {
        if (backward == null) {
            throw new IllegalStateException("backward through '" + name + "' a second time: the graph was freed"
                    + " after the first backward (build it again with a new forward)");
        }
        Tensor[] grads = backward.apply(gradOutput);
        backward = null; // frees the saved tensors
        return grads;
    }

    @Override
    public String toString() {
        return name;
    }
}
