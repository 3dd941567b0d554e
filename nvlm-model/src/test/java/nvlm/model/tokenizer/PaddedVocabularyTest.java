package nvlm.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A model's vocabulary is padded past its tokenizer's: generated ids the tokenizer lacks decode to nothing. */
class PaddedVocabularyTest {
    @Test
    void idsPastTheTokenizersVocabularyDecodeToNothingWhileStreaming() {
        Tokenizer t = ProjectTokenizer.instance();
        StreamingDecoder d = t.streamingDecoder();
        int[] hi = t.encode("hi");
        StringBuilder out = new StringBuilder();
        out.append(d.next(hi[0]));
        out.append(d.next(t.vocabSize() + 5));
        out.append(d.next(-1));
        out.append(d.next(hi[1]));
        out.append(d.finish());
        assertEquals("hi", out.toString());
        byte[] euro = "\u20ac".getBytes(StandardCharsets.UTF_8);
        // an unknown id between the bytes of one character does not break it either
        StreamingDecoder split = t.streamingDecoder();
        String s = split.next(euro[0] & 0xff) + split.next(t.vocabSize()) + split.next(euro[1] & 0xff) + split.next(euro[2] & 0xff);
        assertEquals("\u20ac", s + split.finish());
    }
}
