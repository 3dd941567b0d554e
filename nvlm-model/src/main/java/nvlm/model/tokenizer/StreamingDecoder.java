package nvlm.model.tokenizer;

import java.util.Arrays;

/**
 * Decodes token by token during generation. A character whose UTF-8 bytes are split over tokens
 * is held back until it is complete, so no U+FFFD appears mid-character; bytes that can never
 * become valid are emitted as U+FFFD right away. The concatenation of everything {@link #next}
 * and {@link #finish} return equals {@link Tokenizer#decode} of all the ids.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private byte[] pending = new byte[0];

    StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /**
     * Adds one token; returns the text that is now complete (possibly empty). An id the tokenizer
     * does not have (a model's vocabulary is often padded past the tokenizer's) decodes to
     * nothing, as in Hugging Face's decode.
     */
    public String next(int id) {
        byte[] bytes;
        try {
            bytes = tokenizer.tokenBytes(id);
        } catch (IllegalArgumentException notInVocabulary) {
            return "";
        }
        byte[] all = Arrays.copyOf(pending, pending.length + bytes.length);
        System.arraycopy(bytes, 0, all, pending.length, bytes.length);
        int keep = incompleteTail(all);
        pending = Arrays.copyOfRange(all, all.length - keep, all.length);
        return Utf8.decodeLossy(all, 0, all.length - keep);
    }

    /** Flushes whatever is held back (an unfinished character becomes U+FFFD). */
    public String finish() {
        String rest = Utf8.decodeLossy(pending);
        pending = new byte[0];
        return rest;
    }

    /**
     * How many bytes at the end of {@code b} are the start of a UTF-8 sequence that more bytes
     * could still complete (0 if none): a lead byte followed by valid continuation bytes, fewer
     * than its length.
     */
    static int incompleteTail(byte[] b) {
        for (int back = 1; back <= Math.min(3, b.length); back++) {
            int lead = b[b.length - back] & 0xff;
            if (lead < 0x80) {
                return 0;
            }
            if (lead < 0xc0) {
                continue; // continuation byte: look further back for its lead
            }
            int need = lead >= 0xf5 || lead < 0xc2 ? 0 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
            if (need <= back) {
                return 0; // invalid lead, or a complete sequence
            }
            // The continuation bytes present must be ones a valid sequence can have.
            for (int i = 1; i < back; i++) {
                int c = b[b.length - back + i] & 0xff;
                int lo = 0x80;
                int hi = 0xbf;
                if (i == 1) {
                    if (lead == 0xe0) {
                        lo = 0xa0;
                    } else if (lead == 0xed) {
                        hi = 0x9f;
                    } else if (lead == 0xf0) {
                        lo = 0x90;
                    } else if (lead == 0xf4) {
                        hi = 0x8f;
                    }
                }
                if (c < lo || c > hi) {
                    return 0;
                }
            }
            return back;
        }
        return 0;
    }
}
