package nvlm.trainer.data;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import nvlm.kernels.Parallel;
import nvlm.model.Batch;
import nvlm.model.prompt.BatchArrays;
import nvlm.model.prompt.Sample;
import nvlm.tensor.F;

/**
 * Batches of an {@link ExampleSource} for one model: examples encoded by a {@link SampleEncoder}
 * (in parallel on {@link Parallel}'s threads), grouped by {@link LengthBucketSampler}, collated to the
 * arrays of docs/model.md §10 and to the tensor {@link Batch}. Batch {@code step} of epoch
 * {@code e} is a pure function of (source, encoder, batch size, pool, seed, e, step), which is
 * what a bit-identical {@code --resume} needs. Nothing is cached on disk; token lengths are kept
 * in memory after the first epoch plan.
 */
public final class DataLoader {
    /** One batch: which examples, their samples, the collated arrays and tensors. */
    public record Loaded(int[] indices, List<Example> examples, List<Sample> samples, BatchArrays arrays,
                         Batch tensors) {
        /** Tokens that carry a label (what the loss averages over). */
        public long labelledTokens() {
            long n = 0;
            for (long l : arrays.labels()) {
                if (l != F.IGNORE_INDEX) {
                    n++;
                }
            }
            return n;
        }

        /** Real (non-padding) tokens. */
        public long tokens() {
            long n = 0;
            for (Sample s : samples) {
                n += s.length();
            }
            return n;
        }
    }

    private final ExampleSource source;
    private final SampleEncoder encoder;
    private final int batchSize;
    private final int poolBatches;
    private final long seed;
    private volatile LengthBucketSampler sampler;

    /**
     * @param poolBatches length-bucketing pool, in batches (1: no bucketing, plain shuffled batches)
     */
    public DataLoader(ExampleSource source, SampleEncoder encoder, int batchSize, int poolBatches, long seed) {
        if (source.size() == 0) {
            throw new IllegalArgumentException("data loader: the example source is empty");
        }
        this.source = source;
        this.encoder = encoder;
        this.batchSize = batchSize;
        this.poolBatches = poolBatches;
        this.seed = seed;
        if (batchSize < 1 || poolBatches < 1) {
            throw new IllegalArgumentException("batch size and pool batches must be >= 1, got " + batchSize + ", " + poolBatches);
        }
    }

    public ExampleSource source() {
        return source;
    }

    public SampleEncoder encoder() {
        return encoder;
    }

    /** Token length of every example (computed once, from outlines: nothing is drawn or decoded). */
    public int[] lengths() {
        return sampler().lengthsCopy();
    }

    public LengthBucketSampler sampler() {
        LengthBucketSampler s = sampler;
        if (s == null) {
            synchronized (this) {
                s = sampler;
                if (s == null) {
                    int[] lengths = new int[source.size()];
                    Parallel.forEach(lengths.length, i -> lengths[i] = encoder.length(source.outline(i)));
                    s = new LengthBucketSampler(lengths, batchSize, poolBatches, seed);
                    sampler = s;
                }
            }
        }
        return s;
    }

    public int batchesPerEpoch() {
        return sampler().batchesPerEpoch();
    }

    /** The example indices of every batch of {@code epoch}, in order. */
    public List<int[]> plan(long epoch) {
        return sampler().epoch(epoch);
    }

    /** Batch {@code step} of {@code epoch}. */
    public Loaded batch(long epoch, int step) {
        List<int[]> plan = plan(epoch);
        if (step < 0 || step >= plan.size()) {
            throw new IndexOutOfBoundsException("step " + step + " of an epoch of " + plan.size() + " batches");
        }
        return load(plan.get(step));
    }

    /** Encodes and collates the examples {@code indices}. */
    public Loaded load(int[] indices) {
        Example[] examples = new Example[indices.length];
        Sample[] samples = new Sample[indices.length];
        Parallel.forEach(indices.length, i -> {
            examples[i] = source.get(indices[i]);
            samples[i] = encoder.encode(examples[i]);
        });
        List<Sample> list = Arrays.asList(samples);
        BatchArrays arrays = BatchArrays.collate(list, encoder.padId());
        return new Loaded(indices.clone(), List.of(examples), List.copyOf(list), arrays, Batch.of(arrays));
    }

    /** The batches of {@code epoch} from {@code firstStep} on, encoded as they are taken. */
    public Iterator<Loaded> epoch(long epoch, int firstStep) {
        List<int[]> plan = plan(epoch);
        return new Iterator<>() {
            private int step = firstStep;

            @Override
            public boolean hasNext() {
                return step < plan.size();
            }

            @Override
            public Loaded next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("epoch " + epoch + " has " + plan.size() + " batches");
                }
                return load(plan.get(step++));
            }
        };
    }
}
