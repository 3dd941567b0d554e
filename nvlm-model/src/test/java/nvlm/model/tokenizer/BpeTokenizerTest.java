package nvlm.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A hand-made tokenizer.json whose merge results can be worked out on paper. */
class BpeTokenizerTest {
    @TempDir
    Path dir;

    // ids: a=0 b=1 c=2 ab=3 bc=4 aa=5 aaaa=6 abc=7 ' '=8 <s>=9 (added)
    private static String json(String merges, boolean ignoreMerges) {
        return """
                {"version": "1.0", "added_tokens": [
                   {"id": 9, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
                 "normalizer": null,
                 "pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "Isolated", "invert": false},
                 "decoder": null,
                 "model": {"type": "BPE", "ignore_merges": %s,
                   "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "aa": 5, "aaaa": 6, "abc": 7, " ": 8}%s}}
                """.formatted(ignoreMerges, merges == null ? "" : ", \"merges\": " + merges);
    }

    private static BpeTokenizer tokenizer(String merges) throws IOException {
        return BpeTokenizer.fromJson(json(merges, false), "test.json");
    }

    @Test
    void lowestRankMergesFirst() throws IOException {
        // "abc": (b,c) has rank 0, (a,b) rank 1 -> b+c first; then (a,bc) has no merge.
        BpeTokenizer t = tokenizer("[\"b c\", \"a b\"]");
        assertArrayEquals(new int[] {0, 4}, t.encode("abc"));
        // Swapping the ranks: a+b first, then (ab, c) has no merge.
        assertArrayEquals(new int[] {3, 2}, tokenizer("[\"a b\", \"b c\"]").encode("abc"));
    }

    @Test
    void amongEqualRanksTheLeftmostPairMergesFirst() throws IOException {
        BpeTokenizer t = tokenizer("[[\"a\", \"a\"], [\"aa\", \"aa\"]]");
        assertArrayEquals(new int[] {5, 0}, t.encode("aaa"), "(aa)(a), not (a)(aa)");
        assertArrayEquals(new int[] {6}, t.encode("aaaa"), "(aa)(aa) then (aaaa)");
        assertArrayEquals(new int[] {6, 0}, t.encode("aaaaa"));
        assertArrayEquals(new int[] {6, 5}, t.encode("aaaaaa"));
    }

    @Test
    void piecesAreMergedIndependentlyAndAddedTokensSplitFirst() throws IOException {
        BpeTokenizer t = tokenizer("[\"a b\", \"ab c\"]");
        assertArrayEquals(new int[] {7, 8, 7}, t.encode("abc abc"));
        assertArrayEquals(new int[] {3, 9, 2}, t.encode("ab<s>c"), "<s> cuts the word: no 'abc' across it");
        Encoding e = t.encodeWithOffsets("ab<s>c");
        assertArrayEquals(new int[] {0, 2, 5}, e.starts());
        assertArrayEquals(new int[] {2, 5, 6}, e.ends());
    }

    @Test
    void ignoreMergesEmitsWholePiecesThatAreInTheVocab() throws IOException {
        BpeTokenizer t = BpeTokenizer.fromJson(json("[\"a b\"]", true), "test.json");
        assertArrayEquals(new int[] {7}, t.encode("abc"), "abc is in the vocab, though no merge reaches it");
        assertArrayEquals(new int[] {3, 1}, t.encode("abb"));
    }

    @Test
    void unknownCharactersAreDroppedWithoutUnkOrFallback() throws IOException {
        // Hugging Face's BPE drops a character that is not in the vocab when there is no unk_token.
        assertArrayEquals(new int[] {0, 1}, tokenizer("[]").encode("axb"));
    }

    @Test
    void decodeWithoutDecoderConcatenatesTokens() throws IOException {
        BpeTokenizer t = tokenizer("[\"a b\"]");
        assertEquals("ab<s>c", t.decode(new int[] {3, 9, 2}));
        assertEquals(9, t.tokenId("<s>"));
        assertEquals(10, t.vocabSize());
    }

    @Test
    void missingMergesIsAnErrorNamingTheFile() throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, json(null, false));
        String message = assertThrows(TokenizerFormatException.class, () -> BpeTokenizer.fromJson(file)).getMessage();
        assertEquals(file + ": model has no 'merges'", message);
    }

    @Test
    void aMergeOfTokensOutsideTheVocabIsAnError() {
        String message = assertThrows(TokenizerFormatException.class, () -> tokenizer("[\"a b\", \"a z\"]")).getMessage();
        assertEquals("test.json: model.merges[1] (a, z): 'z' is not in the vocab", message);
        message = assertThrows(TokenizerFormatException.class, () -> tokenizer("[\"b a\"]")).getMessage();
        assertEquals("test.json: model.merges[0] (b, a): the merged token 'ba' is not in the vocab", message);
        message = assertThrows(TokenizerFormatException.class, () -> tokenizer("[\"a b c\"]")).getMessage();
        assertTrue(message.contains("merges[0]") && message.contains("two tokens"), message);
    }

    @Test
    void unknownModelTypesAndStepsAreErrors() {
        String message = assertThrows(TokenizerFormatException.class,
                () -> BpeTokenizer.fromJson(json("[]", false).replace("\"BPE\"", "\"WordPiece\""), "t.json")).getMessage();
        assertEquals("t.json: model.type 'WordPiece' is not supported (only BPE)", message);
        message = assertThrows(TokenizerFormatException.class,
                () -> BpeTokenizer.fromJson(json("[]", false).replace("\"normalizer\": null", "\"normalizer\": {\"type\": \"Lowercase\"}"), "t.json")).getMessage();
        assertEquals("t.json: normalizer.type 'Lowercase' is not supported (NFC, NFD, NFKC, NFKD, Sequence)", message);
        message = assertThrows(TokenizerFormatException.class,
                () -> BpeTokenizer.fromJson("{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []", "t.json")).getMessage();
        assertTrue(message.startsWith("t.json: not valid JSON"), message);
        message = assertThrows(TokenizerFormatException.class, () -> BpeTokenizer.fromJson("{}", "t.json")).getMessage();
        assertEquals("t.json: model is missing", message);
    }

    @Test
    void outOfRangeIdsAreRejectedOnDecode() throws IOException {
        BpeTokenizer t = tokenizer("[]");
        String message = assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {0, 42})).getMessage();
        assertTrue(message.contains("token id 42"), message);
    }
}
