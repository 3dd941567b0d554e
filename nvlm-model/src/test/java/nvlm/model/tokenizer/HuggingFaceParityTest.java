package nvlm.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import nvlm.tensor.io.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Parity with Hugging Face tokenizers 0.22.2: hf_expected.json was produced by
 * hf_tokenizer_fixtures.py from the committed tokenizer files (a BPE trained with Qwen2's exact
 * normalizer, Split regex, ByteLevel steps and decoder, and the project tokenizer's own JSON).
 */
class HuggingFaceParityTest {
    private static Map<String, Object> expected;
    private static BpeTokenizer qwen2Style;
    private static BpeTokenizer qwen2StyleLegacy;

    @BeforeAll
    static void load() throws IOException {
        expected = Json.parseObject(resource("hf_expected.json"));
        qwen2Style = BpeTokenizer.fromJson(resource("qwen2_style_tokenizer.json"), "qwen2_style_tokenizer.json");
        qwen2StyleLegacy = BpeTokenizer.fromJson(resource("qwen2_style_tokenizer_legacy.json"), "qwen2_style_tokenizer_legacy.json");
    }

    @Test
    void regexSplitMatchesHuggingFacePieceForPiece() {
        for (Map<String, Object> c : cases("qwen2_style")) {
            String normalized = (String) c.get("normalized");
            List<String> pieces = new ArrayList<>();
            for (int[] r : qwen2Style.preTokenize(normalized, 0, normalized.length())) {
                pieces.add(ByteLevel.encode(normalized.substring(r[0], r[1]).getBytes(StandardCharsets.UTF_8)));
            }
            assertEquals(c.get("pieces"), pieces, "pieces of " + Json.write(c.get("text")));
        }
    }

    @Test
    void qwen2StyleBpeIdsMatchHuggingFace() {
        int checked = 0;
        for (Map<String, Object> c : cases("qwen2_style")) {
            String text = (String) c.get("text");
            assertArrayEquals(ints(c.get("ids")), qwen2Style.encode(text), "ids of " + Json.write(text));
            assertArrayEquals(ints(c.get("ids")), qwen2StyleLegacy.encode(text), "legacy merges, ids of " + Json.write(text));
            checked++;
        }
        assertTrue(checked >= 50, "checked " + checked);
        assertEquals(444, qwen2Style.mergeCount());
        assertEquals(704, qwen2Style.vocabSize());
    }

    @Test
    void projectTokenizerAndItsJsonMatchHuggingFace() throws IOException {
        BpeTokenizer fromJson = BpeTokenizer.fromJson(resource("project_tokenizer.json"), "project_tokenizer.json");
        for (Map<String, Object> c : cases("project")) {
            String text = (String) c.get("text");
            assertArrayEquals(ints(c.get("ids")), ProjectTokenizer.instance().encode(text), "ids of " + Json.write(text));
            assertArrayEquals(ints(c.get("ids")), fromJson.encode(text), "json, ids of " + Json.write(text));
        }
    }

    @Test
    void committedProjectTokenizerJsonIsWhatToJsonWrites() throws IOException {
        // hf_expected.json's project ids were made from this file; it must not drift from the code.
        assertEquals(resource("project_tokenizer.json"), ProjectTokenizer.instance().toJson());
    }

    @Test
    void decodingMatchesHuggingFaceIncludingInvalidUtf8() {
        for (Map<String, Object> c : cases("decode")) {
            Tokenizer tokenizer = c.get("tokenizer").equals("project") ? ProjectTokenizer.instance() : qwen2Style;
            int[] ids = ints(c.get("ids"));
            assertEquals(c.get("text"), tokenizer.decode(ids), "decode " + Json.write(c.get("ids")));
            StreamingDecoder stream = tokenizer.streamingDecoder();
            StringBuilder streamed = new StringBuilder();
            for (int id : ids) {
                streamed.append(stream.next(id));
            }
            assertEquals(c.get("text"), streamed.append(stream.finish()).toString(), "streamed " + Json.write(c.get("ids")));
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> cases(String key) {
        return (List<Map<String, Object>>) expected.get(key);
    }

    static int[] ints(Object list) {
        return ((List<?>) list).stream().mapToInt(v -> (int) (long) (Long) v).toArray();
    }

    static String resource(String name) throws IOException {
        try (InputStream in = HuggingFaceParityTest.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("missing test resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
