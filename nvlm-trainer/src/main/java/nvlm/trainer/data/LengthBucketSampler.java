package nvlm.trainer.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Batches of example indices with length bucketing: each epoch shuffles the indices, cuts them
 * into pools of {@code batchSize * poolBatches}, sorts each pool by token length and cuts it into
 * batches, then shuffles the batches. Examples of similar length share a batch (less padding)
 * while batches stay random. Every index appears exactly once per epoch; the last batch of a pool
 * may be smaller. Deterministic per (seed, epoch).
 */
public final class LengthBucketSampler {
    private final int[] lengths;
    private final int batchSize;
    private final int poolBatches;
    private final long seed;

    /**
     * @param lengths     token length of each example
     * @param poolBatches batches per sorting pool: 1 is a plain shuffle, larger pools pad less but mix less
     */
    public LengthBucketSampler(int[] lengths, int batchSize, int poolBatches, long seed) {
        if (batchSize < 1 || poolBatches < 1) {
            throw new IllegalArgumentException("batch size and pool batches must be >= 1, got " + batchSize + ", " + poolBatches);
        }
        if (lengths.length == 0) {
            throw new IllegalArgumentException("no examples to batch");
        }
        this.lengths = lengths.clone();
        this.batchSize = batchSize;
        this.poolBatches = poolBatches;
        this.seed = seed;
    }

    public int size() {
        return lengths.length;
    }

    /** The token lengths the batches are bucketed by. */
    public int[] lengthsCopy() {
        return lengths.clone();
    }

    /** Batches in an epoch. */
    public int batchesPerEpoch() {
        int pool = batchSize * poolBatches;
        int full = lengths.length / pool;
        int rest = lengths.length % pool;
        return full * poolBatches + (rest + batchSize - 1) / batchSize;
    }

    /** The batches of {@code epoch}, in training order. */
    public List<int[]> epoch(long epoch) {
        SplittableRandom rng = new SplittableRandom(Seeds.derive(seed, 0xb0c3e7L, epoch));
        int n = lengths.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            Integer t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        List<int[]> batches = new ArrayList<>(batchesPerEpoch());
        int pool = batchSize * poolBatches;
        for (int start = 0; start < n; start += pool) {
            Integer[] chunk = Arrays.copyOfRange(order, start, Math.min(n, start + pool));
            // Stable sort: equal lengths keep their shuffled order.
            Arrays.sort(chunk, (a, b) -> Integer.compare(lengths[a], lengths[b]));
            for (int b = 0; b < chunk.length; b += batchSize) {
                int[] batch = new int[Math.min(batchSize, chunk.length - b)];
                for (int i = 0; i < batch.length; i++) {
                    batch[i] = chunk[b + i];
                }
                batches.add(batch);
            }
        }
        for (int i = batches.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int[] t = batches.get(i);
            batches.set(i, batches.get(j));
            batches.set(j, t);
        }
        return batches;
    }

    /** Padding tokens of an epoch's batches when each is padded to its longest example (to measure bucketing). */
    public long paddingTokens(List<int[]> batches) {
        long pad = 0;
        for (int[] batch : batches) {
            int max = 0;
            for (int i : batch) {
                max = Math.max(max, lengths[i]);
            }
            for (int i : batch) {
                pad += max - lengths[i];
            }
        }
        return pad;
    }
}
