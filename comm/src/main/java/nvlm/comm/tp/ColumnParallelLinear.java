package nvlm.comm.tp;

import nvlm.comm.Communicator;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Linear;
import nvlm.tensor.nn.Module;
import nvlm.tensor.nn.Parameter;

/**
 * A {@link Linear} whose output features are split across the tensor-parallel ranks (Megatron's
 * column-parallel layer): rank r holds rows {@code [r*out/T, (r+1)*out/T)} of the weight and bias,
 * takes the whole input (through {@link ParallelRegions#copyTo}) and returns its block of the
 * output features. The q/k/v and gate/up projections.
 */
public final class ColumnParallelLinear extends Module {
    private final Communicator tp;
    private final Parameter weight;
    private final Parameter bias;

    /** This rank's shard of {@code full}. */
    public ColumnParallelLinear(Communicator tp, Linear full, String name) {
        this.tp = tp;
        this.weight = parameter("weight", Shards.block(full.weight().value(), 0, tp.rank(), tp.size(), name + ".weight"));
        this.bias = full.bias() == null ? null
                : parameter("bias", Shards.block(full.bias().value(), 0, tp.rank(), tp.size(), name + ".bias"));
    }

    /** x [.., in] (the same on every rank) to this rank's output block [.., out/T]. */
    public Tensor forward(Tensor x) {
        return F.linear(ParallelRegions.copyTo(tp, x), weight.value(), bias == null ? null : bias.value());
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }
}
