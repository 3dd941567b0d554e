package nvlm.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.strings;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.List;
import nvlm.model.tiling.TagMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.quicktheories.core.Gen;

class ProjectTokenizerTest {
    private static final ProjectTokenizer TOKENIZER = ProjectTokenizer.instance();

    @TempDir
    Path dir;

    @Test
    void idsAreTheDocumentedFixedAssignment() {
        assertEquals(268, TOKENIZER.vocabSize());
        assertEquals(ProjectTokenizer.PAD, TOKENIZER.tokenId("<|endoftext|>"));
        assertEquals(ProjectTokenizer.IM_START, TOKENIZER.tokenId("<|im_start|>"));
        assertEquals(ProjectTokenizer.IM_END, TOKENIZER.tokenId("<|im_end|>"));
        assertEquals(ProjectTokenizer.IMAGE_START, TOKENIZER.tokenId("<Image>"));
        assertEquals(ProjectTokenizer.IMAGE_END, TOKENIZER.tokenId("</Image>"));
        assertEquals(ProjectTokenizer.IMAGE_CONTEXT, TOKENIZER.tokenId("<|vision_pad|>"));
        assertEquals(262, TOKENIZER.tokenId("tile"));
        assertEquals(267, TOKENIZER.tokenId("_bbox"));
        assertEquals('A', TOKENIZER.tokenId("A"));
        assertTrue(TOKENIZER.isAddedToken(262), "pieces are cut out before the bytes");
        assertFalse(ProjectTokenizer.specialTokens().contains("tile"), "pieces are not special");
    }

    @Test
    void tagsAreSeveralTokensAsQwen2CutsThem() {
        int t = TOKENIZER.tokenId("tile");
        assertArrayEquals(new int[] {'<', t, '_', '3', '>'}, TOKENIZER.encode(TagMode.oneDTag(2)));
        assertArrayEquals(new int[] {'<', t, 263, 264, '>'}, TOKENIZER.encode(TagMode.THUMBNAIL_TAG));
        assertArrayEquals(new int[] {'<', t, 265, '1', 266, '0', '>'}, TOKENIZER.encode(TagMode.gridTag(1, 0)));
        assertArrayEquals(new int[] {'<', t, 267, '_', '0', '.', '5', '0'}, java.util.Arrays.copyOf(
                TOKENIZER.encode("<tile_bbox_0.50_0.00_1.00_1.00>"), 8));
        for (int cols = 1; cols <= 12; cols++) {
            for (int rows = 1; cols * rows <= 12; rows++) {
                for (int k = 0; k < cols * rows; k++) {
                    String tag = TagMode.gridTag(k % cols, k / cols);
                    assertEquals(tag, TOKENIZER.decode(TOKENIZER.encode(tag)));
                    int n = TOKENIZER.encode(tag).length;
                    assertTrue(n >= 7 && n <= 9, tag + " is " + n + " tokens");
                }
            }
        }
        assertArrayEquals(new int[] {'a', ' ', t, ' ', '3'}, TOKENIZER.encode("a tile 3"), "a piece is cut out of any text");
    }

    @Test
    void textIsUtf8BytesAndSpecialsAreSplitFirst() {
        assertArrayEquals(new int[] {257, 'h', 'i', 0xc3, 0xa9, 258}, TOKENIZER.encode("<|im_start|>hi\u00e9<|im_end|>"));
        assertArrayEquals(new int[] {'h', 0xc3, 0xa9}, TOKENIZER.encode("he\u0301"), "NFC composes e + acute");
        Encoding e = TOKENIZER.encodeWithOffsets("a\u00e9<Image>");
        assertArrayEquals(new int[] {0, 1, 1, 2}, e.starts());
        assertArrayEquals(new int[] {1, 2, 2, 9}, e.ends());
    }

    /** Random strings mixing specials, tags, ASCII, combining marks, CJK and emoji. */
    static Gen<String> mixedText() {
        List<String> atoms = List.of("<|im_start|>", "<|im_end|>", "<Image>", "</Image>", "<|vision_pad|>", "<tile_3>",
                "<tile_x2_y1>", "<tile_global_thumbnail>", "<tile_", "<|im_", ">", "<", "a", "Z", " ", "\n", "7", "e\u0301",
                "\u0301", "\u00e9", "\u4f60\u597d", "\ud83d\ude00", "\uac00", "\u1100\u1161", "\u0338", "'s");
        return lists().of(integers().between(0, atoms.size() - 1)).ofSizeBetween(0, 25)
                .map(ix -> {
                    StringBuilder sb = new StringBuilder();
                    ix.forEach(i -> sb.append(atoms.get(i)));
                    return sb.toString();
                });
    }

    /** decode(encode(s)): the text between added tokens NFC-normalized, each stretch on its own. */
    static String expectedRoundTrip(String s) {
        StringBuilder out = new StringBuilder();
        int plain = 0;
        int i = 0;
        while (i < s.length()) {
            String match = null;
            for (String special : ProjectTokenizer.addedTokens()) {
                if (s.startsWith(special, i) && (match == null || special.length() > match.length())) {
                    match = special;
                }
            }
            if (match == null) {
                i++;
                continue;
            }
            out.append(Normalizer.normalize(s.substring(plain, i), Normalizer.Form.NFC)).append(match);
            i += match.length();
            plain = i;
        }
        return out.append(Normalizer.normalize(s.substring(plain), Normalizer.Form.NFC)).toString();
    }

    @Test
    void decodeOfEncodeIsTheNfcTextBetweenSpecials() {
        qt().withExamples(500).forAll(mixedText()).checkAssert(s ->
                assertEquals(expectedRoundTrip(s), TOKENIZER.decode(TOKENIZER.encode(s)), s));
        qt().withExamples(300).forAll(strings().allPossible().ofLengthBetween(0, 30)).checkAssert(s -> {
            if (!hasLoneSurrogate(s)) {
                assertEquals(expectedRoundTrip(s), TOKENIZER.decode(TOKENIZER.encode(s)));
            }
        });
    }

    @Test
    void theWrittenJsonLoadsAsABpeTokenizerGivingIdenticalIds() throws IOException {
        Path file = dir.resolve("tokenizer.json");
        TOKENIZER.writeJson(file);
        BpeTokenizer bpe = BpeTokenizer.fromJson(file);
        assertEquals(TOKENIZER.vocabSize(), bpe.vocabSize());
        assertEquals(0, bpe.mergeCount());
        qt().withExamples(500).forAll(mixedText()).checkAssert(s -> {
            assertArrayEquals(TOKENIZER.encode(s), bpe.encode(s), s);
            Encoding a = TOKENIZER.encodeWithOffsets(s);
            Encoding b = bpe.encodeWithOffsets(s);
            assertArrayEquals(a.starts(), b.starts(), s);
            assertArrayEquals(a.ends(), b.ends(), s);
        });
        qt().withExamples(300).forAll(strings().allPossible().ofLengthBetween(0, 30))
                .checkAssert(s -> assertArrayEquals(TOKENIZER.encode(s), bpe.encode(s)));
        for (int id = 0; id < TOKENIZER.vocabSize(); id++) {
            assertArrayEquals(TOKENIZER.tokenBytes(id), bpe.tokenBytes(id), "bytes of id " + id);
        }
        assertTrue(Files.readString(file).contains("\"merges\": []"));
    }

    @Test
    void streamingDecodeEqualsWholeDecode() {
        qt().withExamples(500).forAll(lists().of(integers().between(0, TOKENIZER.vocabSize() - 1)).ofSizeBetween(0, 20)).checkAssert(ids -> {
            int[] a = ids.stream().mapToInt(Integer::intValue).toArray();
            StreamingDecoder stream = TOKENIZER.streamingDecoder();
            StringBuilder sb = new StringBuilder();
            for (int id : a) {
                String piece = stream.next(id);
                sb.append(piece);
            }
            assertEquals(TOKENIZER.decode(a), sb.append(stream.finish()).toString());
        });
    }

    @Test
    void streamingHoldsBackAnUnfinishedCharacter() {
        StreamingDecoder stream = TOKENIZER.streamingDecoder();
        assertEquals("", stream.next(0xf0));
        assertEquals("", stream.next(0x9f));
        assertEquals("", stream.next(0x98));
        assertEquals("\ud83d\ude00", stream.next(0x80));
        assertEquals("x\uFFFD", stream.next('x') + stream.next(0xe4) + stream.finish());
    }

    static boolean hasLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }
}
