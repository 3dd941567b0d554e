package nvlm.comm.tp;

import nvlm.tensor.Tensor;

/** Which block of a dimension a tensor-parallel rank holds: equal blocks in rank order. */
final class Shards {
    private Shards() {
    }

    static long blockSize(long total, int ranks, String what) {
        if (total % ranks != 0) {
            throw new IllegalArgumentException(what + ": " + total + " is not divisible by the tensor-parallel size " + ranks);
        }
        return total / ranks;
    }

    /** Block {@code rank} of {@code ranks} of {@code full} along {@code dim}, as a fresh contiguous leaf. */
    static Tensor block(Tensor full, int dim, int rank, int ranks, String what) {
        long size = blockSize(full.size(dim), ranks, what);
        return full.detach().narrow(dim, rank * size, size).contiguousCopy().detach();
    }
}
