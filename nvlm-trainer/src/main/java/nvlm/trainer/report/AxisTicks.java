package nvlm.trainer.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * "Nice" axis ticks (Heckbert, Graphics Gems 1990): steps of 1, 2, 2.5 or 5 times a power of
 * ten, an axis range widened to whole steps, and labels with just enough digits to tell the
 * ticks apart.
 *
 * @param min    lower end of the axis (a multiple of {@code step})
 * @param max    upper end of the axis (a multiple of {@code step})
 * @param step   distance between ticks
 * @param values the tick positions, {@code min} to {@code max}
 */
public record AxisTicks(double min, double max, double step, List<Double> values) {

    /** About {@code target} ticks covering [lo, hi]; a degenerate or empty range is widened. */
    public static AxisTicks nice(double lo, double hi, int target) {
        if (!Double.isFinite(lo) || !Double.isFinite(hi)) {
            lo = 0;
            hi = 1;
        }
        if (hi < lo) {
            double t = lo;
            lo = hi;
            hi = t;
        }
        if (hi - lo <= Math.abs(hi) * 1e-12) {
            double pad = lo == 0 ? 1 : Math.abs(lo) * 0.1;
            lo -= pad;
            hi += pad;
        }
        double step = niceNumber((hi - lo) / Math.max(1, target - 1));
        double min = Math.floor(lo / step) * step;
        double max = Math.ceil(hi / step) * step;
        List<Double> values = new ArrayList<>();
        long count = Math.round((max - min) / step);
        for (long i = 0; i <= count; i++) {
            values.add(min + i * step);
        }
        return new AxisTicks(min, max, step, List.copyOf(values));
    }

    /** The nice number (1, 2, 2.5, 5 times 10^k) closest to {@code x}. */
    static double niceNumber(double x) {
        double exponent = Math.floor(Math.log10(x));
        double fraction = x / Math.pow(10, exponent);
        double nice = fraction < 1.5 ? 1 : fraction < 2.25 ? 2 : fraction < 3.5 ? 2.5 : fraction < 7.5 ? 5 : 10;
        return nice * Math.pow(10, exponent);
    }

    /** A tick label: plain decimals sized to the step, or scientific for very small or large values. */
    public String label(double value) {
        double magnitude = Math.max(Math.abs(min), Math.abs(max));
        if (Math.abs(value) < step * 1e-9) {
            value = 0; // -0.0 and rounding noise at zero
        }
        if (magnitude >= 1e5 || magnitude < 1e-3) {
            int digits = Math.max(0, (int) Math.ceil(Math.log10(magnitude / step) - 1e-9));
            return String.format(Locale.ROOT, "%." + Math.min(digits, 6) + "e", value);
        }
        int decimals = Math.max(0, (int) Math.ceil(-Math.log10(step) - 1e-9));
        if (Math.abs(step * Math.pow(10, decimals) - Math.round(step * Math.pow(10, decimals))) > 1e-9) {
            decimals++; // steps like 0.25 need one more digit
        }
        return String.format(Locale.ROOT, "%." + Math.min(decimals, 10) + "f", value);
    }
}
