package nvlm.trainer.data;

import java.util.SplittableRandom;
import nvlm.model.tiling.TagMode;

/**
 * {@code size} examples of one split of the synthetic world in the proportions of a
 * {@link TaskBlend} (exact counts, positions shuffled by the world seed). Example {@code i} of the
 * dataset is {@code world.example(split, family, i)} of its entry's family, so two datasets of
 * the same split and seed agree wherever their entries agree.
 */
public final class WorldDataset implements ExampleSource {
    private final SyntheticWorld world;
    private final Split split;
    private final TaskBlend blend;
    private final byte[] entryOf;
    private final TagMode tagMode;
    private final int questions;

    /** A dataset with 1d tile tags (docs/model.md §6, the default). */
    public WorldDataset(SyntheticWorld world, Split split, TaskBlend blend, int size) {
        this(world, split, blend, size, TagMode.ONE_D);
    }

    /** {@code tagMode}: the tile tags of the pictures, the model's (docs/model.md §6). */
    public WorldDataset(SyntheticWorld world, Split split, TaskBlend blend, int size, TagMode tagMode) {
        this(world, split, blend, size, tagMode, 1);
    }

    /**
     * {@code questions}: questions per picture; above 1, each image example is a conversation
     * about its picture ({@link SyntheticWorld#example(Split, Family, long, View, TagMode, int)}).
     */
    public WorldDataset(SyntheticWorld world, Split split, TaskBlend blend, int size, TagMode tagMode, int questions) {
        if (questions < 1) {
            throw new IllegalArgumentException("questions per picture must be >= 1, got " + questions);
        }
        this.questions = questions;
        if (size < 0) {
            throw new IllegalArgumentException("dataset size must be >= 0, got " + size);
        }
        if (blend.entries().size() > Byte.MAX_VALUE) {
            throw new IllegalArgumentException("a blend has at most " + Byte.MAX_VALUE + " entries");
        }
        this.world = world;
        this.split = split;
        this.blend = blend;
        this.tagMode = tagMode;
        this.entryOf = new byte[size];
        int[] counts = blend.counts(size);
        int at = 0;
        for (int e = 0; e < counts.length; e++) {
            for (int k = 0; k < counts[e]; k++) {
                entryOf[at++] = (byte) e;
            }
        }
        SplittableRandom rng = new SplittableRandom(Seeds.derive(world.config().seed(), split.salt(), 0xb1e9dL, size));
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

    public TaskBlend blend() {
        return blend;
    }

    /** The blend entry of example {@code index}. */
    public TaskBlend.Entry entry(int index) {
        return blend.entries().get(entryOf[index]);
    }

    @Override
    public int size() {
        return entryOf.length;
    }

    @Override
    public Example get(int index) {
        TaskBlend.Entry e = entry(index);
        return world.example(split, e.family(), index, e.view(), tagMode, questions);
    }

    @Override
    public Outline outline(int index) {
        TaskBlend.Entry e = entry(index);
        return world.outline(split, e.family(), index, e.view(), tagMode, questions);
    }

    /** The task behind example {@code index} (scene, question, answer, key). */
    public Task task(int index) {
        return world.task(split, entry(index).family(), index);
    }
}
