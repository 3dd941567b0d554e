package nvlm.comm.tp;

import nvlm.comm.Communicator;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Linear;
import nvlm.tensor.nn.Module;
import nvlm.tensor.nn.Parameter;

/**
 * A {@link Linear} whose input features are split across the tensor-parallel ranks (Megatron's
 * row-parallel layer): rank r holds columns {@code [r*in/T, (r+1)*in/T)} of the weight, takes its
 * block of the input (a column-parallel layer's output) and the partial products are summed
 * ({@link ParallelRegions#reduceFrom}); the bias, whole on every rank, is added after the sum.
 * The o and down projections.
 */
public final class RowParallelLinear extends Module {
    private final Communicator tp;
    private final Parameter weight;
    private final Parameter bias;

    /** This rank's shard of {@code full}. */
    public RowParallelLinear(Communicator tp, Linear full, String name) {
        this.tp = tp;
        this.weight = parameter("weight", Shards.block(full.weight().value(), 1, tp.rank(), tp.size(), name + ".weight"));
        this.bias = full.bias() == null ? null : parameter("bias", full.bias().value().detach().contiguousCopy().detach());
    }

    /** This rank's input block [.., in/T] to the whole output [.., out], the same on every rank. */
    public Tensor forward(Tensor xBlock) {
        Tensor y = ParallelRegions.reduceFrom(F.linear(xBlock, weight.value(), null), tp);
        return bias == null ? y : y.add(bias.value());
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }
}
