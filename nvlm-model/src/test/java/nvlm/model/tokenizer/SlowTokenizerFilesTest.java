package nvlm.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import nvlm.tensor.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * InternVL2-1B's tokenizer as published (vocab.json + merges.txt + added_tokens.json +
 * tokenizer_config.json, no tokenizer.json) against Hugging Face {@code tokenizers}: the ids of
 * tests/reference/tokenizer_parity.py, committed in published/qwen2-tokenizer-ids.json.
 */
class SlowTokenizerFilesTest {
    @TempDir
    Path tmp;

    static Path published(String name) {
        try {
            return Path.of(SlowTokenizerFilesTest.class.getResource("/published/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> expected() throws IOException {
        return Json.parseObject(Files.readString(published("qwen2-tokenizer-ids.json")));
    }

    private static int[] ints(Object list) {
        return ((List<?>) list).stream().mapToInt(o -> (int) (long) (Long) o).toArray();
    }

    @Test
    void slowFilesGiveHuggingFaceIdsOnAVariedCorpus() throws IOException {
        BpeTokenizer t = BpeTokenizer.fromFolder(published("internvl2-1b"));
        Map<String, Object> e = expected();
        List<?> corpus = (List<?>) e.get("corpus");
        List<?> slow = (List<?>) e.get("slow");
        for (int i = 0; i < corpus.size(); i++) {
            String text = (String) corpus.get(i);
            assertArrayEquals(ints(slow.get(i)), t.encode(text), "line " + i + ": " + text);
            assertEquals(text.isEmpty() ? "" : java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFC),
                    t.decode(t.encode(text)), "round trip of line " + i);
        }
    }

    /**
     * The same vocabulary in tokenizer.json form (a Qwen tokenizer.json with 96 more merges, all
     * starting with '#', and other added tokens from 151646 on) gives the same ids except on the
     * lines with those merges or those added tokens.
     */
    @Test
    void slowFilesMatchTheTokenizerJsonFormApartFromTheDocumentedDifferences() throws IOException {
        BpeTokenizer t = BpeTokenizer.fromFolder(published("internvl2-1b"));
        Map<String, Object> e = expected();
        List<?> corpus = (List<?>) e.get("corpus");
        List<?> fast = (List<?>) e.get("fast");
        Set<Integer> documented = Set.of(7, 9, 10); // '#include' merges; <img>/<IMG_CONTEXT>; <|vision_pad|>
        int same = 0;
        for (int i = 0; i < corpus.size(); i++) {
            String text = (String) corpus.get(i);
            boolean equal = java.util.Arrays.equals(ints(fast.get(i)), t.encode(text));
            if (!documented.contains(i)) {
                assertTrue(equal, "line " + i + " differs from the tokenizer.json form: " + text);
                same++;
            } else {
                assertTrue(!equal, "line " + i + " was expected to differ");
            }
        }
        assertEquals(corpus.size() - 3, same);
    }

    @Test
    void hashLinesAfterTheFirstAreMergesNotComments() throws IOException {
        BpeTokenizer t = BpeTokenizer.fromFolder(published("internvl2-1b"));
        assertEquals(151_291, t.mergeCount(), "every line of merges.txt but '#version: 0.2'");
        assertEquals(151_655, t.vocabSize());
        assertEquals(1, t.encode("<IMG_CONTEXT>").length);
        assertEquals(151_648, t.encode("<IMG_CONTEXT>")[0]);
    }

    @Test
    void aFolderWithoutTokenizerFilesIsRefusedNamingWhatIsMissing() throws IOException {
        Files.copy(published("internvl2-1b").resolve("vocab.json"), tmp.resolve("vocab.json"));
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> BpeTokenizer.fromFolder(tmp));
        assertTrue(e.getMessage().contains("merges.txt"), e.getMessage());
    }

    @Test
    void anotherTokenizerClassIsRefusedNamingTheField() throws IOException {
        for (String f : List.of("vocab.json", "merges.txt")) {
            Files.copy(published("internvl2-1b").resolve(f), tmp.resolve(f));
        }
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"tokenizer_class\": \"LlamaTokenizer\"}");
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> BpeTokenizer.fromFolder(tmp));
        assertTrue(e.getMessage().contains("tokenizer_class") && e.getMessage().contains("LlamaTokenizer"), e.getMessage());
    }
}
