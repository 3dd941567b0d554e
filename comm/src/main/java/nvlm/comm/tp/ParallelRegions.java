package nvlm.comm.tp;

import nvlm.comm.Communicator;
import nvlm.comm.Reduction;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;

/**
 * The two conjugate operations that Megatron-LM's tensor parallelism places around a sharded block
 * (Shoeybi et al. 2019, section 3, "f" and "g"): {@link #copyTo} is the identity forward and an
 * all-reduce of the gradient backward (the input of column-parallel layers, replicated on every
 * rank); {@link #reduceFrom} all-reduces the partial outputs forward and passes the gradient
 * through backward (the output of row-parallel layers).
 */
public final class ParallelRegions {
    private ParallelRegions() {
    }

    /** "f": {@code x} unchanged; its gradient is the sum of the ranks' gradients. */
    public static Tensor copyTo(Communicator tp, Tensor x) {
        if (tp.size() == 1) {
            return x;
        }
        return F.function("copy_to_tensor_parallel", x.detach(), new Tensor[] {x}, g -> {
            Tensor sum = g.contiguousCopy();
            tp.allReduce(sum, Reduction.SUM);
            return new Tensor[] {sum};
        });
    }

    /** "g": the sum of the ranks' {@code x}; the gradient passes through to each. */
    public static Tensor reduceFrom(Tensor x, Communicator tp) {
        if (tp.size() == 1) {
            return x;
        }
        Tensor sum = x.detach().contiguousCopy();
        tp.allReduce(sum, Reduction.SUM);
        return F.function("reduce_from_tensor_parallel", sum, new Tensor[] {x}, g -> new Tensor[] {g});
    }
}
