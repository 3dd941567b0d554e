package nvlm.trainer.experiment;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A figure over seeds: mean and sample standard deviation (n - 1 in the denominator; 0 for one
 * seed, which the table shows as "n=1" rather than as a spread). NaN values (a family not
 * evaluated) make the result NaN.
 */
public record SeedStats(double mean, double sd, int n) {
    public static SeedStats of(List<Double> values) {
        int n = values.size();
        if (n == 0) {
            return new SeedStats(Double.NaN, Double.NaN, 0);
        }
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        double mean = sum / n;
        double squares = 0;
        for (double v : values) {
            squares += (v - mean) * (v - mean);
        }
        return new SeedStats(mean, n > 1 ? Math.sqrt(squares / (n - 1)) : 0, n);
    }

    /** {@code {"mean":..,"sd":..,"n":..}}. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mean", mean);
        m.put("sd", sd);
        m.put("n", (long) n);
        return m;
    }

    /** "83.5 +- 2.1%" for accuracies in [0, 1]; "83.5% (n=1)" for a single seed; "-" when not evaluated. */
    public String percent() {
        if (Double.isNaN(mean)) {
            return "-";
        }
        return n > 1 ? String.format(Locale.ROOT, "%.1f +- %.1f%%", 100 * mean, 100 * sd)
                : String.format(Locale.ROOT, "%.1f%% (n=1)", 100 * mean);
    }
}
