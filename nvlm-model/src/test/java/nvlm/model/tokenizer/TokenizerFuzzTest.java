package nvlm.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.List;

/**
 * Jazzer fuzz tests. Under plain {@code mvn test} they replay the seed corpus in
 * {@code TokenizerFuzzTestInputs/}; {@code JAZZER_FUZZ=1} fuzzes for real.
 */
class TokenizerFuzzTest {
    private static final BpeTokenizer QWEN2_STYLE;

    static {
        try {
            QWEN2_STYLE = BpeTokenizer.fromJson(HuggingFaceParityTest.resource("qwen2_style_tokenizer.json"), "qwen2_style");
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Any bytes as tokenizer.json: a tokenizer or a TokenizerFormatException, never another exception. */
    @FuzzTest
    void fromJsonFailsCleanly(FuzzedDataProvider data) throws IOException {
        Path file = Files.createTempFile("fuzz-tokenizer", ".json");
        try {
            Files.write(file, data.consumeRemainingAsBytes());
            BpeTokenizer tokenizer;
            try {
                tokenizer = BpeTokenizer.fromJson(file);
            } catch (TokenizerFormatException expected) {
                return;
            }
            int[] ids = tokenizer.encode("ab <s> a\u0301b");
            tokenizer.decode(ids);
        } finally {
            Files.delete(file);
        }
    }

    /** decode(encode(s)) is s with lone surrogates as U+FFFD and the text between specials in NFC. */
    @FuzzTest
    void encodeDecodeRoundTrips(FuzzedDataProvider data) {
        String s = data.consumeRemainingAsString();
        Tokenizer project = ProjectTokenizer.instance();
        assertEquals(roundTrip(s, ProjectTokenizer.specialTokens()), project.decode(project.encode(s)));
        assertEquals(roundTrip(s, List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_pad|>")),
                QWEN2_STYLE.decode(QWEN2_STYLE.encode(s)));
    }

    static String roundTrip(String s, List<String> specials) {
        StringBuilder clean = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                clean.append(c).append(s.charAt(++i));
            } else {
                clean.append(Character.isSurrogate(c) ? '\uFFFD' : c);
            }
        }
        String t = clean.toString();
        StringBuilder out = new StringBuilder();
        int plain = 0;
        int i = 0;
        while (i < t.length()) {
            String match = null;
            for (String special : specials) {
                if (t.startsWith(special, i) && (match == null || special.length() > match.length())) {
                    match = special;
                }
            }
            if (match == null) {
                i++;
                continue;
            }
            out.append(Normalizer.normalize(t.substring(plain, i), Normalizer.Form.NFC)).append(match);
            i += match.length();
            plain = i;
        }
        return out.append(Normalizer.normalize(t.substring(plain), Normalizer.Form.NFC)).toString();
    }
}
