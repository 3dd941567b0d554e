package nvlm.trainer.backbone;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import nvlm.trainer.data.CellSymbols;

/**
 * How well the stage-0 vision head tells cell symbols on held-out pictures, per kind of cell
 * (empty cells far outnumber the rest, so the overall figure alone would hide a blind spot).
 */
public record CellAccuracy(Map<String, int[]> byKind) {
    /** Kind of a symbol: "empty" (frame variants included), "glyph", "shape" or "bar". */
    public static String kind(char symbol) {
        if (symbol == CellSymbols.BAR) {
            return "bar";
        }
        if (Character.isUpperCase(symbol) || Character.isDigit(symbol)) {
            return "glyph";
        }
        if (Character.isLowerCase(symbol)) {
            return "shape";
        }
        return "empty";
    }

    public static CellAccuracy of(long[] targets, long[] predicted) {
        Map<String, int[]> m = new LinkedHashMap<>();
        for (String k : new String[] {"empty", "glyph", "shape", "bar"}) {
            m.put(k, new int[2]);
        }
        for (int i = 0; i < targets.length; i++) {
            int[] c = m.get(kind(CellSymbols.ALPHABET.charAt((int) targets[i])));
            c[1]++;
            if (predicted[i] == targets[i]) {
                c[0]++;
            }
        }
        return new CellAccuracy(m);
    }

    public double accuracy(String kind) {
        int[] c = byKind.get(kind);
        return c == null || c[1] == 0 ? Double.NaN : (double) c[0] / c[1];
    }

    /** Every cell, all kinds together. */
    public double overall() {
        long right = 0;
        long total = 0;
        for (int[] c : byKind.values()) {
            right += c[0];
            total += c[1];
        }
        return total == 0 ? Double.NaN : (double) right / total;
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("overall", overall());
        byKind.forEach((k, c) -> m.put(k, c[1] == 0 ? null : (double) c[0] / c[1]));
        return m;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "cells %.2f%%", 100 * overall()));
        byKind.forEach((k, c) -> sb.append(String.format(Locale.ROOT, ", %s %.2f%% (%d)", k, 100.0 * c[0] / Math.max(1, c[1]), c[1])));
        return sb.toString();
    }
}
