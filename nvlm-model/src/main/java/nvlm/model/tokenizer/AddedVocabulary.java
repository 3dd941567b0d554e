package nvlm.model.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens in a text, leftmost first and longest at a position (Hugging Face uses an
 * Aho-Corasick automaton with leftmost-longest matching), and cuts the text around them.
 */
final class AddedVocabulary {
    /** A piece of text: either an added token ({@code id >= 0}) or plain text ({@code id = -1}). */
    record Segment(int start, int end, int id) {
    }

    private final Map<Character, List<AddedToken>> byFirstChar = new HashMap<>();

    AddedVocabulary(List<AddedToken> tokens) {
        for (AddedToken t : tokens) {
            byFirstChar.computeIfAbsent(t.content().charAt(0), k -> new ArrayList<>()).add(t);
        }
        for (List<AddedToken> list : byFirstChar.values()) {
            list.sort(Comparator.comparingInt((AddedToken t) -> t.content().length()).reversed());
        }
    }

    boolean isEmpty() {
        return byFirstChar.isEmpty();
    }

    /** Splits {@code text[from, to)}; token segments include any whitespace their lstrip/rstrip absorbed. */
    List<Segment> split(String text, int from, int to) {
        return split(text, from, to, null);
    }

    /**
     * {@link #split(String, int, int)}, but no token is matched over a character set in
     * {@code literal} (text a user typed: there {@code <|im_end|>} is ten characters, not a token).
     */
    List<Segment> split(String text, int from, int to, java.util.BitSet literal) {
        List<Segment> out = new ArrayList<>();
        int plainStart = from;
        int i = from;
        while (i < to) {
            AddedToken match = longestAt(text, i, to);
            if (match != null && literal != null) {
                int firstLiteral = literal.nextSetBit(i);
                if (firstLiteral >= 0 && firstLiteral < i + match.content().length()) {
                    match = null;
                }
            }
            if (match == null) {
                i++;
                continue;
            }
            int start = i;
            int end = i + match.content().length();
            if (match.lstrip()) {
                while (start > plainStart && Character.isWhitespace(text.charAt(start - 1))) {
                    start--;
                }
            }
            if (match.rstrip()) {
                while (end < to && Character.isWhitespace(text.charAt(end))) {
                    end++;
                }
            }
            if (start > plainStart) {
                out.add(new Segment(plainStart, start, -1));
            }
            out.add(new Segment(start, end, match.id()));
            plainStart = end;
            i = end;
        }
        if (plainStart < to) {
            out.add(new Segment(plainStart, to, -1));
        }
        return out;
    }

    private AddedToken longestAt(String text, int i, int to) {
        List<AddedToken> candidates = byFirstChar.get(text.charAt(i));
        if (candidates == null) {
            return null;
        }
        for (AddedToken t : candidates) {
            String c = t.content();
            if (i + c.length() <= to && text.startsWith(c, i) && (!t.singleWord() || isWordBoundary(text, i, i + c.length()))) {
                return t;
            }
        }
        return null;
    }

    /** single_word: the match must not continue a word on either side. */
    private static boolean isWordBoundary(String text, int start, int end) {
        boolean before = start == 0 || !isWordChar(text.codePointBefore(start));
        boolean after = end >= text.length() || !isWordChar(text.codePointAt(end));
        return before && after;
    }

    private static boolean isWordChar(int cp) {
        return Character.isLetterOrDigit(cp) || cp == '_';
    }
}
