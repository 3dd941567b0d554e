package nvlm.tensor.nn;

import java.util.random.RandomGenerator;
import nvlm.tensor.Tensor;

/**
 * Seeded parameter initialisation: the same generator state gives the same values. Inside
 * {@link #skipped} the random draws are skipped (zeros instead): for a model whose every
 * parameter is about to be overwritten by a checkpoint, where drawing InternVL2-1B's 0.9 billion
 * values took minutes.
 */
public final class Init {
    /** Set while {@link #shapesOnly} builds a skeleton. */
    private static final ThreadLocal<Boolean> SHAPES_ONLY = ThreadLocal.withInitial(() -> false);
    /** Set while {@link #skipped} builds a model that a checkpoint overwrites. */
    private static final ThreadLocal<Boolean> SKIP = ThreadLocal.withInitial(() -> false);

    private Init() {
    }

    /**
     * Builds modules whose parameters have shapes but no memory and no values ({@link Tensor#shapeOnly}):
     * a model skeleton costs nothing, so a loader can name and check every parameter of a 72B model,
     * then set each to its checkpoint tensor.
     */
    public static <T> T shapesOnly(java.util.function.Supplier<T> build) {
        boolean outer = SHAPES_ONLY.get();
        SHAPES_ONLY.set(true);
        try {
            return build.get();
        } finally {
            SHAPES_ONLY.set(outer);
        }
    }

    /** Whether this thread is inside {@link #shapesOnly}: what is built allocates no memory. */
    public static boolean isShapesOnly() {
        return SHAPES_ONLY.get();
    }

    /** Runs {@code build} with random initialisation skipped on this thread: parameters start at zero. */
    public static <T> T skipped(java.util.function.Supplier<T> build) {
        boolean outer = SKIP.get();
        SKIP.set(true);
        try {
            return build.get();
        } finally {
            SKIP.set(outer);
        }
    }

    /** N(0, std^2). */
    public static Tensor normal(RandomGenerator rng, double std, long... shape) {
        if (SHAPES_ONLY.get()) {
            return Tensor.shapeOnly(nvlm.kernels.DType.F32, shape);
        }
        if (SKIP.get()) {
            return Tensor.zeros(shape);
        }
        float[] data = new float[Math.toIntExact(nvlm.tensor.Shape.numel(shape))];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (rng.nextGaussian() * std);
        }
        return Tensor.of(data, shape);
    }

    /** U(-bound, bound). */
    public static Tensor uniform(RandomGenerator rng, double bound, long... shape) {
        if (SHAPES_ONLY.get()) {
            return Tensor.shapeOnly(nvlm.kernels.DType.F32, shape);
        }
        if (SKIP.get()) {
            return Tensor.zeros(shape);
        }
        float[] data = new float[Math.toIntExact(nvlm.tensor.Shape.numel(shape))];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        return Tensor.of(data, shape);
    }

    public static Tensor constant(double value, long... shape) {
        if (SHAPES_ONLY.get()) {
            return Tensor.shapeOnly(nvlm.kernels.DType.F32, shape);
        }
        return Tensor.full(value, shape);
    }
}
