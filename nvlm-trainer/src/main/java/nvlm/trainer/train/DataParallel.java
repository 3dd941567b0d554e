package nvlm.trainer.train;

import java.util.ArrayList;
import java.util.List;
import nvlm.comm.Communicator;
import nvlm.comm.Reduction;
import nvlm.kernels.DType;
import nvlm.tensor.GradMode;
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
 * many small tensors does not pay one collective latency per tensor. The buckets are summed after
 * the backward pass, not overlapped with it (the autograd engine has no per-parameter hooks yet).
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
                    value.setGrad(Tensor.zeros(value.device(), DType.F32, value.shape()));
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
