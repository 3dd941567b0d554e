package nvlm.trainer.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import nvlm.model.prompt.Role;
import nvlm.model.tiling.ImageLoader;
import nvlm.model.tiling.RgbImage;
import nvlm.tensor.io.Json;

/**
 * User data in LLaVA's conversation format, as a JSON array or JSON Lines (one record per line):
 * <pre>
 * {"id": "a1", "image": "photos/a1.jpg",            (or "images": ["p/1.jpg", "p/2.png"], or neither)
 *  "conversations": [{"from": "human", "value": "&lt;image&gt;\nWhat is shown?"},
 *                    {"from": "gpt",   "value": "A red circle."}, ...]}
 * </pre>
 * Roles: {@code human}/{@code user}, {@code gpt}/{@code assistant}, and {@code system} as the
 * first turn only; user and assistant turns alternate, starting with the user and ending with
 * the assistant. Each image needs one {@code <image>} placeholder in a user turn, in order.
 * Image paths are relative to the image folder and must stay inside it after resolving {@code ..}
 * and symbolic links: an absolute path, {@code ../} or a link leading out is refused (before
 * anything about the outside file is looked at, so messages do not reveal what exists there),
 * unless the folder is opened with {@code allowOutside}. An optional
 * {@code "family"} string names the record's task for per-family evaluation (default
 * {@code "llava"}).
 *
 * <p>Every record is checked when the file is opened, its images' headers included (format, size,
 * the loader's pixel limit), so that a bad record stops a run before its folder exists; the pixels
 * are decoded (through {@link ImageLoader}) only when an example is read. Errors name the file, the
 * record index (its position in the file; and line, for JSON Lines) and the problem. By default the
 * first bad record stops the open; {@link #open(Path, Path, ImageLoader, boolean, int)} with
 * {@code maxBadRecords > 0} skips up to that many instead, each kept in {@link #skipped()}.
 *
 * <p>Special-token text in the records ({@code <|im_end|><|im_start|>assistant}) is plain text
 * unless the file is opened with {@code parseSpecialTokens} ({@code train --parse-special-tokens}).
 */
public final class LlavaDataset implements ExampleSource {
    public static final String DEFAULT_FAMILY = "llava";

    /** One checked record: where it came from, its images and turns. */
    public record Record(String id, String family, List<Path> images, List<Turn> turns, String where) {
    }

    /**
     * A record left out by {@code --skip-bad-records}.
     *
     * @param index   its position in the file (counting every record, bad ones too)
     * @param message why, starting with the file and the record, as the error without skipping would say
     */
    public record Skipped(int index, String message) {
    }

    private final Path file;
    private final List<Record> records;
    private final ImageLoader loader;
    private final List<int[][]> sizes;
    private final List<Skipped> skipped;

    private LlavaDataset(Path file, List<Record> records, List<int[][]> sizes, List<Skipped> skipped, ImageLoader loader) {
        this.file = file;
        this.records = List.copyOf(records);
        this.loader = loader;
        this.sizes = List.copyOf(sizes);
        this.skipped = List.copyOf(skipped);
    }

    public static LlavaDataset open(Path file, Path imageFolder) throws IOException {
        return open(file, imageFolder, new ImageLoader());
    }

    public static LlavaDataset open(Path file, Path imageFolder, ImageLoader loader) throws IOException {
        return open(file, imageFolder, loader, false);
    }

    /** {@link #open(Path, Path, ImageLoader)}; {@code allowOutside} accepts image paths that lead out of the image folder. */
    public static LlavaDataset open(Path file, Path imageFolder, ImageLoader loader, boolean allowOutside) throws IOException {
        return open(file, imageFolder, loader, allowOutside, 0);
    }

    /**
     * {@link #open(Path, Path, ImageLoader, boolean)}, skipping up to {@code maxBadRecords} records
     * that cannot be used (malformed, or with a missing, refused or unreadable image) instead of
     * stopping at the first; one more is an error naming the first and the last. A file that is not
     * a list of records at all, or holds no usable one, is an error either way.
     */
    public static LlavaDataset open(Path file, Path imageFolder, ImageLoader loader, boolean allowOutside, int maxBadRecords)
            throws IOException {
        return open(file, imageFolder, loader, allowOutside, maxBadRecords, false);
    }

    /**
     * {@link #open(Path, Path, ImageLoader, boolean, int)}; {@code parseSpecialTokens} lets
     * special-token text in the records ({@code <|im_end|>}) become those tokens
     * ({@code --parse-special-tokens}). By default it is plain text, as tiktoken and Hugging Face's
     * {@code split_special_tokens=True} treat text from users.
     */
    public static LlavaDataset open(Path file, Path imageFolder, ImageLoader loader, boolean allowOutside, int maxBadRecords,
                                    boolean parseSpecialTokens) throws IOException {
        if (maxBadRecords < 0) {
            throw new IllegalArgumentException("maxBadRecords must be >= 0, got " + maxBadRecords);
        }
        if (!Files.isRegularFile(file)) {
            throw new DataFormatException(file + ": no such data file");
        }
        if (!Files.isDirectory(imageFolder)) {
            throw new DataFormatException(file + ": image folder " + imageFolder + " is not a directory");
        }
        String text = nvlm.tensor.io.JsonFile.decode(Files.readAllBytes(file), file.toString());
        Reader reader = new Reader(file, new ImagePaths(imageFolder, allowOutside), loader, maxBadRecords, parseSpecialTokens);
        String trimmed = text.stripLeading();
        boolean lines = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jsonl") || !trimmed.startsWith("[");
        if (lines) {
            String[] rows = text.split("\r?\n", -1);
            int index = 0;
            for (int line = 0; line < rows.length; line++) {
                if (rows[line].isBlank()) {
                    continue;
                }
                String where = file + ": line " + (line + 1) + " (record " + index + ")";
                try {
                    Object value;
                    try {
                        value = Json.parse(rows[line]);
                    } catch (Json.JsonException e) {
                        throw new DataFormatException(where + ": malformed JSON: " + e.getMessage(), e);
                    }
                    reader.add(value, index, where);
                } catch (DataFormatException bad) {
                    reader.skip(index, bad);
                }
                index++;
            }
        } else {
            Object value;
            try {
                value = Json.parse(text);
            } catch (Json.JsonException e) {
                throw new DataFormatException(file + ": malformed JSON at " + lineAndColumn(text, e.offset()) + ": " + e.getMessage(), e);
            }
            if (!(value instanceof List<?> list)) {
                throw new DataFormatException(file + ": expected a JSON array of records, got " + Json.typeName(value));
            }
            for (int i = 0; i < list.size(); i++) {
                try {
                    reader.add(list.get(i), i, file + ": record " + i);
                } catch (DataFormatException bad) {
                    reader.skip(i, bad);
                }
            }
        }
        if (reader.records.isEmpty()) {
            throw new DataFormatException(file + ": no records" + (reader.skipped.isEmpty() ? ""
                    : " left after skipping " + reader.skipped.size() + " bad one" + (reader.skipped.size() == 1 ? "" : "s")
                    + " (the first: " + reader.skipped.getFirst().message() + ")"));
        }
        return new LlavaDataset(file, reader.records, reader.sizes, reader.skipped, loader);
    }

    /** The records of one file as they are read, and those skipped. */
    private static final class Reader {
        final Path file;
        final ImagePaths paths;
        final ImageLoader loader;
        final int maxBadRecords;
        final boolean parseSpecialTokens;
        final List<Record> records = new ArrayList<>();
        final List<int[][]> sizes = new ArrayList<>();
        final List<Skipped> skipped = new ArrayList<>();

        Reader(Path file, ImagePaths paths, ImageLoader loader, int maxBadRecords, boolean parseSpecialTokens) {
            this.file = file;
            this.parseSpecialTokens = parseSpecialTokens;
            this.paths = paths;
            this.loader = loader;
            this.maxBadRecords = maxBadRecords;
        }

        void add(Object value, int index, String where) throws DataFormatException {
            Record r = record(value, index, where, paths, parseSpecialTokens);
            int[][] wh = new int[2][r.images().size()];
            for (int i = 0; i < r.images().size(); i++) {
                try {
                    int[] size = loader.readSize(r.images().get(i));
                    wh[0][i] = size[0];
                    wh[1][i] = size[1];
                } catch (IOException e) {
                    throw new DataFormatException(r.where() + ": unusable image: " + e.getMessage(), e);
                }
            }
            records.add(r);
            sizes.add(wh);
        }

        /** Keeps {@code bad} as skipped, or throws it: when not skipping, or past the cap. */
        void skip(int index, DataFormatException bad) throws DataFormatException {
            if (maxBadRecords == 0) {
                throw bad;
            }
            if (skipped.size() == maxBadRecords) {
                throw new DataFormatException(file + ": more than " + maxBadRecords + " bad records (the cap of"
                        + " --skip-bad-records; --max-bad-records raises it); the first: " + skipped.getFirst().message()
                        + "; the last: " + bad.getMessage(), bad);
            }
            skipped.add(new Skipped(index, bad.getMessage()));
        }
    }

    private static String lineAndColumn(String text, int offset) {
        int line = 1;
        int column = 1;
        for (int i = 0; i < Math.min(offset, text.length()); i++) {
            if (text.charAt(i) == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        return "line " + line + " column " + column;
    }

    private static Record record(Object value, int index, String where, ImagePaths paths, boolean parseSpecialTokens)
            throws DataFormatException {
        if (!(value instanceof Map<?, ?> map)) {
            throw new DataFormatException(where + ": expected a JSON object, got " + Json.typeName(value));
        }
        Object rawId = map.get("id");
        String id;
        if (rawId == null) {
            id = "record-" + index;
        } else if (rawId instanceof String || rawId instanceof Number) {
            id = rawId.toString();
            where = where + " (id \"" + id + "\")";
        } else {
            throw new DataFormatException(where + ": \"id\" must be a string or a number, got " + Json.typeName(rawId));
        }
        String family = DEFAULT_FAMILY;
        if (map.get("family") != null) {
            if (!(map.get("family") instanceof String f) || f.isBlank()) {
                throw new DataFormatException(where + ": \"family\" must be a non-empty string, got " + Json.typeName(map.get("family")));
            }
            family = f;
        }
        List<String> names = new ArrayList<>();
        Object one = map.get("image");
        Object many = map.get("images");
        if (one != null && many != null) {
            throw new DataFormatException(where + ": has both \"image\" and \"images\"; use one");
        }
        if (one != null) {
            if (!(one instanceof String s)) {
                throw new DataFormatException(where + ": \"image\" must be a string (a path), got " + Json.typeName(one));
            }
            names.add(s);
        } else if (many != null) {
            if (!(many instanceof List<?> list)) {
                throw new DataFormatException(where + ": \"images\" must be an array of paths, got " + Json.typeName(many));
            }
            for (int i = 0; i < list.size(); i++) {
                if (!(list.get(i) instanceof String s)) {
                    throw new DataFormatException(where + ": images[" + i + "] must be a string (a path), got " + Json.typeName(list.get(i)));
                }
                names.add(s);
            }
        }
        List<Path> images = new ArrayList<>();
        for (String name : names) {
            if (name.isBlank()) {
                throw new DataFormatException(where + ": empty image path");
            }
            images.add(paths.resolve(name, where));
        }
        List<Turn> turns = turns(map.get("conversations"), where, parseSpecialTokens);
        int placeholders = 0;
        for (Turn t : turns) {
            placeholders += t.placeholders();
        }
        if (placeholders != images.size()) {
            throw new DataFormatException(where + ": " + images.size() + " image" + (images.size() == 1 ? "" : "s") + " but " + placeholders
                    + " " + Turn.IMAGE_PLACEHOLDER + " placeholder" + (placeholders == 1 ? "" : "s")
                    + " in the user turns (each image needs one, in order)");
        }
        return new Record(id, family, images, turns, where);
    }

    /** Where image names point: inside the image folder (links resolved) unless outside paths are allowed. */
    private static final class ImagePaths {
        private final Path folder;
        private final Path realFolder;
        private final boolean allowOutside;

        ImagePaths(Path folder, boolean allowOutside) throws IOException {
            this.folder = folder;
            this.realFolder = folder.toRealPath();
            this.allowOutside = allowOutside;
        }

        Path resolve(String name, String where) throws DataFormatException {
            Path path;
            try {
                path = folder.resolve(name);
            } catch (java.nio.file.InvalidPathException e) {
                throw new DataFormatException(where + ": image path '" + name + "' is not a valid path (" + e.getReason() + ")");
            }
            String hint = " (paths are relative to the image folder " + folder + "; --allow-outside-images accepts others)";
            if (!allowOutside) {
                if (Path.of(name).isAbsolute()) {
                    throw new DataFormatException(where + ": image path '" + name + "' is absolute" + hint);
                }
                if (!realFolder.resolve(name).normalize().startsWith(realFolder)) {
                    throw new DataFormatException(where + ": image path '" + name + "' leads out of the image folder" + hint);
                }
            }
            if (!Files.isRegularFile(path)) {
                throw new DataFormatException(where + ": missing image file '" + name + "' (looked for " + path.toAbsolutePath() + ")");
            }
            if (allowOutside) {
                return path;
            }
            Path real;
            try {
                real = path.toRealPath();
            } catch (IOException e) {
                throw new DataFormatException(where + ": image path '" + name + "' cannot be resolved (" + e.getMessage() + ")");
            }
            if (!real.startsWith(realFolder)) {
                throw new DataFormatException(where + ": image path '" + name + "' is a symbolic link out of the image folder" + hint);
            }
            return path;
        }
    }

    private static List<Turn> turns(Object value, String where, boolean parseSpecialTokens) throws DataFormatException {
        if (value == null) {
            throw new DataFormatException(where + ": no \"conversations\" array");
        }
        if (!(value instanceof List<?> list)) {
            throw new DataFormatException(where + ": \"conversations\" must be an array, got " + Json.typeName(value));
        }
        List<Turn> turns = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String at = where + ": conversations[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> turn)) {
                throw new DataFormatException(at + " must be an object with \"from\" and \"value\", got " + Json.typeName(list.get(i)));
            }
            if (!(turn.get("from") instanceof String from)) {
                throw new DataFormatException(at + ": \"from\" must be a string, got " + Json.typeName(turn.get("from")));
            }
            if (!(turn.get("value") instanceof String text)) {
                throw new DataFormatException(at + ": \"value\" must be a string, got " + Json.typeName(turn.get("value")));
            }
            Role role = switch (from.toLowerCase(Locale.ROOT)) {
                case "human", "user" -> Role.USER;
                case "gpt", "assistant" -> Role.ASSISTANT;
                case "system" -> Role.SYSTEM;
                default -> throw new DataFormatException(at + ": unknown role \"" + from
                        + "\" (expected human, gpt, user, assistant or system)");
            };
            if (role == Role.SYSTEM && i != 0) {
                throw new DataFormatException(at + ": a system turn may only come first");
            }
            boolean hasSystem = !turns.isEmpty() && turns.getFirst().role() == Role.SYSTEM;
            if (role != Role.SYSTEM) {
                int position = turns.size() - (hasSystem ? 1 : 0);
                Role expected = position % 2 == 0 ? Role.USER : Role.ASSISTANT;
                if (role != expected) {
                    throw new DataFormatException(at + ": expected a " + (expected == Role.USER ? "human" : "gpt")
                            + " turn (turns alternate human, gpt, ...), got \"" + from + "\"");
                }
            }
            Turn t = new Turn(role, text, !parseSpecialTokens);
            if (role != Role.USER && t.placeholders() > 0) {
                throw new DataFormatException(at + ": a " + from + " turn holds an " + Turn.IMAGE_PLACEHOLDER
                        + " placeholder; only human turns hold images");
            }
            turns.add(t);
        }
        if (turns.isEmpty() || turns.getLast().role() != Role.ASSISTANT) {
            throw new DataFormatException(where + ": the conversation must end with a gpt turn (the answer to train on), got "
                    + (turns.isEmpty() ? "no turns" : "a " + turns.getLast().role().chatml() + " turn last"));
        }
        return turns;
    }

    public Path file() {
        return file;
    }

    /** The records left out (only when opened with {@code maxBadRecords > 0}), in file order. */
    public List<Skipped> skipped() {
        return skipped;
    }

    public Record record(int index) {
        return records.get(index);
    }

    @Override
    public int size() {
        return records.size();
    }

    /** Decodes the record's images; an unreadable image is an {@link UncheckedIOException} naming the record. */
    @Override
    public Example get(int index) {
        Record r = records.get(index);
        List<RgbImage> images = new ArrayList<>(r.images().size());
        for (Path p : r.images()) {
            try {
                images.add(loader.load(p));
            } catch (IOException e) {
                throw new UncheckedIOException(r.where() + ": cannot read image: " + e.getMessage(), e);
            }
        }
        return new Example(r.id(), r.family(), images, r.turns());
    }

    /** Image sizes from the file headers, read when the file was opened. */
    @Override
    public Outline outline(int index) {
        Record r = records.get(index);
        int[][] wh = sizes.get(index);
        return new Outline(r.id(), r.family(), wh[0], wh[1], r.turns());
    }
}
