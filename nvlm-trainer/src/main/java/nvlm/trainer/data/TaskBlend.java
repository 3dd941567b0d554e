package nvlm.trainer.data;

import java.util.ArrayList;
import java.util.List;

/**
 * The blend of tasks in a dataset of the synthetic world (the paper's data blend, section 4):
 * weighted (family, view) entries, where the view is the image or its caption in text
 * ({@link SyntheticWorld#describedExample}). Weights are relative; {@link WorldDataset} realizes
 * them as exact counts.
 */
public record TaskBlend(List<Entry> entries) {
    /** One component: a family in one {@link View}. */
    public record Entry(Family family, View view, double weight) {
        public Entry {
            if (!(weight > 0) || Double.isInfinite(weight)) {
                throw new IllegalArgumentException("blend weight of " + family.id() + " must be positive, got " + weight);
            }
        }

        /** The image view ({@code described} false) or the described view. */
        public Entry(Family family, boolean described, double weight) {
            this(family, described ? View.DESCRIBED : View.IMAGE, weight);
        }

        public boolean described() {
            return view == View.DESCRIBED;
        }

        /** Whether the entry's samples come without a picture. */
        public boolean textOnly() {
            return !family.hasImage() || view.textOnly();
        }

        public String name() {
            return family.id() + (view != View.IMAGE && family.hasImage() ? "(" + view.id() + ")" : "");
        }
    }

    private static final List<Family> VQA = List.of(Family.OCR, Family.COUNTING, Family.SPATIAL, Family.CHART);
    private static final List<Family> TEXT = List.of(Family.TEXT_ARITHMETIC, Family.TEXT_STRING);

    public TaskBlend {
        entries = List.copyOf(entries);
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("a blend needs at least one entry");
        }
    }

    /** Only {@code family}, image view. */
    public static TaskBlend single(Family family) {
        return new TaskBlend(List.of(new Entry(family, false, 1)));
    }

    /**
     * Stage 0, decoder: text only, favouring no architecture (the paper starts all three from the
     * same text-only LLM). The text-only tasks (35%) and the image tasks in the described view
     * (65%: the picture's caption in words, then the question): the decoder learns the world's
     * language, its questions and the form of its answers, but never sees an image token or a tile
     * tag. The VQA families get most of the weight, the harder ones (OCR, chart) a little more.
     */
    public static TaskBlend stage0Text() {
        return stage0Text(0);
    }

    /**
     * {@link #stage0Text()} with {@code rowsShare} of each image task's weight moved from the
     * described view to the rows view ({@link View#ROWS}: the picture's cells written as rows of
     * symbols, still no image token, tile or tag). 0 is the default blend, entry for entry.
     */
    public static TaskBlend stage0Text(double rowsShare) {
        if (!(rowsShare >= 0 && rowsShare <= 1)) {
            throw new IllegalArgumentException("stage 0 rows share must be in [0, 1], got " + rowsShare);
        }
        List<Entry> e = new ArrayList<>();
        e.add(new Entry(Family.TEXT_ARITHMETIC, View.IMAGE, 0.17));
        e.add(new Entry(Family.TEXT_STRING, View.IMAGE, 0.18));
        e.add(new Entry(Family.CAPTION, View.DESCRIBED, 0.09));
        double[] weights = {0.16, 0.14, 0.12, 0.14};
        for (int i = 0; i < VQA.size(); i++) {
            if (rowsShare < 1) {
                e.add(new Entry(VQA.get(i), View.DESCRIBED, weights[i] * (1 - rowsShare)));
            }
        }
        for (int i = 0; i < VQA.size() && rowsShare > 0; i++) {
            e.add(new Entry(VQA.get(i), View.ROWS, weights[i] * rowsShare));
        }
        return new TaskBlend(e);
    }

    /** The blend as JSON: one {@code {"task", "weight"}} object per entry (what a recipe's hash covers). */
    public List<Object> toJson() {
        List<Object> out = new ArrayList<>();
        for (Entry en : entries) {
            java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("task", en.name());
            m.put("weight", en.weight());
            out.add(m);
        }
        return out;
    }

    /** Stage 1 (docs/model.md §11: captioning, VQA, charts, OCR): half captioning, half the image tasks. */
    public static TaskBlend stage1() {
        List<Entry> e = new ArrayList<>();
        e.add(new Entry(Family.CAPTION, false, 0.5));
        for (Family f : VQA) {
            e.add(new Entry(f, false, 0.5 / VQA.size()));
        }
        return new TaskBlend(e);
    }

    /**
     * Stage 2 (SFT): the image tasks with a little captioning, and {@code textFraction} of the
     * samples text-only (the paper's text-only SFT blend, Table 8); 0 leaves text out.
     */
    public static TaskBlend stage2(double textFraction) {
        if (!(textFraction >= 0 && textFraction < 1)) {
            throw new IllegalArgumentException("text-only fraction must be in [0, 1), got " + textFraction);
        }
        List<Entry> e = new ArrayList<>();
        double image = 1 - textFraction;
        e.add(new Entry(Family.CAPTION, false, image * 0.1));
        for (Family f : VQA) {
            e.add(new Entry(f, false, image * 0.9 / VQA.size()));
        }
        if (textFraction > 0) {
            for (Family f : TEXT) {
                e.add(new Entry(f, false, textFraction / TEXT.size()));
            }
        }
        return new TaskBlend(e);
    }

    /** The text-only tasks alone, in equal parts (what is mixed into user data in stage 2). */
    public static TaskBlend textOnly() {
        List<Entry> e = new ArrayList<>();
        for (Family f : TEXT) {
            e.add(new Entry(f, View.IMAGE, 1.0 / TEXT.size()));
        }
        return new TaskBlend(e);
    }

    /** The fraction of samples that are text-only (no image). */
    public double textFraction() {
        double text = 0;
        double total = 0;
        for (Entry e : entries) {
            total += e.weight;
            if (e.textOnly()) {
                text += e.weight;
            }
        }
        return text / total;
    }

    /** Exact counts per entry for {@code size} samples (see {@link #apportion}). */
    public int[] counts(int size) {
        double[] w = new double[entries.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = entries.get(i).weight;
        }
        return apportion(w, size);
    }

    /**
     * {@code size} split in proportion to {@code weights} (non-negative, not all 0): floors
     * first, then the remainder to the largest fractional parts (ties to the earlier weight).
     */
    public static int[] apportion(double[] weights, int size) {
        double total = 0;
        for (double w : weights) {
            if (!(w >= 0) || Double.isInfinite(w)) {
                throw new IllegalArgumentException("weights must be finite and >= 0, got " + w);
            }
            total += w;
        }
        if (total == 0) {
            throw new IllegalArgumentException("weights are all 0");
        }
        int[] counts = new int[weights.length];
        double[] frac = new double[weights.length];
        int assigned = 0;
        for (int i = 0; i < counts.length; i++) {
            double exact = weights[i] / total * size;
            counts[i] = (int) Math.floor(exact);
            frac[i] = exact - counts[i];
            assigned += counts[i];
        }
        for (; assigned < size; assigned++) {
            int best = 0;
            for (int i = 1; i < frac.length; i++) {
                if (frac[i] > frac[best]) {
                    best = i;
                }
            }
            counts[best]++;
            frac[best] = -1;
        }
        return counts;
    }
}
