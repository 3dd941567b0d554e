package nvlm.model.tokenizer;

import java.text.Normalizer;
import java.util.List;

/**
 * A stretch of input text after Unicode normalization, with the input span {@code [origStart[i],
 * origEnd[i])} each normalized char came from.
 *
 * <p>It normalizes in chunks that start at ASCII characters: no Unicode normal form composes,
 * decomposes or reorders across an ASCII character (ASCII is a starter that nothing composes
 * with), so the chunks' normal forms concatenate to the normal form of the whole stretch, and a
 * chunk that normalization changed maps back to its own span rather than to the whole stretch.
 */
record NormalizedText(String text, int[] origStart, int[] origEnd) {

    static NormalizedText of(String input, int from, int to, List<Normalizer.Form> forms) {
        String stretch = input.substring(from, to);
        if (forms.isEmpty() || isNormalized(stretch, forms)) {
            int[] s = new int[stretch.length()];
            int[] e = new int[stretch.length()];
            for (int i = 0; i < s.length; i++) {
                s[i] = from + i;
                e[i] = from + i + 1;
            }
            return new NormalizedText(stretch, s, e);
        }
        StringBuilder out = new StringBuilder();
        IntList s = new IntList();
        IntList e = new IntList();
        int chunkStart = from;
        for (int i = from + 1; i <= to; i++) {
            if (i == to || input.charAt(i) < 0x80) {
                String chunk = input.substring(chunkStart, i);
                String n = chunk;
                for (Normalizer.Form form : forms) {
                    n = Normalizer.normalize(n, form);
                }
                for (int k = 0; k < n.length(); k++) {
                    boolean same = n.equals(chunk);
                    s.add(same ? chunkStart + k : chunkStart);
                    e.add(same ? chunkStart + k + 1 : i);
                }
                out.append(n);
                chunkStart = i;
            }
        }
        return new NormalizedText(out.toString(), s.toArray(), e.toArray());
    }

    private static boolean isNormalized(String s, List<Normalizer.Form> forms) {
        for (Normalizer.Form form : forms) {
            if (!Normalizer.isNormalized(s, form)) {
                return false;
            }
        }
        return true;
    }
}
