package nvlm.comm.tp;

import nvlm.comm.Communicator;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;
import nvlm.tensor.nn.Embedding;
import nvlm.tensor.nn.Module;
import nvlm.tensor.nn.Parameter;

/**
 * An {@link Embedding} whose vocabulary is split across the tensor-parallel ranks (Megatron's
 * VocabParallelEmbedding): rank r holds rows {@code [r*V/T, (r+1)*V/T)}; each rank looks up the ids
 * in its range, writes zeros for the others, and the ranks' results are summed.
 */
public final class VocabParallelEmbedding extends Module {
    private final Communicator tp;
    private final Parameter weight;
    private final long vocabStart;
    private final long vocabBlock;

    /** This rank's shard of {@code full}. */
    public VocabParallelEmbedding(Communicator tp, Embedding full, String name) {
        this.tp = tp;
        Tensor table = full.weight().value();
        this.vocabBlock = Shards.blockSize(table.size(0), tp.size(), name + ".weight (vocabulary)");
        this.vocabStart = tp.rank() * vocabBlock;
        this.weight = parameter("weight", Shards.block(table, 0, tp.rank(), tp.size(), name + ".weight"));
    }

    /** Embeddings [.., d] of I64 ids [..], the same on every rank. */
    public Tensor forward(Tensor ids) {
        long[] all = ids.toLongArray();
        long[] local = new long[all.length];
        float[] mask = new float[all.length];
        for (int i = 0; i < all.length; i++) {
            long id = all[i] - vocabStart;
            boolean mine = id >= 0 && id < vocabBlock;
            local[i] = mine ? id : 0;
            mask[i] = mine ? 1 : 0;
        }
        Tensor localIds = Tensor.of(local, ids.shape()).to(ids.device());
        long[] maskShape = java.util.Arrays.copyOf(ids.shape(), ids.dim() + 1);
        maskShape[ids.dim()] = 1;
        Tensor keep = Tensor.of(mask, maskShape).to(ids.device());
        return ParallelRegions.reduceFrom(F.embedding(localIds, weight.value()).mul(keep), tp);
    }

    /** The first vocabulary id this rank holds. */
    public long vocabStart() {
        return vocabStart;
    }

    public Parameter weight() {
        return weight;
    }
}
