package nvlm.trainer.data;

import java.util.SplittableRandom;

/**
 * {@code size} examples of one split of the synthetic world in the proportions of a
 * {@link Blend} (exact counts, positions shuffled by the world seed). Example {@code i} of the
 * dataset is {@code world.example(split, family, i)} of its entry's family, so two datasets of
 * the same split and seed agree wherever their entries agree.
 */
public final class WorldDataset implements ExampleSource {
    private final SyntheticWorld world;
    private final Split split;
    private final Blend blend;
    private final byte[] entryOf;

    public WorldDataset(SyntheticWorld world, Split split, Blend blend, int size) {
        if (size < 0) {
            throw new IllegalArgumentException("dataset size must be >= 0, got " + size);
        }
        if (blend.entries().size() > Byte.MAX_VALUE) {
            throw new IllegalArgumentException("a blend has at most " + Byte.MAX_VALUE + " entries");
        }
        this.world = world;
        this.split = split;
        this.blend = blend;
        this.entryOf = new byte[size];
        int[] counts = blend.counts(size);
        int at = 0;
        for (int e = 0; e < counts.length; e++) {
            for (int k = 0; k < counts[e]; k++) {
                entryOf[at++] = (byte) e;
            }
        }
        SplittableRandom rng = new SplittableRandom(Mix.seed(world.config().seed(), split.salt(), 0xb1e9dL, size));
        for (int i = size - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            byte t = entryOf[i];
            entryOf[i] = entryOf[j];
            entryOf[j] = t;
        }
    }

    public SyntheticWorld world() {
        return world;
    }

    public Split split() {
        return split;
    }

    public Blend blend() {
        return blend;
    }

    /** The blend entry of example {@code index}. */
    public Blend.Entry entry(int index) {
        return blend.entries().get(entryOf[index]);
    }

    @Override
    public int size() {
        return entryOf.length;
    }

    @Override
    public Example get(int index) {
        Blend.Entry e = entry(index);
        return e.described() ? world.describedExample(split, e.family(), index) : world.example(split, e.family(), index);
    }

    @Override
    public Outline outline(int index) {
        Blend.Entry e = entry(index);
        return world.outline(split, e.family(), index, e.described());
    }

    /** The task behind example {@code index} (scene, question, answer, key). */
    public Task task(int index) {
        return world.task(split, entry(index).family(), index);
    }
}
