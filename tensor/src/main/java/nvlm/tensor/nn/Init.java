package nvlm.tensor.nn;

import java.util.random.RandomGenerator;
import nvlm.tensor.Tensor;

/** Seeded parameter initialisation: the same generator state gives the same values. */
public final class Init {
    private Init() {
    }

    /** N(0, std^2). */
    public static Tensor normal(RandomGenerator rng, double std, long... shape) {
        float[] data = new float[Math.toIntExact(nvlm.tensor.Shape.numel(shape))];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (rng.nextGaussian() * std);
        }
        return Tensor.of(data, shape);
    }

    /** U(-bound, bound). */
    public static Tensor uniform(RandomGenerator rng, double bound, long... shape) {
        float[] data = new float[Math.toIntExact(nvlm.tensor.Shape.numel(shape))];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        return Tensor.of(data, shape);
    }

    public static Tensor constant(double value, long... shape) {
        return Tensor.full(value, shape);
    }
}
