package nvlm.model.tokenizer;

/**
 * GPT-2's byte-to-unicode map used by byte-level BPE (REFERENCE.md section 7): the 188 printable
 * bytes 0x21-0x7E, 0xA1-0xAC, 0xAE-0xFF stand for themselves; the other 68 bytes, in ascending
 * order, map to U+0100 + n. So a space is 'Ġ' (U+0120) and a newline 'Ċ' (U+010A).
 */
public final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x144];

    static {
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
            BYTE_TO_CHAR[b] = printable ? (char) b : (char) (0x100 + n++);
        }
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        for (int b = 0; b < 256; b++) {
            CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
        }
    }

    private ByteLevel() {
    }

    /** The character standing for byte {@code b} (0..255). */
    public static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xff];
    }

    /** The byte {@code c} stands for, or -1 if {@code c} is not in the map. */
    public static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** Each byte as its character. */
    public static String encode(byte[] bytes) {
        char[] chars = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            chars[i] = BYTE_TO_CHAR[bytes[i] & 0xff];
        }
        return new String(chars);
    }

    /**
     * The bytes a token string stands for, or {@code null} if some character is not in the map
     * (Hugging Face's ByteLevel decoder then falls back to the token's own UTF-8).
     */
    public static byte[] decode(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            int b = byteOf(token.charAt(i));
            if (b < 0) {
                return null;
            }
            out[i] = (byte) b;
        }
        return out;
    }
}
