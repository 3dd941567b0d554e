package nvlm.comm.tp;

import nvlm.comm.Communicator;
import nvlm.comm.Reduction;
import nvlm.kernels.DType;
import nvlm.tensor.F;
import nvlm.tensor.GradMode;
import nvlm.tensor.Tensor;

/**
 * Cross-entropy over logits whose vocabulary is split across the tensor-parallel ranks
 * (Megatron's vocab_parallel_cross_entropy): the whole [N, V] logits never exist on one rank. The
 * row maximum, the sum of exponentials and the target's logit are each all-reduced (max, sum, sum:
 * three collectives of N numbers); the loss is the mean over rows whose target is not
 * {@code ignoreIndex}, as {@link F#crossEntropy}, and the gradient of each rank's block is
 * {@code softmax - onehot} restricted to its columns.
 */
public final class VocabParallelCrossEntropy {
    private VocabParallelCrossEntropy() {
    }

    /**
     * @param logitsBlock [N, V/T]: this rank's columns, starting at vocabulary id {@code vocabStart}
     * @param targets     I64 [N], the same on every rank
     */
    public static Tensor loss(Communicator tp, Tensor logitsBlock, long vocabStart, Tensor targets, long ignoreIndex) {
        if (logitsBlock.dim() != 2 || targets.dim() != 1 || targets.size(0) != logitsBlock.size(0)) {
            throw new IllegalArgumentException("vocab-parallel cross-entropy: logits must be [N, V/T] and targets [N]; got "
                    + java.util.Arrays.toString(logitsBlock.shape()) + " and " + java.util.Arrays.toString(targets.shape()));
        }
        long n = logitsBlock.size(0);
        long block = logitsBlock.size(1);
        long[] t = targets.toLongArray();
        float[] onehot = new float[Math.toIntExact(n * block)];
        float[] labelled = new float[Math.toIntExact(n)];
        long count = 0;
        for (int i = 0; i < n; i++) {
            if (t[i] == ignoreIndex) {
                continue;
            }
            labelled[i] = 1;
            count++;
            long local = t[i] - vocabStart;
            if (local >= 0 && local < block) {
                onehot[Math.toIntExact(i * block + local)] = 1;
            }
        }
        Tensor x = logitsBlock.to(DType.F32).contiguous();
        Tensor oneHot = Tensor.of(onehot, n, block).to(x.device());
        Tensor rows = Tensor.of(labelled, n, 1).to(x.device());
        Tensor exp;
        Tensor sum;
        Tensor lossValue;
        try (var _ = GradMode.disabled()) {
            Tensor max = x.detach().amax(1, true).contiguousCopy();
            tp.allReduce(max, Reduction.MAX);
            exp = x.detach().sub(max).exp();
            sum = exp.sum(1, true).contiguousCopy();
            tp.allReduce(sum, Reduction.SUM);
            Tensor target = x.detach().mul(oneHot).sum(1, true).contiguousCopy();
            tp.allReduce(target, Reduction.SUM);
            Tensor perRow = sum.log().add(max).sub(target).mul(rows);
            double total = perRow.sum().item();
            lossValue = Tensor.full(x.device(), DType.F32, count == 0 ? Double.NaN : total / count);
        }
        long labelledRows = count;
        return F.function("vocab_parallel_cross_entropy", lossValue, new Tensor[] {x}, g -> {
            double scale = labelledRows == 0 ? 0 : g.item() / labelledRows;
            return new Tensor[] {exp.div(sum).sub(oneHot).mul(rows).mul(scale)};
        });
    }
}
