package nvlm.tensor.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class JsonTest {

    /** A random JSON value built from a seed: nested maps and lists of every scalar kind. */
    static Object randomValue(SplittableRandom random, int depth) {
        int kind = random.nextInt(depth >= 4 ? 6 : 8);
        return switch (kind) {
            case 0 -> null;
            case 1 -> random.nextBoolean();
            case 2 -> randomLong(random);
            case 3 -> randomDouble(random);
            case 4, 5 -> randomString(random);
            case 6 -> {
                List<Object> list = new ArrayList<>();
                int n = random.nextInt(5);
                for (int i = 0; i < n; i++) {
                    list.add(randomValue(random, depth + 1));
                }
                yield list;
            }
            default -> {
                Map<String, Object> map = new LinkedHashMap<>();
                int n = random.nextInt(5);
                for (int i = 0; i < n; i++) {
                    map.put(randomString(random), randomValue(random, depth + 1));
                }
                yield map;
            }
        };
    }

    private static long randomLong(SplittableRandom random) {
        return switch (random.nextInt(4)) {
            case 0 -> random.nextLong();
            case 1 -> random.nextInt(-1000, 1000);
            case 2 -> random.nextBoolean() ? Long.MAX_VALUE : Long.MIN_VALUE;
            default -> random.nextLong() >> random.nextInt(64);
        };
    }

    private static double randomDouble(SplittableRandom random) {
        while (true) {
            double d = switch (random.nextInt(4)) {
                case 0 -> Double.longBitsToDouble(random.nextLong());
                case 1 -> random.nextInt(-1000, 1000);
                case 2 -> random.nextBoolean() ? -0.0 : Double.MIN_VALUE;
                default -> random.nextDouble() * Math.pow(10, random.nextInt(-30, 30));
            };
            if (Double.isFinite(d)) {
                return d;
            }
        }
    }

    /** Strings with quotes, backslashes, control characters, non-ASCII and supplementary characters. */
    static String randomString(SplittableRandom random) {
        StringBuilder sb = new StringBuilder();
        int n = random.nextInt(8);
        for (int i = 0; i < n; i++) {
            switch (random.nextInt(6)) {
                case 0 -> sb.append((char) random.nextInt(0x20));
                case 1 -> sb.append("\"\\/".charAt(random.nextInt(3)));
                case 2 -> sb.appendCodePoint(random.nextInt(0x10000, 0x110000));
                case 3 -> {
                    int c = random.nextInt(0x80, 0x10000);
                    sb.append(Character.isSurrogate((char) c) ? '\u2028' : (char) c);
                }
                default -> sb.append((char) random.nextInt(0x20, 0x7f));
            }
        }
        return sb.toString();
    }

    @Test
    void writeThenParseGivesBackTheSameValue() {
        qt().withExamples(2000).forAll(longs().all()).checkAssert(seed -> {
            Object value = randomValue(new SplittableRandom(seed), 0);
            String compact = Json.write(value);
            assertEquals(value, Json.parse(compact), compact);
            assertEquals(value, Json.parse(Json.writePretty(value)), compact);
            // Maps compare without order; writing the parsed value again checks that order is kept too.
            assertEquals(compact, Json.write(Json.parse(compact)));
        });
    }

    @Test
    void negativeZeroKeepsItsSign() {
        Object parsed = Json.parse(Json.write(-0.0));
        assertEquals(Double.valueOf(-0.0), parsed);
    }

    @Test
    void numbersMapToLongWhenIntegralAndInRangeElseDouble() {
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertEquals(9223372036854775808.0, Json.parse("9223372036854775808"));
        assertEquals(0L, Json.parse("-0"));
        assertEquals(100.0, Json.parse("1E2"));
        assertEquals(1.5e-300, Json.parse("1.5e-300"));
        assertEquals("\uD83D\uDE00", Json.parse("\"\\ud83d\\uDE00\""));
    }

    @Test
    void rejectsMalformedText() {
        String[] malformed = {
            "", " ", "[1,]", "{\"a\":1,}", "[,1]", "{,}", "[1 2]", "{\"a\" 1}", "{\"a\":}", "{1:2}", "{'a':1}",
            "[1", "{\"a\":1", "\"abc", "01", "-", "1.", ".5", "+1", "1e", "1e+", "NaN", "Infinity", "-Infinity",
            "tru", "nul", "falsey", "[true false]", "// c\n1", "/* c */1", "1 2", "\"a\tb\"", "\"\u0000\"",
            "\uFEFF{}", "1e400", "-1e400",
        };
        for (String text : malformed) {
            assertThrows(Json.JsonException.class, () -> Json.parse(text), () -> "accepted " + text);
        }
    }

    @Test
    void rejectsBadEscapes() {
        String[] bad = {"\"\\x\"", "\"\\u12G4\"", "\"\\u00\"", "\"\\u\"", "\"\\U0041\"", "\"\\\"", "\"\\'\"",
            "\"\\u\uFF10\uFF10\uFF14\uFF11\"", "\"\\u\u0660\u0660\u0664\u0661\""};
        for (String text : bad) {
            assertThrows(Json.JsonException.class, () -> Json.parse(text), () -> "accepted " + text);
        }
    }

    @Test
    void rejectsUnpairedSurrogates() {
        String[] bad = {"\"\\uD800\"", "\"\\uDC00\"", "\"\\uD800\\u0041\"", "\"\\uDC00\\uD800\"", "\"\uD800\"",
            "\"a\uDFFF\"", "{\"\\uD800\":1}"};
        for (String text : bad) {
            Json.JsonException e = assertThrows(Json.JsonException.class, () -> Json.parse(text), () -> "accepted " + text);
            assertTrue(e.getMessage().contains("surrogate"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Json.write("a\uD800"));
    }

    @Test
    void duplicateKeysAreRejectedWithTheKeyAndItsDepth() {
        Json.DuplicateKeyException top = assertThrows(Json.DuplicateKeyException.class,
                () -> Json.parse("{\"a\":1,\"b\":2,\"a\":3}"));
        assertEquals("a", top.key());
        assertEquals(0, top.depth());
        assertEquals(13, top.offset());
        Json.DuplicateKeyException nested = assertThrows(Json.DuplicateKeyException.class,
                () -> Json.parse("[{\"x\":{\"k\":1,\"k\":1}}]"));
        assertEquals("k", nested.key());
        assertEquals(2, nested.depth());
        // Escapes that decode to the same key are the same key.
        assertThrows(Json.DuplicateKeyException.class, () -> Json.parse("{\"a\":1,\"\\u0061\":2}"));
    }

    @Test
    void nestingIsLimitedToMaxDepthWithoutStackOverflow() {
        int max = Json.MAX_DEPTH;
        Json.parse("[".repeat(max) + "]".repeat(max));
        Json.parse("[".repeat(max - 1) + "{\"a\":1}" + "]".repeat(max - 1));
        assertThrows(Json.JsonException.class, () -> Json.parse("[".repeat(max + 1) + "]".repeat(max + 1)));
        assertThrows(Json.JsonException.class, () -> Json.parse("{\"a\":".repeat(max + 1) + "1" + "}".repeat(max + 1)));
        assertThrows(Json.JsonException.class, () -> Json.parse("[".repeat(1_000_000)));
    }

    @Test
    void nonFiniteDoublesAreWrittenAsNull() {
        assertEquals("[null,null]", Json.write(List.of(Double.NaN, Double.POSITIVE_INFINITY)));
    }
}
