package nvlm.trainer.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import nvlm.tensor.io.Json;

/**
 * Exact-match accuracy per task family, image families first, then the text-only ones (named
 * {@code text_...}), with the predictions behind them.
 */
public record EvalResult(List<FamilyScore> scores, List<Prediction> predictions) {
    public static final String TEXT_PREFIX = "text_";

    public EvalResult {
        scores = List.copyOf(scores);
        predictions = List.copyOf(predictions);
    }

    /** Family to accuracy in [0, 1], in table order. */
    public Map<String, Double> accuracies() {
        Map<String, Double> out = new LinkedHashMap<>();
        for (FamilyScore s : scores) {
            out.put(s.family(), s.accuracy());
        }
        return out;
    }

    public FamilyScore score(String family) {
        for (FamilyScore s : scores) {
            if (s.family().equals(family)) {
                return s;
            }
        }
        throw new IllegalArgumentException("no evaluated family '" + family + "' (evaluated: " + accuracies().keySet() + ")");
    }

    /** Mean accuracy of the text-only families (NaN if there are none): the text skills of Table 8. */
    public double textOnlyAccuracy() {
        return mean(true);
    }

    /** Mean accuracy of the image families (NaN if there are none). */
    public double imageAccuracy() {
        return mean(false);
    }

    private double mean(boolean textOnly) {
        double sum = 0;
        int n = 0;
        for (FamilyScore s : scores) {
            if (s.textOnly() == textOnly && s.total() > 0) {
                sum += s.accuracy();
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** The JSON of {@code ./nvlm eval --json}: one object, family to accuracy in [0, 1]. */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        accuracies().forEach(m::put);
        return Json.write(m);
    }

    /** Reads {@link #toJson} back: family to accuracy. */
    public static Map<String, Double> parseJson(String json, String source) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (var e : Json.parseObject(json).entrySet()) {
            if (!(e.getValue() instanceof Number n) || !(n.doubleValue() >= 0 && n.doubleValue() <= 1)) {
                throw new IllegalArgumentException(source + ": accuracy of '" + e.getKey() + "' must be a number in [0, 1], got "
                        + e.getValue());
            }
            out.put(e.getKey(), n.doubleValue());
        }
        return out;
    }

    /** The evaluation table: image families, then the text-only families apart, each with its count. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        int width = 16;
        for (FamilyScore s : scores) {
            width = Math.max(width, s.family().length());
        }
        String row = "  %-" + width + "s  %8s  %9s%n";
        sb.append(String.format(Locale.ROOT, row, "family", "accuracy", "correct"));
        List<FamilyScore> image = new ArrayList<>();
        List<FamilyScore> text = new ArrayList<>();
        for (FamilyScore s : scores) {
            (s.textOnly() ? text : image).add(s);
        }
        appendGroup(sb, row, "image tasks", image, imageAccuracy());
        appendGroup(sb, row, "text-only tasks", text, textOnlyAccuracy());
        return sb.toString();
    }

    private static void appendGroup(StringBuilder sb, String row, String title, List<FamilyScore> group, double mean) {
        if (group.isEmpty()) {
            return;
        }
        sb.append("  ").append(title).append('\n');
        for (FamilyScore s : group) {
            sb.append(String.format(Locale.ROOT, row, s.family(), percent(s.accuracy()), s.correct() + "/" + s.total()));
        }
        if (group.size() > 1) {
            sb.append(String.format(Locale.ROOT, row, "mean", percent(mean), ""));
        }
    }

    static String percent(double accuracy) {
        return Double.isNaN(accuracy) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * accuracy);
    }
}
