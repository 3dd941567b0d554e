package nvlm.model.tokenizer;

/**
 * Lossy UTF-8 decoding with one U+FFFD per maximal invalid subpart (Unicode's recommended
 * practice, and what Rust's {@code String::from_utf8_lossy}, hence Hugging Face, does). The JDK's
 * decoder differs on some inputs, e.g. it reads {@code ED A0} (a surrogate's encoding) as one bad
 * sequence where Rust sees two.
 */
final class Utf8 {
    private Utf8() {
    }

    static String decodeLossy(byte[] b, int from, int to) {
        StringBuilder out = new StringBuilder(to - from);
        int i = from;
        while (i < to) {
            int c = b[i] & 0xff;
            if (c < 0x80) {
                out.append((char) c);
                i++;
                continue;
            }
            int need;
            int lo = 0x80;
            int hi = 0xbf;
            if (c >= 0xc2 && c <= 0xdf) {
                need = 2;
            } else if (c >= 0xe0 && c <= 0xef) {
                need = 3;
                if (c == 0xe0) {
                    lo = 0xa0;
                } else if (c == 0xed) {
                    hi = 0x9f;
                }
            } else if (c >= 0xf0 && c <= 0xf4) {
                need = 4;
                if (c == 0xf0) {
                    lo = 0x90;
                } else if (c == 0xf4) {
                    hi = 0x8f;
                }
            } else {
                out.append('\uFFFD');
                i++;
                continue;
            }
            int cp = c & (0xff >> (need + 1));
            int j = i + 1;
            boolean ok = true;
            for (int k = 1; k < need; k++, j++) {
                int d = j < to ? b[j] & 0xff : -1;
                int min = k == 1 ? lo : 0x80;
                int max = k == 1 ? hi : 0xbf;
                if (d < min || d > max) {
                    ok = false;
                    break;
                }
                cp = cp << 6 | (d & 0x3f);
            }
            if (ok) {
                out.appendCodePoint(cp);
            } else {
                out.append('\uFFFD'); // the lead and the valid continuation bytes before j
            }
            i = j;
        }
        return out.toString();
    }

    static String decodeLossy(byte[] b) {
        return decodeLossy(b, 0, b.length);
    }
}
