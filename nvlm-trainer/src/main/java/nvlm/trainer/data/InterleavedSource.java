package nvlm.trainer.data;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Several example sources interleaved in fixed proportions (exact counts, positions shuffled by
 * {@code seed}); a source shorter than its share is cycled. The use it exists for: a user's
 * multimodal data with the world's text-only tasks mixed in ({@link #withTextOnly}).
 */
public final class InterleavedSource implements ExampleSource {
    private final List<ExampleSource> sources;
    private final byte[] sourceOf;
    private final int[] indexIn;

    public InterleavedSource(List<ExampleSource> sources, double[] weights, int size, long seed) {
        if (sources.size() != weights.length || sources.isEmpty() || sources.size() > Byte.MAX_VALUE) {
            throw new IllegalArgumentException("an interleaved source needs 1.." + Byte.MAX_VALUE + " sources with one weight each, got "
                    + sources.size() + " sources and " + weights.length + " weights");
        }
        this.sources = List.copyOf(sources);
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] > 0 && sources.get(i).size() == 0) {
                throw new IllegalArgumentException("interleaved source " + i + " is empty but has weight " + weights[i]);
            }
        }
        int[] counts = TaskBlend.apportion(weights, size);
        sourceOf = new byte[size];
        int at = 0;
        for (int s = 0; s < counts.length; s++) {
            for (int k = 0; k < counts[s]; k++) {
                sourceOf[at++] = (byte) s;
            }
        }
        SplittableRandom rng = new SplittableRandom(Seeds.derive(seed, 0x313c7L, size));
        for (int i = size - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            byte t = sourceOf[i];
            sourceOf[i] = sourceOf[j];
            sourceOf[j] = t;
        }
        indexIn = new int[size];
        int[] next = new int[sources.size()];
        for (int i = 0; i < size; i++) {
            int s = sourceOf[i];
            indexIn[i] = next[s]++ % sources.get(s).size();
        }
    }

    /**
     * {@code multimodal} with {@code textFraction} of {@code size} samples drawn from
     * {@code textOnly} instead (the stage-2 text-only mixing ratio).
     */
    public static InterleavedSource withTextOnly(ExampleSource multimodal, ExampleSource textOnly, double textFraction, int size, long seed) {
        if (!(textFraction >= 0 && textFraction < 1)) {
            throw new IllegalArgumentException("text-only fraction must be in [0, 1), got " + textFraction);
        }
        if (textFraction == 0) {
            return new InterleavedSource(List.of(multimodal), new double[] {1}, size, seed);
        }
        return new InterleavedSource(List.of(multimodal, textOnly), new double[] {1 - textFraction, textFraction}, size, seed);
    }

    @Override
    public int size() {
        return sourceOf.length;
    }

    @Override
    public Example get(int index) {
        return sources.get(sourceOf[index]).get(indexIn[index]);
    }

    @Override
    public Outline outline(int index) {
        return sources.get(sourceOf[index]).outline(indexIn[index]);
    }
}
