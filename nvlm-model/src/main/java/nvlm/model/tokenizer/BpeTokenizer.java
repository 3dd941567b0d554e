package nvlm.model.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import nvlm.tensor.io.Json;

/**
 * Byte-level BPE read from a Hugging Face {@code tokenizer.json} (Qwen2 family; REFERENCE.md
 * section 7). Encoding runs, in Hugging Face's order:
 * <ol>
 *   <li>added tokens with {@code normalized=false} are cut out of the raw text;
 *   <li>the rest is normalized (NFC for Qwen2);
 *   <li>added tokens with {@code normalized=true} are cut out of the normalized text;
 *   <li>the pre-tokenizer splits it: {@code Split} with a regex (compiled by java.util.regex with
 *       {@link Pattern#UNICODE_CHARACTER_CLASS}, so {@code \s}, {@code \p{L}} and case folding
 *       are Unicode-aware like Oniguruma's), behaviour {@code Isolated} keeping matches and the
 *       gaps between them; {@code ByteLevel} turns each piece's UTF-8 bytes into characters of
 *       {@link ByteLevel}'s map;
 *   <li>each piece is merged with BPE: repeatedly the adjacent pair of lowest merge rank,
 *       leftmost among equals (Hugging Face's {@code word.rs}); with {@code ignore_merges} a piece
 *       that is itself in the vocabulary is one token.
 * </ol>
 * Supported beyond Qwen2: normalizers NFC/NFD/NFKC/NFKD (alone or in a Sequence), Split
 * behaviours Isolated/Removed/MergedWithPrevious/MergedWithNext with {@code invert}, ByteLevel
 * with {@code use_regex} (GPT-2's pattern), {@code byte_fallback}, {@code unk_token} and
 * {@code fuse_unk}. Anything else is rejected when loading, naming the file and field. As in
 * Hugging Face, a character that is not in the vocabulary, with neither byte fallback nor an
 * unknown token, is dropped. Lone UTF-16 surrogates (which a Rust string cannot hold) are read as
 * U+FFFD.
 *
 * <p>Decoding with the ByteLevel decoder maps every token, added tokens included, back through
 * the byte map, and a token with a character outside the map decodes to its own UTF-8: this is
 * Hugging Face's behaviour, down to its quirk that an added token containing a character such as
 * 'é' (which is in the map, as byte 0xE9) decodes to U+FFFD there. Without a decoder, tokens
 * decode to their UTF-8 concatenated (Hugging Face would join them with spaces).
 */
public final class BpeTokenizer implements Tokenizer {
    /** GPT-2's pre-tokenizer pattern, used by ByteLevel with {@code use_regex=true}. */
    static final String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** Ids index arrays; real vocabularies are about 150k, so a larger id is a broken file, not a big vocabulary. */
    static final int MAX_ID = 1 << 24;

    private final String source;
    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    private final byte[][] idToBytes;
    private final Map<Long, Long> merges;
    private final Map<String, Integer> addedIds = new HashMap<>();
    private final AddedVocabulary rawAdded;
    private final AddedVocabulary normalizedAdded;
    private final List<Normalizer.Form> normalizers;
    private final List<Split> splits;
    private final boolean byteLevel;
    private final boolean ignoreMerges;
    private final boolean byteFallback;
    private final int unkId;
    private final boolean fuseUnk;

    /** A regex split step of the pre-tokenizer. */
    record Split(Pattern pattern, String behavior, boolean invert) {
    }

    private BpeTokenizer(TokenizerJson b) {
        this.source = b.source;
        this.vocab = b.vocab;
        this.merges = b.merges;
        this.normalizers = b.normalizers;
        this.splits = b.splits;
        this.byteLevel = b.byteLevel;
        this.ignoreMerges = b.ignoreMerges;
        this.byteFallback = b.byteFallback;
        this.unkId = b.unkId;
        this.fuseUnk = b.fuseUnk;
        int size = 0;
        for (int id : vocab.values()) {
            size = Math.max(size, id + 1);
        }
        for (AddedToken t : b.added) {
            size = Math.max(size, t.id() + 1);
        }
        idToToken = new String[size];
        vocab.forEach((token, id) -> idToToken[id] = token);
        List<AddedToken> raw = new ArrayList<>();
        List<AddedToken> normalized = new ArrayList<>();
        for (AddedToken t : b.added) {
            idToToken[t.id()] = t.content();
            addedIds.put(t.content(), t.id());
            (t.normalized() && !normalizers.isEmpty() ? normalized : raw).add(t);
        }
        rawAdded = new AddedVocabulary(raw);
        normalizedAdded = new AddedVocabulary(normalized);
        idToBytes = new byte[size][];
        for (int id = 0; id < size; id++) {
            String token = idToToken[id];
            if (token != null) {
                byte[] bytes = b.byteLevelDecoder ? ByteLevel.decode(token) : null;
                idToBytes[id] = bytes != null ? bytes : token.getBytes(StandardCharsets.UTF_8);
            }
        }
    }

    /** Reads a tokenizer.json file. */
    public static BpeTokenizer fromJson(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new TokenizerFormatException(file + ": not UTF-8 text", e);
        }
        return fromJson(text, file.toString());
    }

    /** Parses tokenizer.json text; {@code source} names it in errors. */
    public static BpeTokenizer fromJson(String json, String source) throws TokenizerFormatException {
        Map<String, Object> root;
        try {
            root = Json.parseObject(json);
        } catch (Json.JsonException e) {
            throw new TokenizerFormatException(source + ": not valid JSON (" + e.getMessage() + ")", e);
        }
        TokenizerJson b = new TokenizerJson(source);
        Map<String, Object> model = b.object(root, "model", "model", true);
        String type = b.string(model, "type", "model.type", false);
        if (type != null && !type.equals("BPE")) {
            throw new TokenizerFormatException(source + ": model.type '" + type + "' is not supported (only BPE)");
        }
        if (type == null && !model.containsKey("merges")) {
            throw new TokenizerFormatException(source + ": model has no 'type' and no 'merges': not a BPE model");
        }
        b.readVocab(b.object(model, "vocab", "model.vocab", true));
        b.readModelOptions(model);
        if (!model.containsKey("merges")) {
            throw new TokenizerFormatException(source + ": model has no 'merges'");
        }
        b.readMerges(model.get("merges"));
        Object added = root.get("added_tokens");
        if (added != null) {
            b.readAddedTokens(added);
        }
        b.readNormalizer(root.get("normalizer"), "normalizer");
        b.readPreTokenizer(root.get("pre_tokenizer"), "pre_tokenizer");
        b.readDecoder(root.get("decoder"));
        return new BpeTokenizer(b);
    }

    // ------------------------------------------------------------------ encoding

    @Override
    public Encoding encodeWithOffsets(String text) {
        return encodeWithOffsets(text, null);
    }

    @Override
    public Encoding encodeWithOffsets(String text, java.util.BitSet literal) {
        String input = replaceLoneSurrogates(text);
        IntList ids = new IntList();
        IntList starts = new IntList();
        IntList ends = new IntList();
        for (AddedVocabulary.Segment seg : rawAdded.split(input, 0, input.length(), literal)) {
            if (seg.id() >= 0) {
                ids.add(seg.id());
                starts.add(seg.start());
                ends.add(seg.end());
                continue;
            }
            NormalizedText norm = NormalizedText.of(input, seg.start(), seg.end(), normalizers);
            java.util.BitSet normalizedLiteral = null;
            if (literal != null) {
                normalizedLiteral = new java.util.BitSet();
                for (int j = 0; j < norm.text().length(); j++) {
                    if (literal.get(norm.origStart()[j])) {
                        normalizedLiteral.set(j);
                    }
                }
            }
            for (AddedVocabulary.Segment part : normalizedAdded.split(norm.text(), 0, norm.text().length(), normalizedLiteral)) {
                if (part.id() >= 0) {
                    ids.add(part.id());
                    starts.add(norm.origStart()[part.start()]);
                    ends.add(norm.origEnd()[part.end() - 1]);
                } else {
                    for (int[] piece : preTokenize(norm.text(), part.start(), part.end())) {
                        encodePiece(norm, piece[0], piece[1], ids, starts, ends);
                    }
                }
            }
        }
        return new Encoding(ids.toArray(), starts.toArray(), ends.toArray());
    }

    /** Pre-tokenizer pieces of {@code text[from, to)} as {@code {start, end}} ranges. */
    List<int[]> preTokenize(String text, int from, int to) {
        List<int[]> pieces = new ArrayList<>();
        pieces.add(new int[] {from, to});
        for (Split split : splits) {
            List<int[]> next = new ArrayList<>();
            for (int[] piece : pieces) {
                splitPiece(split, text, piece[0], piece[1], next);
            }
            pieces = next;
        }
        return pieces;
    }

    private static void splitPiece(Split split, String text, int from, int to, List<int[]> out) {
        // Alternating runs: {start, end, isMatch}.
        List<int[]> runs = new ArrayList<>();
        // Opaque, anchoring region bounds: the regex sees the piece as a whole string, as in Hugging Face.
        Matcher m = split.pattern.matcher(text).region(from, to);
        int last = from;
        while (m.find()) {
            if (m.end() == m.start()) {
                continue; // Hugging Face skips empty matches
            }
            if (m.start() > last) {
                runs.add(new int[] {last, m.start(), 0});
            }
            runs.add(new int[] {m.start(), m.end(), 1});
            last = m.end();
        }
        if (last < to) {
            runs.add(new int[] {last, to, 0});
        }
        if (split.invert) {
            for (int[] r : runs) {
                r[2] ^= 1;
            }
        }
        switch (split.behavior) {
            case "Isolated" -> runs.forEach(r -> out.add(new int[] {r[0], r[1]}));
            case "Removed" -> runs.stream().filter(r -> r[2] == 0).forEach(r -> out.add(new int[] {r[0], r[1]}));
            case "MergedWithPrevious" -> {
                // A match joins the piece before it unless that piece is itself a match (tokenizers' SplitDelimiterBehavior).
                for (int i = 0; i < runs.size(); i++) {
                    int[] r = runs.get(i);
                    if (r[2] == 1 && i > 0 && runs.get(i - 1)[2] == 0) {
                        out.getLast()[1] = r[1];
                    } else {
                        out.add(new int[] {r[0], r[1]});
                    }
                }
            }
            case "MergedWithNext" -> {
                List<int[]> reversed = new ArrayList<>();
                for (int i = runs.size() - 1; i >= 0; i--) {
                    int[] r = runs.get(i);
                    if (r[2] == 1 && i + 1 < runs.size() && runs.get(i + 1)[2] == 0) {
                        reversed.getLast()[0] = r[0];
                    } else {
                        reversed.add(new int[] {r[0], r[1]});
                    }
                }
                out.addAll(reversed.reversed());
            }
            default -> throw new IllegalStateException("unsupported split behaviour " + split.behavior);
        }
    }

    /** BPE over one pre-tokenized piece of the normalized text. */
    private void encodePiece(NormalizedText norm, int from, int to, IntList ids, IntList starts, IntList ends) {
        String text = norm.text();
        // Initial symbols: one per byte (byte-level) or per code point, each with its normalized char span.
        StringBuilder word = new StringBuilder();
        IntList symStart = new IntList();
        IntList symEnd = new IntList();
        List<String> symbols = new ArrayList<>();
        for (int i = from; i < to; ) {
            int cp = text.codePointAt(i);
            int n = Character.charCount(cp);
            if (byteLevel) {
                for (byte b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
                    char c = ByteLevel.charOf(b);
                    word.append(c);
                    symbols.add(String.valueOf(c));
                    symStart.add(i);
                    symEnd.add(i + n);
                }
            } else {
                String s = text.substring(i, i + n);
                word.append(s);
                symbols.add(s);
                symStart.add(i);
                symEnd.add(i + n);
            }
            i += n;
        }
        if (ignoreMerges) {
            Integer whole = vocab.get(word.toString());
            if (whole != null) {
                emit(norm, whole, symStart.get(0), symEnd.get(symEnd.size() - 1), ids, starts, ends);
                return;
            }
        }
        // Map symbols to ids (unknown ones: byte fallback, unk, or dropped as in Hugging Face).
        IntList symIds = new IntList();
        IntList s0 = new IntList();
        IntList s1 = new IntList();
        for (int k = 0; k < symbols.size(); k++) {
            Integer id = vocab.get(symbols.get(k));
            if (id != null) {
                symIds.add(id);
                s0.add(symStart.get(k));
                s1.add(symEnd.get(k));
                continue;
            }
            if (byteFallback) {
                byte[] bytes = symbols.get(k).getBytes(StandardCharsets.UTF_8);
                int[] fb = new int[bytes.length];
                boolean all = true;
                for (int j = 0; j < bytes.length && all; j++) {
                    Integer b = vocab.get(String.format("<0x%02X>", bytes[j] & 0xff));
                    all = b != null;
                    fb[j] = all ? b : -1;
                }
                if (all) {
                    for (int f : fb) {
                        symIds.add(f);
                        s0.add(symStart.get(k));
                        s1.add(symEnd.get(k));
                    }
                    continue;
                }
            }
            if (unkId >= 0) {
                if (fuseUnk && symIds.size() > 0 && symIds.get(symIds.size() - 1) == unkId) {
                    s1.set(s1.size() - 1, symEnd.get(k));
                } else {
                    symIds.add(unkId);
                    s0.add(symStart.get(k));
                    s1.add(symEnd.get(k));
                }
            }
        }
        int[] merged = merge(symIds.toArray());
        // merged[i] is the id at symbol position i or -1 where that symbol was absorbed by its left neighbour.
        int n = merged.length;
        for (int i = 0; i < n; ) {
            int j = i + 1;
            while (j < n && merged[j] == -1) {
                j++;
            }
            emit(norm, merged[i], s0.get(i), s1.get(j - 1), ids, starts, ends);
            i = j;
        }
    }

    private static void emit(NormalizedText norm, int id, int normStart, int normEnd, IntList ids, IntList starts, IntList ends) {
        ids.add(id);
        starts.add(norm.origStart()[normStart]);
        ends.add(norm.origEnd()[normEnd - 1]);
    }

    /**
     * BPE merging (Hugging Face {@code word.rs}): a min-heap of (rank, position) over the adjacent
     * pairs; the lowest rank wins, then the leftmost; entries made stale by an earlier merge are
     * skipped. Returns, per initial symbol, the final id at the first symbol of each token and -1
     * at the symbols merged into it.
     */
    int[] merge(int[] symbols) {
        int n = symbols.length;
        int[] id = symbols.clone();
        int[] next = new int[n];
        int[] prev = new int[n];
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        LongHeap heap = new LongHeap();
        for (int i = 0; i + 1 < n; i++) {
            pushPair(heap, id[i], id[i + 1], i);
        }
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int rank = (int) (top >>> 32);
            int pos = (int) top;
            if (id[pos] == -1 || next[pos] == -1) {
                continue;
            }
            int right = next[pos];
            Long m = merges.get(pairKey(id[pos], id[right]));
            if (m == null || (int) (m >>> 32) != rank) {
                continue; // stale: this position's pair changed since it was queued
            }
            id[pos] = (int) (long) m;
            id[right] = -1;
            next[pos] = next[right];
            if (next[right] != -1) {
                prev[next[right]] = pos;
            }
            if (prev[pos] != -1) {
                pushPair(heap, id[prev[pos]], id[pos], prev[pos]);
            }
            if (next[pos] != -1) {
                pushPair(heap, id[pos], id[next[pos]], pos);
            }
        }
        return id;
    }

    private void pushPair(LongHeap heap, int a, int b, int pos) {
        Long m = merges.get(pairKey(a, b));
        if (m != null) {
            heap.push((m >>> 32) << 32 | pos);
        }
    }

    static long pairKey(int a, int b) {
        return (long) a << 32 | (b & 0xffffffffL);
    }

    private static String replaceLoneSurrogates(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean lone = Character.isHighSurrogate(c) ? i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))
                    : Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)));
            if (Character.isHighSurrogate(c) && !lone) {
                if (sb != null) {
                    sb.append(c).append(s.charAt(i + 1));
                }
                i++;
                continue;
            }
            if (lone && sb == null) {
                sb = new StringBuilder(s.length()).append(s, 0, i);
            }
            if (sb != null) {
                sb.append(lone ? '\uFFFD' : c);
            }
        }
        return sb == null ? s : sb.toString();
    }

    // ------------------------------------------------------------------ vocabulary

    @Override
    public byte[] tokenBytes(int id) {
        if (id < 0 || id >= idToBytes.length || idToBytes[id] == null) {
            throw new IllegalArgumentException("token id " + id + " is not in the vocabulary of " + source
                    + " (size " + idToBytes.length + ")");
        }
        return idToBytes[id];
    }

    @Override
    public int tokenId(String token) {
        Integer id = addedIds.get(token);
        if (id == null) {
            id = vocab.get(token);
        }
        if (id == null) {
            throw new IllegalArgumentException(source + " has no token '" + token + "'");
        }
        return id;
    }

    @Override
    public boolean hasToken(String token) {
        return addedIds.containsKey(token) || vocab.containsKey(token);
    }

    @Override
    public boolean isAddedToken(int id) {
        return id >= 0 && id < idToToken.length && idToToken[id] != null && addedIds.get(idToToken[id]) instanceof Integer a && a == id;
    }

    @Override
    public String idToToken(int id) {
        if (id < 0 || id >= idToToken.length || idToToken[id] == null) {
            throw new IllegalArgumentException("token id " + id + " is not in the vocabulary of " + source);
        }
        return idToToken[id];
    }

    @Override
    public int vocabSize() {
        return idToToken.length;
    }

    /** Number of merges. */
    public int mergeCount() {
        return merges.size();
    }

    @Override
    public String toString() {
        return "BpeTokenizer[" + source + ", vocab " + vocabSize() + ", merges " + merges.size() + "]";
    }

    /** A binary min-heap of longs. */
    private static final class LongHeap {
        private long[] a = new long[16];
        private int n;

        boolean isEmpty() {
            return n == 0;
        }

        void push(long v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            int i = n++;
            while (i > 0) {
                int parent = (i - 1) / 2;
                if (a[parent] <= v) {
                    break;
                }
                a[i] = a[parent];
                i = parent;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long last = a[--n];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= n) {
                    break;
                }
                if (c + 1 < n && a[c + 1] < a[c]) {
                    c++;
                }
                if (a[c] >= last) {
                    break;
                }
                a[i] = a[c];
                i = c;
            }
            a[i] = last;
            return top;
        }
    }
}
