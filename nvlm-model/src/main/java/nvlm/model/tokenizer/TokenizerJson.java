package nvlm.model.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import nvlm.tensor.io.Json;

/**
 * The parts of a tokenizer.json that {@link BpeTokenizer} uses, read and checked field by field;
 * every error names the file and the JSON path of the field.
 */
final class TokenizerJson {
    final String source;
    Map<String, Integer> vocab = new HashMap<>();
    final Map<Long, Long> merges = new HashMap<>();
    final List<AddedToken> added = new ArrayList<>();
    final List<Normalizer.Form> normalizers = new ArrayList<>();
    final List<BpeTokenizer.Split> splits = new ArrayList<>();
    boolean byteLevel;
    boolean byteLevelDecoder;
    boolean ignoreMerges;
    boolean byteFallback;
    int unkId = -1;
    boolean fuseUnk;

    TokenizerJson(String source) {
        this.source = source;
    }

    TokenizerFormatException error(String path, String message) {
        return new TokenizerFormatException(source + ": " + path + " " + message);
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> object(Map<String, Object> parent, String key, String path, boolean required)
            throws TokenizerFormatException {
        Object v = parent.get(key);
        if (v == null) {
            if (required) {
                throw error(path, "is missing");
            }
            return null;
        }
        if (!(v instanceof Map)) {
            throw error(path, "must be an object, got " + Json.typeName(v));
        }
        return (Map<String, Object>) v;
    }

    String string(Map<String, Object> parent, String key, String path, boolean required) throws TokenizerFormatException {
        Object v = parent.get(key);
        if (v == null) {
            if (required) {
                throw error(path, "is missing");
            }
            return null;
        }
        if (!(v instanceof String s)) {
            throw error(path, "must be a string, got " + Json.typeName(v));
        }
        return s;
    }

    boolean bool(Map<String, Object> parent, String key, String path) throws TokenizerFormatException {
        Object v = parent.get(key);
        if (v == null) {
            return false;
        }
        if (!(v instanceof Boolean b)) {
            throw error(path, "must be true or false, got " + Json.typeName(v));
        }
        return b;
    }

    int id(Object v, String path) throws TokenizerFormatException {
        if (!(v instanceof Long l) || l < 0) {
            throw error(path, "must be a token id (a non-negative integer), got " + (v instanceof String ? "'" + v + "'" : v));
        }
        if (l >= BpeTokenizer.MAX_ID) {
            throw error(path, "is " + l + ": ids must be below " + BpeTokenizer.MAX_ID + " (tables are indexed by id)");
        }
        return (int) (long) l;
    }

    void readVocab(Map<String, Object> json) throws TokenizerFormatException {
        for (Map.Entry<String, Object> e : json.entrySet()) {
            vocab.put(e.getKey(), id(e.getValue(), "model.vocab['" + e.getKey() + "']"));
        }
    }

    void readModelOptions(Map<String, Object> model) throws TokenizerFormatException {
        ignoreMerges = bool(model, "ignore_merges", "model.ignore_merges");
        byteFallback = bool(model, "byte_fallback", "model.byte_fallback");
        fuseUnk = bool(model, "fuse_unk", "model.fuse_unk");
        String unk = string(model, "unk_token", "model.unk_token", false);
        if (unk != null) {
            Integer id = vocab.get(unk);
            if (id == null) {
                throw error("model.unk_token", "'" + unk + "' is not in the vocab");
            }
            unkId = id;
        }
        Object dropout = model.get("dropout");
        if (dropout instanceof Number d && d.doubleValue() > 0) {
            throw error("model.dropout", "is " + d + ": BPE dropout (random merges) is not supported");
        }
        for (String affix : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            String v = string(model, affix, "model." + affix, false);
            if (v != null && !v.isEmpty()) {
                throw error("model." + affix, "'" + v + "' is not supported (byte-level BPE has none)");
            }
        }
    }

    void readMerges(Object json) throws TokenizerFormatException {
        if (!(json instanceof List<?> list)) {
            throw error("model.merges", "must be an array, got " + Json.typeName(json));
        }
        int rank = 0;
        for (int i = 0; i < list.size(); i++) {
            Object m = list.get(i);
            String a;
            String b;
            if (m instanceof String s) {
                if (s.startsWith("#version")) {
                    continue;
                }
                String[] parts = s.split(" ", -1);
                if (parts.length != 2) {
                    throw error("model.merges[" + i + "]", "'" + s + "' must be two tokens separated by one space");
                }
                a = parts[0];
                b = parts[1];
            } else if (m instanceof List<?> pair && pair.size() == 2 && pair.get(0) instanceof String x
                    && pair.get(1) instanceof String y) {
                a = x;
                b = y;
            } else {
                throw error("model.merges[" + i + "]", "must be \"a b\" or [\"a\", \"b\"], got " + Json.write(m));
            }
            Integer ia = vocab.get(a);
            Integer ib = vocab.get(b);
            Integer merged = vocab.get(a + b);
            if (ia == null || ib == null) {
                throw error("model.merges[" + i + "]", "(" + a + ", " + b + "): '" + (ia == null ? a : b)
                        + "' is not in the vocab");
            }
            if (merged == null) {
                throw error("model.merges[" + i + "]", "(" + a + ", " + b + "): the merged token '" + a + b
                        + "' is not in the vocab");
            }
            long key = BpeTokenizer.pairKey(ia, ib);
            if (!merges.containsKey(key)) { // a repeated pair keeps its first (lowest) rank
                merges.put(key, (long) rank << 32 | merged);
            }
            rank++;
        }
    }

    @SuppressWarnings("unchecked")
    void readAddedTokens(Object json) throws TokenizerFormatException {
        if (!(json instanceof List<?> list)) {
            throw error("added_tokens", "must be an array, got " + Json.typeName(json));
        }
        for (int i = 0; i < list.size(); i++) {
            String path = "added_tokens[" + i + "]";
            if (!(list.get(i) instanceof Map)) {
                throw error(path, "must be an object");
            }
            Map<String, Object> t = (Map<String, Object>) list.get(i);
            String content = string(t, "content", path + ".content", true);
            if (content.isEmpty()) {
                throw error(path + ".content", "is empty");
            }
            int id = id(t.get("id"), path + ".id");
            added.add(new AddedToken(id, content, bool(t, "single_word", path), bool(t, "lstrip", path),
                    bool(t, "rstrip", path), bool(t, "normalized", path), bool(t, "special", path)));
        }
    }

    @SuppressWarnings("unchecked")
    void readNormalizer(Object json, String path) throws TokenizerFormatException {
        if (json == null) {
            return;
        }
        if (!(json instanceof Map)) {
            throw error(path, "must be an object or null");
        }
        Map<String, Object> n = (Map<String, Object>) json;
        String type = string(n, "type", path + ".type", true);
        switch (type) {
            case "NFC" -> normalizers.add(Normalizer.Form.NFC);
            case "NFD" -> normalizers.add(Normalizer.Form.NFD);
            case "NFKC" -> normalizers.add(Normalizer.Form.NFKC);
            case "NFKD" -> normalizers.add(Normalizer.Form.NFKD);
            case "Sequence" -> {
                Object steps = n.get("normalizers");
                if (!(steps instanceof List<?> list)) {
                    throw error(path + ".normalizers", "must be an array");
                }
                for (int i = 0; i < list.size(); i++) {
                    readNormalizer(list.get(i), path + ".normalizers[" + i + "]");
                }
            }
            default -> throw error(path + ".type", "'" + type + "' is not supported (NFC, NFD, NFKC, NFKD, Sequence)");
        }
    }

    @SuppressWarnings("unchecked")
    void readPreTokenizer(Object json, String path) throws TokenizerFormatException {
        if (json == null) {
            return;
        }
        if (!(json instanceof Map)) {
            throw error(path, "must be an object or null");
        }
        Map<String, Object> p = (Map<String, Object>) json;
        String type = string(p, "type", path + ".type", true);
        switch (type) {
            case "Sequence" -> {
                Object steps = p.get("pretokenizers");
                if (!(steps instanceof List<?> list)) {
                    throw error(path + ".pretokenizers", "must be an array");
                }
                for (int i = 0; i < list.size(); i++) {
                    readPreTokenizer(list.get(i), path + ".pretokenizers[" + i + "]");
                }
            }
            case "Split" -> {
                Map<String, Object> pattern = object(p, "pattern", path + ".pattern", true);
                String regex;
                if (pattern.get("Regex") instanceof String r) {
                    regex = r;
                } else if (pattern.get("String") instanceof String s) {
                    regex = Pattern.quote(s);
                } else {
                    throw error(path + ".pattern", "must be {\"Regex\": ...} or {\"String\": ...}");
                }
                String behavior = string(p, "behavior", path + ".behavior", true);
                if (!List.of("Isolated", "Removed", "MergedWithPrevious", "MergedWithNext").contains(behavior)) {
                    throw error(path + ".behavior", "'" + behavior
                            + "' is not supported (Isolated, Removed, MergedWithPrevious, MergedWithNext)");
                }
                splits.add(new BpeTokenizer.Split(compile(regex, path + ".pattern.Regex"), behavior, bool(p, "invert", path + ".invert")));
            }
            case "ByteLevel" -> {
                if (bool(p, "add_prefix_space", path + ".add_prefix_space")) {
                    throw error(path + ".add_prefix_space", "true is not supported");
                }
                if (byteLevel) {
                    throw error(path, "a second ByteLevel step is not supported");
                }
                Object useRegex = p.get("use_regex");
                if (useRegex == null || Boolean.TRUE.equals(useRegex)) {
                    splits.add(new BpeTokenizer.Split(compile(BpeTokenizer.GPT2_PATTERN, path), "Isolated", false));
                }
                byteLevel = true;
            }
            default -> throw error(path + ".type", "'" + type + "' is not supported (Sequence, Split, ByteLevel)");
        }
    }

    Pattern compile(String regex, String path) throws TokenizerFormatException {
        try {
            return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        } catch (PatternSyntaxException e) {
            throw error(path, "is not a regex java.util.regex accepts: " + e.getDescription());
        }
    }

    @SuppressWarnings("unchecked")
    void readDecoder(Object json) throws TokenizerFormatException {
        if (json == null) {
            return;
        }
        if (!(json instanceof Map)) {
            throw error("decoder", "must be an object or null");
        }
        String type = string((Map<String, Object>) json, "type", "decoder.type", true);
        if (!type.equals("ByteLevel")) {
            throw error("decoder.type", "'" + type + "' is not supported (ByteLevel)");
        }
        byteLevelDecoder = true;
    }
}
