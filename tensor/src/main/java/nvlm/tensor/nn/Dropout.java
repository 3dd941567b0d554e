package nvlm.tensor.nn;

import java.util.SplittableRandom;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;

/** Inverted dropout with its own seeded generator, active only in training mode. */
public final class Dropout extends Module {
    private final double p;
    private final SplittableRandom rng;

    public Dropout(double p, long seed) {
        if (p < 0 || p >= 1) {
            throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        }
        this.p = p;
        this.rng = new SplittableRandom(seed);
    }

    public Tensor forward(Tensor x) {
        return F.dropout(x, p, rng, isTraining());
    }
}
