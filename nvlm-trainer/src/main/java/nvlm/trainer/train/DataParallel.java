package nvlm.trainer.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import nvlm.comm.Communicator;
import nvlm.comm.Reduction;
import nvlm.kernels.DType;
import nvlm.tensor.GradMode;
import nvlm.tensor.MemoryScope;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Parameter;

/**
 * Data parallelism over a {@link Communicator}: the ranks hold the same model, share each
 * optimizer step's micro-batches round-robin (micro-batch {@code i} goes to rank
 * {@code i mod size}), and sum their gradients before the optimizer steps, so every rank applies
 * the same update. With the loss weights of the whole step ({@link Trainer}: labelled tokens of
 * the micro-batch over those of the step, counted across ranks) the summed gradient is the one a
 * single process computes over the same micro-batches, up to the order of the sums.
 *
 * <p>Gradients go in buckets of about {@code bucketBytes} (PyTorch DDP's 25 MB by default): each
 * bucket is packed into one flat F32 tensor and summed with one all-reduce, so that a model of
 * many small tensors does not pay one collective latency per tensor. {@link #allReduceGradients}
 * sums them after the backward pass (the blocking path, {@code --no-overlap}); {@link Reducer}
 * starts each bucket during the backward pass as soon as its gradients are final (the default).
 * A parameter that no rank's backward reached keeps a null gradient (so AdamW still skips it);
 * one that some rank's did gets zeros on the others first.
 */
public final class DataParallel {
    /** PyTorch DistributedDataParallel's default bucket size. */
    public static final long DEFAULT_BUCKET_BYTES = 25L << 20;

    private final Communicator comm;
    private final long bucketElements;

    public DataParallel(Communicator comm, long bucketBytes) {
        if (bucketBytes < 4) {
            throw new IllegalArgumentException("data parallel: bucket size must be at least 4 bytes, got " + bucketBytes);
        }
        this.comm = comm;
        this.bucketElements = bucketBytes / 4;
    }

    public Communicator communicator() {
        return comm;
    }

    /** Whether this rank computes micro-batch {@code microStep} of a step. */
    public boolean owns(int microStep) {
        return microStep % comm.size() == comm.rank();
    }

    /** Checks that a step's {@code accumulation} micro-batches share evenly among the ranks. */
    public void requireEvenShare(int accumulation) {
        if (accumulation % comm.size() != 0) {
            throw new IllegalArgumentException("data parallel over " + comm.size() + " ranks: gradient accumulation "
                    + accumulation + " must be a multiple of " + comm.size() + " (each rank takes accumulation / ranks"
                    + " micro-batches of every step; --accumulation sets it)");
        }
    }

    /**
     * ZeRO stage 1's partition: the rank that owns (keeps the optimizer state of and updates) each
     * of {@code params}, largest first onto the least-loaded rank, so every rank computes the same.
     */
    public int[] owners(List<Parameter> params) {
        int[] owner = new int[params.size()];
        long[] load = new long[comm.size()];
        Integer[] order = new Integer[params.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Long.compare(params.get(b).value().numel(), params.get(a).value().numel()));
        for (int i : order) {
            int least = 0;
            for (int r = 1; r < load.length; r++) {
                if (load[r] < load[least]) {
                    least = r;
                }
            }
            owner[i] = least;
            load[least] += params.get(i).value().numel();
        }
        return owner;
    }

    /** After each owner has updated its parameters, every rank receives them. */
    public void broadcastFromOwners(List<Parameter> params, int[] owners) {
        try (var _ = GradMode.disabled()) {
            for (int i = 0; i < owners.length; i++) {
                comm.broadcast(params.get(i).value(), owners[i]);
            }
        }
    }

    /**
     * The whole optimizer state of {@code names} (ZeRO-1: each owner's moments, sent to every rank),
     * as one process's {@code AdamW.stateDict} would be: what a checkpoint stores, so that it
     * loads under any number of ranks.
     */
    public Map<String, Tensor> gatherOptimizerState(Map<String, Tensor> local, Map<String, Parameter> names, int[] owners) {
        List<String> order = new ArrayList<>(names.keySet());
        double[] present = new double[order.size()];
        for (int i = 0; i < present.length; i++) {
            present[i] = owners[i] == comm.rank() && local.containsKey(order.get(i) + ".exp_avg") ? 1 : 0;
        }
        comm.allReduce(present, Reduction.MAX);
        Map<String, Tensor> out = new java.util.LinkedHashMap<>();
        out.put("step", local.get("step"));
        try (var _ = GradMode.disabled()) {
            for (int i = 0; i < present.length; i++) {
                if (present[i] == 0) {
                    continue;
                }
                for (String suffix : List.of(".exp_avg", ".exp_avg_sq")) {
                    String key = order.get(i) + suffix;
                    Tensor t = owners[i] == comm.rank() ? local.get(key).contiguousCopy().detach()
                            : Tensor.zeros(names.get(order.get(i)).value().device(), DType.F32, names.get(order.get(i)).value().shape());
                    comm.broadcast(t, owners[i]);
                    out.put(key, t);
                }
            }
        }
        return out;
    }

    /** Sums the gradients of {@code params} over the ranks, in place, in buckets. */
    public void allReduceGradients(List<Parameter> params) {
        if (comm.size() == 1) {
            return;
        }
        // Which parameters some rank has a gradient for: a null gradient must stay null everywhere
        // or nowhere, or the replicas' optimizers would diverge.
        double[] present = new double[params.size()];
        for (int i = 0; i < present.length; i++) {
            present[i] = params.get(i).value().grad() != null ? 1 : 0;
        }
        comm.allReduce(present, Reduction.MAX);
        List<Tensor> grads = new ArrayList<>();
        try (var _ = GradMode.disabled()) {
            for (int i = 0; i < present.length; i++) {
                if (present[i] == 0) {
                    continue;
                }
                Tensor value = params.get(i).value();
                if (value.grad() == null) {
                    // In the parameter's own scope, as autograd's gradients: made in the step's scope,
                    // it would be released at the step's end and its recycled buffer reused after that.
                    value.setGrad(MemoryScope.runIn(value.storage().scope(),
                            () -> Tensor.zeros(value.device(), DType.F32, value.shape())));
                }
                grads.add(value.grad());
            }
            int start = 0;
            while (start < grads.size()) {
                long elements = 0;
                int end = start;
                while (end < grads.size() && (end == start || elements + grads.get(end).numel() <= bucketElements)) {
                    elements += grads.get(end).numel();
                    end++;
                }
                reduceBucket(grads.subList(start, end), elements);
                start = end;
            }
        }
    }

    private void reduceBucket(List<Tensor> grads, long elements) {
        if (grads.size() == 1 && grads.getFirst().isContiguous() && grads.getFirst().dtype() == DType.F32) {
            comm.allReduce(grads.getFirst());
            return;
        }
        Tensor bucket = Tensor.empty(grads.getFirst().device(), DType.F32, elements);
        long offset = 0;
        for (Tensor g : grads) {
            bucket.narrow(0, offset, g.numel()).copy_(g.reshape(g.numel()));
            offset += g.numel();
        }
        comm.allReduce(bucket);
        offset = 0;
        for (Tensor g : grads) {
            g.copy_(bucket.narrow(0, offset, g.numel()).view(g.shape()));
            offset += g.numel();
        }
    }
}
