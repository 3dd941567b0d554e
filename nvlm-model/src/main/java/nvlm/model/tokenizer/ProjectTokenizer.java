package nvlm.model.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nvlm.tensor.io.Json;

/**
 * The built-in tokenizer of the project's own presets: every byte is a token, the prompt's
 * structural strings are single special tokens, and a few pieces of the tile tags are ordinary
 * added tokens, so that a tag is several tokens as Qwen2's BPE cuts it (docs/model.md §6). Fixed ids:
 * <pre>
 *   0..255    the bytes 0x00..0xFF (ordinary text is its NFC-normalized UTF-8, no merges)
 *   256       &lt;|endoftext|&gt;  (padding)
 *   257       &lt;|im_start|&gt;
 *   258       &lt;|im_end|&gt;
 *   259       &lt;Image&gt;
 *   260       &lt;/Image&gt;
 *   261       &lt;|vision_pad|&gt;  (the image-context token of NVLM-D/H, docs/model.md §7)
 *   262..267  tile  _global  _thumbnail  _x  _y  _bbox     (pieces, not special)
 * </pre>
 * So {@code <tile_3>} is {@code < tile _ 3 >}, {@code <tile_global_thumbnail>} is
 * {@code < tile _global _thumbnail >} and {@code <tile_x1_y0>} is {@code < tile _x 1 _y 0 >}:
 * five to seven tokens, where the real tokenizer gives five to eight. The pieces are cut out
 * wherever they occur ("Transcribe tile 3." holds {@code tile} too), as a BPE merges them in any
 * text. Encoding matches Hugging Face's pipeline for the equivalent tokenizer.json that
 * {@link #toJson()} writes: added tokens are cut out of the raw text first (leftmost, longest),
 * the text between them is NFC-normalized, then it becomes bytes.
 */
public final class ProjectTokenizer implements Tokenizer {
    public static final int PAD = 256;
    public static final int IM_START = 257;
    public static final int IM_END = 258;
    public static final int IMAGE_START = 259;
    public static final int IMAGE_END = 260;
    public static final int IMAGE_CONTEXT = 261;
    /** The pieces of the tile tags, ids 262.. in this order: ordinary (not special) added tokens. */
    public static final List<String> TAG_PIECES = List.of("tile", "_global", "_thumbnail", "_x", "_y", "_bbox");

    private static final List<Normalizer.Form> NFC = List.of(Normalizer.Form.NFC);
    private static final List<String> SPECIALS = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<Image>", "</Image>",
            "<|vision_pad|>");
    private static final List<String> ADDED;
    private static final ProjectTokenizer INSTANCE;

    static {
        List<String> added = new ArrayList<>(SPECIALS);
        added.addAll(TAG_PIECES);
        ADDED = Collections.unmodifiableList(added);
        INSTANCE = new ProjectTokenizer();
    }

    private final Map<String, Integer> addedIds = new HashMap<>();
    private final AddedVocabulary added;

    private ProjectTokenizer() {
        List<AddedToken> tokens = new ArrayList<>();
        for (int i = 0; i < ADDED.size(); i++) {
            addedIds.put(ADDED.get(i), 256 + i);
            tokens.add(i < SPECIALS.size() ? AddedToken.special(256 + i, ADDED.get(i))
                    : new AddedToken(256 + i, ADDED.get(i), false, false, false, false, false));
        }
        added = new AddedVocabulary(tokens);
    }

    public static ProjectTokenizer instance() {
        return INSTANCE;
    }

    /** The special tokens in id order (id = 256 + index). */
    public static List<String> specialTokens() {
        return SPECIALS;
    }

    /** Every added token, the specials then {@link #TAG_PIECES}, in id order (id = 256 + index). */
    public static List<String> addedTokens() {
        return ADDED;
    }

    @Override
    public Encoding encodeWithOffsets(String text) {
        return encodeWithOffsets(text, null);
    }

    @Override
    public Encoding encodeWithOffsets(String text, java.util.BitSet literal) {
        IntList ids = new IntList();
        IntList starts = new IntList();
        IntList ends = new IntList();
        for (AddedVocabulary.Segment seg : added.split(text, 0, text.length(), literal)) {
            if (seg.id() >= 0) {
                ids.add(seg.id());
                starts.add(seg.start());
                ends.add(seg.end());
                continue;
            }
            NormalizedText norm = NormalizedText.of(text, seg.start(), seg.end(), NFC);
            String plain = norm.text();
            for (int i = 0; i < plain.length(); ) {
                int cp = plain.codePointAt(i);
                int n = Character.charCount(cp);
                for (byte b : utf8(cp)) {
                    ids.add(b & 0xff);
                    starts.add(norm.origStart()[i]);
                    ends.add(norm.origEnd()[i + n - 1]);
                }
                i += n;
            }
        }
        return new Encoding(ids.toArray(), starts.toArray(), ends.toArray());
    }

    /** UTF-8 of one code point; a lone surrogate becomes U+FFFD (as a Rust string would hold it). */
    private static byte[] utf8(int cp) {
        if (cp >= 0xd800 && cp <= 0xdfff) {
            cp = 0xfffd;
        }
        return new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] tokenBytes(int id) {
        if (id >= 0 && id < 256) {
            return new byte[] {(byte) id};
        }
        return idToToken(id).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public int tokenId(String token) {
        Integer id = addedIds.get(token);
        if (id != null) {
            return id;
        }
        byte[] bytes = token.getBytes(StandardCharsets.UTF_8);
        if (bytes.length == 1) {
            return bytes[0] & 0xff;
        }
        throw new IllegalArgumentException("the project tokenizer has no token '" + token + "'");
    }

    @Override
    public boolean hasToken(String token) {
        return addedIds.containsKey(token) || token.getBytes(StandardCharsets.UTF_8).length == 1;
    }

    @Override
    public boolean isAddedToken(int id) {
        return id >= 256 && id < vocabSize();
    }

    @Override
    public String idToToken(int id) {
        if (id >= 0 && id < 256) {
            return String.valueOf(ByteLevel.charOf(id));
        }
        if (id >= 256 && id < vocabSize()) {
            return ADDED.get(id - 256);
        }
        throw new IllegalArgumentException("token id " + id + " is outside the project tokenizer's " + vocabSize() + " ids");
    }

    @Override
    public int vocabSize() {
        return 256 + ADDED.size();
    }

    /**
     * An equivalent Hugging Face tokenizer.json: a byte-level BPE whose vocabulary is the 256 byte
     * characters and whose merge list is empty, the specials as added tokens (normalized false),
     * NFC, and the ByteLevel pre-tokenizer and decoder. Loading it with {@link BpeTokenizer} (or
     * Hugging Face tokenizers) gives the same ids.
     */
    public String toJson() {
        List<Object> addedTokens = new ArrayList<>();
        for (int i = 0; i < ADDED.size(); i++) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("id", 256 + i);
            t.put("content", ADDED.get(i));
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", i < SPECIALS.size());
            addedTokens.add(t);
        }
        Map<String, Object> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(ByteLevel.charOf(b)), b);
        }
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("dropout", null);
        model.put("unk_token", null);
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        model.put("vocab", vocab);
        model.put("merges", List.of());
        Map<String, Object> byteLevel = new LinkedHashMap<>();
        byteLevel.put("type", "ByteLevel");
        byteLevel.put("add_prefix_space", false);
        byteLevel.put("trim_offsets", false);
        byteLevel.put("use_regex", false);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", "1.0");
        root.put("truncation", null);
        root.put("padding", null);
        root.put("added_tokens", addedTokens);
        root.put("normalizer", Map.of("type", "NFC"));
        root.put("pre_tokenizer", byteLevel);
        root.put("post_processor", byteLevel);
        root.put("decoder", byteLevel);
        root.put("model", model);
        return Json.writePretty(root);
    }

    /** Writes {@link #toJson()} to {@code file} (through a temp file and a rename). */
    public void writeJson(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            Files.writeString(tmp, toJson(), StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
