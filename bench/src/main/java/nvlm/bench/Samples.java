package nvlm.bench;

import java.util.Arrays;

/** What the benchmarks report of repeated timings. */
public final class Samples {
    private Samples() {
    }

    /** The median of {@code values} (the mean of the middle two for an even count); the array is not changed. */
    public static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
