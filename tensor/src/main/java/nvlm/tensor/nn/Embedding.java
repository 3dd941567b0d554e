package nvlm.tensor.nn;

import java.util.random.RandomGenerator;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;

/** A lookup table [vocab, dim], initialised N(0, 1) like PyTorch. */
public final class Embedding extends Module {
    private final Parameter weight;

    public Embedding(long vocab, long dim, RandomGenerator rng) {
        this.weight = parameter("weight", Init.normal(rng, 1.0, vocab, dim));
    }

    /** Rows for I64 ids of any shape: [..ids, dim]. */
    public Tensor forward(Tensor ids) {
        return F.embedding(ids, weight.value());
    }

    public Parameter weight() {
        return weight;
    }
}
