package nvlm.tensor;

/**
 * Whether operations record the autograd graph on this thread (PyTorch's {@code torch.no_grad}).
 *
 * <pre>{@code
 * try (var noGrad = GradMode.disabled()) {
 *     Tensor logits = model.forward(batch);   // no graph, no saved activations
 * }
 * }</pre>
 */
public final class GradMode implements AutoCloseable {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private final boolean previous;

    private GradMode(boolean enabled) {
        boolean[] flag = ENABLED.get();
        previous = flag[0];
        flag[0] = enabled;
    }

    /** Disables graph recording until {@link #close()}. */
    public static GradMode disabled() {
        return new GradMode(false);
    }

    /** Enables graph recording until {@link #close()} (inside a disabled region). */
    public static GradMode enabled() {
        return new GradMode(true);
    }

    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    @Override
    public void close() {
        ENABLED.get()[0] = previous;
    }
}
