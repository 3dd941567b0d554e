package nvlm.model.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nvlm.tensor.io.Json;

/**
 * The "slow" tokenizer files of a Qwen2 folder ({@code vocab.json}, {@code merges.txt},
 * {@code added_tokens.json}, {@code tokenizer_config.json}, as InternVL2-1B ships them without a
 * tokenizer.json), turned into the tree a tokenizer.json would hold: what transformers'
 * {@code Qwen2Tokenizer} does, and what its converter to the fast form writes (NFC normalizer,
 * Qwen2's split regex, byte-level mapping and decoder). {@code merges.txt} keeps every line but a
 * first {@code #version} line, as Hugging Face's reader does: other lines starting with {@code #}
 * are merges ({@code # include}), not comments.
 */
final class SlowTokenizerFiles {
    static final String VOCAB = "vocab.json";
    static final String MERGES = "merges.txt";
    static final String ADDED_TOKENS = "added_tokens.json";
    static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    /** transformers' Qwen2Tokenizer PRETOKENIZE_REGEX. */
    static final String QWEN2_PATTERN =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private SlowTokenizerFiles() {
    }

    static Map<String, Object> read(Path dir) throws IOException {
        Path vocabFile = dir.resolve(VOCAB);
        Path mergesFile = dir.resolve(MERGES);
        Path configFile = dir.resolve(TOKENIZER_CONFIG);
        for (Path p : List.of(vocabFile, mergesFile, configFile)) {
            if (!Files.isRegularFile(p)) {
                throw new TokenizerFormatException(dir + ": no tokenizer.json and no " + p.getFileName()
                        + " (a Qwen2 tokenizer needs tokenizer.json, or vocab.json + merges.txt + tokenizer_config.json)");
            }
        }
        Map<String, Object> config = parse(configFile);
        Object cls = config.get("tokenizer_class");
        if (!"Qwen2Tokenizer".equals(cls) && !"Qwen2TokenizerFast".equals(cls)) {
            throw new TokenizerFormatException(configFile + ": field 'tokenizer_class' is " + Json.write(cls)
                    + "; only Qwen2Tokenizer is supported from vocab.json + merges.txt (else give a tokenizer.json)");
        }
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("vocab", parse(vocabFile));
        model.put("merges", merges(mergesFile));
        model.put("byte_fallback", false);

        Map<Long, Map<String, Object>> added = new java.util.TreeMap<>();
        Object decoder = config.get("added_tokens_decoder");
        if (decoder instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                long id;
                try {
                    id = Long.parseLong((String) e.getKey());
                } catch (NumberFormatException bad) {
                    throw new TokenizerFormatException(configFile + ": field 'added_tokens_decoder." + e.getKey() + "' must be keyed by an id");
                }
                if (!(e.getValue() instanceof Map<?, ?> entry) || !(entry.get("content") instanceof String content)) {
                    throw new TokenizerFormatException(configFile + ": field 'added_tokens_decoder." + e.getKey()
                            + "' must be an object with a 'content' string");
                }
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("id", id);
                t.put("content", content);
                for (String flag : List.of("single_word", "lstrip", "rstrip", "normalized", "special")) {
                    t.put(flag, entry.get(flag) instanceof Boolean b ? b : false);
                }
                added.put(id, t);
            }
        } else if (decoder != null) {
            throw new TokenizerFormatException(configFile + ": field 'added_tokens_decoder' must be an object");
        }
        Path addedFile = dir.resolve(ADDED_TOKENS);
        if (Files.isRegularFile(addedFile)) {
            for (Map.Entry<String, Object> e : parse(addedFile).entrySet()) {
                if (!(e.getValue() instanceof Long id)) {
                    throw new TokenizerFormatException(addedFile + ": field '" + e.getKey() + "' must be a token id");
                }
                Map<String, Object> known = added.get(id);
                if (known != null && !known.get("content").equals(e.getKey())) {
                    throw new TokenizerFormatException(addedFile + ": id " + id + " is '" + e.getKey() + "' but "
                            + TOKENIZER_CONFIG + " says '" + known.get("content") + "'");
                }
                if (known == null) {
                    // transformers adds these as special, unnormalized tokens.
                    added.put(id, new LinkedHashMap<>(Map.of("id", id, "content", e.getKey(), "single_word", false, "lstrip", false,
                            "rstrip", false, "normalized", false, "special", true)));
                }
            }
        }

        Map<String, Object> root = new LinkedHashMap<>();
        root.put("added_tokens", new ArrayList<>(added.values()));
        root.put("normalizer", Map.of("type", "NFC"));
        Map<String, Object> split = new LinkedHashMap<>();
        split.put("type", "Split");
        split.put("pattern", Map.of("Regex", QWEN2_PATTERN));
        split.put("behavior", "Isolated");
        split.put("invert", false);
        Map<String, Object> byteLevel = new LinkedHashMap<>();
        byteLevel.put("type", "ByteLevel");
        byteLevel.put("add_prefix_space", false);
        byteLevel.put("trim_offsets", false);
        byteLevel.put("use_regex", false);
        root.put("pre_tokenizer", Map.of("type", "Sequence", "pretokenizers", List.of(split, byteLevel)));
        root.put("decoder", byteLevel);
        root.put("model", model);
        return root;
    }

    private static Map<String, Object> parse(Path file) throws IOException {
        try {
            return Json.parseObject(Files.readString(file, StandardCharsets.UTF_8));
        } catch (java.nio.charset.MalformedInputException e) {
            throw new TokenizerFormatException(file + ": not UTF-8 text", e);
        } catch (IllegalArgumentException e) {
            throw new TokenizerFormatException(file + ": not valid JSON (" + e.getMessage() + ")", e);
        }
    }

    /** Every non-empty line but a first "#version" line, as "a b". */
    private static List<Object> merges(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<Object> out = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || (i == 0 && line.startsWith("#version"))) {
                continue;
            }
            String[] parts = line.split(" ");
            if (parts.length != 2) {
                throw new TokenizerFormatException(file + ": line " + (i + 1) + " '" + line + "' must be two tokens separated by a space");
            }
            out.add(List.of(parts[0], parts[1]));
        }
        return out;
    }
}
