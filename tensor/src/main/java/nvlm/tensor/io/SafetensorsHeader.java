package nvlm.tensor.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import nvlm.kernels.DType;

/**
 * The header of a safetensors file (REFERENCE.md section 6): an 8-byte little-endian length N, N
 * bytes of UTF-8 JSON, then the data buffer. {@link #read} checks everything the Rust reader
 * checks, so a header that passes describes tensors that tile the data buffer exactly and every
 * tensor's bytes can be read without going out of bounds.
 */
public final class SafetensorsHeader {
    /** The Rust reader's limit on N (HeaderTooLarge). */
    public static final long MAX_LENGTH = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";

    /** Every dtype name some safetensors version writes; only the {@link DType}s among them can be read. */
    private static final Set<String> SAFETENSORS_DTYPES = Set.of(
            "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64",
            "I64", "U64", "F4", "F6_E2M3", "F6_E3M2", "F8_E8M0", "C64", "F8_E4M3FNUZ", "F8_E5M2FNUZ");

    private static final ValueLayout.OfLong LENGTH = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Map<String, String> metadata;
    private final List<TensorEntry> entries;
    private final long dataStart;

    private SafetensorsHeader(Map<String, String> metadata, List<TensorEntry> entries, long dataStart) {
        this.metadata = metadata;
        this.entries = entries;
        this.dataStart = dataStart;
    }

    /** The {@code __metadata__} map; empty when the header has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensors in header order. */
    public List<TensorEntry> entries() {
        return entries;
    }

    /** File offset of the data buffer: 8 + N. */
    public long dataStart() {
        return dataStart;
    }

    /**
     * Parses and validates the header of a whole file's contents.
     *
     * @param file only used in error messages
     */
    public static SafetensorsHeader read(Path file, MemorySegment contents) throws SafetensorsException {
        long fileSize = contents.byteSize();
        if (fileSize < 8) {
            throw new SafetensorsException(file, "file is " + fileSize + " bytes, too short for the 8-byte header length");
        }
        long n = contents.get(LENGTH, 0);
        if (n < 0 || n > MAX_LENGTH) {
            throw new SafetensorsException(file, "header length " + Long.toUnsignedString(n)
                    + " is over the " + MAX_LENGTH + "-byte limit");
        }
        if (8 + n > fileSize) {
            throw new SafetensorsException(file, "header length " + n + " runs past the end of the " + fileSize + "-byte file");
        }
        String text = decodeUtf8(file, contents.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE));
        Object json;
        try {
            json = Json.parse(text);
        } catch (Json.DuplicateKeyException duplicate) {
            if (duplicate.depth() == 0) {
                throw new SafetensorsException(file, duplicate.key(), "duplicate tensor name in the header");
            }
            throw new SafetensorsException(file, "malformed header JSON: " + duplicate.getMessage());
        } catch (Json.JsonException malformed) {
            throw new SafetensorsException(file, "malformed header JSON: " + malformed.getMessage());
        }
        if (!(json instanceof Map<?, ?> header)) {
            throw new SafetensorsException(file, "header is a JSON " + Json.typeName(json) + ", not an object");
        }
        long bufferLength = fileSize - 8 - n;
        Map<String, String> metadata = Map.of();
        List<TensorEntry> entries = new ArrayList<>(header.size());
        for (Map.Entry<?, ?> item : header.entrySet()) {
            String name = (String) item.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = readMetadata(file, item.getValue());
            } else {
                entries.add(readEntry(file, name, item.getValue(), bufferLength));
            }
        }
        checkTiling(file, entries, bufferLength);
        return new SafetensorsHeader(metadata, Collections.unmodifiableList(entries), 8 + n);
    }

    private static String decodeUtf8(Path file, byte[] bytes) throws SafetensorsException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            throw new SafetensorsException(file, "header is not valid UTF-8 (byte " + (8 + in.position()) + " of the file)");
        }
        return out.flip().toString();
    }

    private static Map<String, String> readMetadata(Path file, Object value) throws SafetensorsException {
        if (!(value instanceof Map<?, ?> map)) {
            throw new SafetensorsException(file, METADATA_KEY + " is a JSON " + Json.typeName(value) + ", not an object of strings");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<?, ?> item : map.entrySet()) {
            if (!(item.getValue() instanceof String text)) {
                throw new SafetensorsException(file, METADATA_KEY + " value of \"" + item.getKey() + "\" is a JSON "
                        + Json.typeName(item.getValue()) + ", not a string");
            }
            metadata.put((String) item.getKey(), text);
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static TensorEntry readEntry(Path file, String name, Object value, long bufferLength) throws SafetensorsException {
        if (!(value instanceof Map<?, ?> info)) {
            throw new SafetensorsException(file, name, "entry is a JSON " + Json.typeName(value) + ", not an object");
        }
        for (String field : List.of("dtype", "shape", "data_offsets")) {
            if (!info.containsKey(field)) {
                throw new SafetensorsException(file, name, "entry has no \"" + field + "\"");
            }
        }
        if (!(info.get("dtype") instanceof String dtypeName)) {
            throw new SafetensorsException(file, name, "\"dtype\" is a JSON " + Json.typeName(info.get("dtype")) + ", not a string");
        }
        DType dtype = DType.fromSafetensorsName(dtypeName);
        if (dtype == null) {
            throw new SafetensorsException(file, name, SAFETENSORS_DTYPES.contains(dtypeName)
                    ? "dtype " + dtypeName + " is not supported (nvlm-java reads " + Arrays.toString(DType.values()) + ")"
                    : "unknown dtype \"" + dtypeName + "\"");
        }
        long[] shape = nonNegativeIntegers(file, name, "shape", info.get("shape"));
        long[] offsets = nonNegativeIntegers(file, name, "data_offsets", info.get("data_offsets"));
        if (offsets.length != 2) {
            throw new SafetensorsException(file, name, "\"data_offsets\" has " + offsets.length + " numbers, not 2 (begin, end)");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new SafetensorsException(file, name, "data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        if (end > bufferLength) {
            throw new SafetensorsException(file, name, "data_offsets [" + begin + ", " + end + "] run past the end of the "
                    + bufferLength + "-byte data buffer");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(TensorEntry.numelExact(shape), dtype.byteSize());
        } catch (ArithmeticException overflow) {
            throw new SafetensorsException(file, name, "shape " + Arrays.toString(shape) + " of " + dtype + " overflows 64 bits");
        }
        if (end - begin != bytes) {
            throw new SafetensorsException(file, name, "data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes but " + dtype + Arrays.toString(shape) + " needs " + bytes);
        }
        return new TensorEntry(name, dtype, shape, begin, end);
    }

    private static long[] nonNegativeIntegers(Path file, String name, String field, Object value) throws SafetensorsException {
        if (!(value instanceof List<?> list)) {
            throw new SafetensorsException(file, name, "\"" + field + "\" is a JSON " + Json.typeName(value) + ", not an array");
        }
        long[] numbers = new long[list.size()];
        for (int i = 0; i < numbers.length; i++) {
            Object element = list.get(i);
            if (!(element instanceof Long number) || number < 0) {
                String shown = element instanceof Number ? element.toString() : "a JSON " + Json.typeName(element);
                throw new SafetensorsException(file, name, "\"" + field + "\"[" + i + "] is " + shown
                        + ", not a non-negative 64-bit integer");
            }
            numbers[i] = number;
        }
        return numbers;
    }

    /** Sorted by offsets, the tensors must cover the data buffer with no gap and no overlap (Rust: InvalidOffset, MetadataIncompleteBuffer). */
    private static void checkTiling(Path file, List<TensorEntry> entries, long bufferLength) throws SafetensorsException {
        List<TensorEntry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(TensorEntry::begin).thenComparingLong(TensorEntry::end));
        long covered = 0;
        TensorEntry previous = null;
        for (TensorEntry entry : sorted) {
            if (entry.begin() < covered) {
                throw new SafetensorsException(file, entry.name(), "data_offsets [" + entry.begin() + ", " + entry.end()
                        + "] overlap tensor \"" + previous.name() + "\" [" + previous.begin() + ", " + previous.end() + "]");
            }
            if (entry.begin() > covered) {
                throw new SafetensorsException(file, entry.name(), "data_offsets [" + entry.begin() + ", " + entry.end()
                        + "] leave a gap: the previous tensor ends at " + covered);
            }
            covered = entry.end();
            previous = entry;
        }
        if (covered != bufferLength) {
            throw new SafetensorsException(file, previous == null ? null : previous.name(), "the data buffer is "
                    + bufferLength + " bytes but the tensors end at " + covered);
        }
    }

    /**
     * The bytes before the data buffer for these tensors: the length, the JSON (metadata first, then
     * the entries in the given order) and spaces up to a multiple of 8, so that a buffer laid out
     * widest dtype first keeps every tensor naturally aligned (what the Rust writer does).
     */
    static byte[] encode(Map<String, String> metadata, List<TensorEntry> entries) {
        Map<String, Object> json = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            json.put(METADATA_KEY, metadata);
        }
        for (TensorEntry entry : entries) {
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", entry.dtype().name());
            info.put("shape", entry.shape());
            info.put("data_offsets", new long[] {entry.begin(), entry.end()});
            json.put(entry.name(), info);
        }
        byte[] text = Json.write(json).getBytes(StandardCharsets.UTF_8);
        long padded = (text.length + 7L) / 8 * 8;
        if (padded > MAX_LENGTH) {
            throw new IllegalArgumentException("the header would be " + padded + " bytes, over the " + MAX_LENGTH
                    + "-byte limit readers accept (" + entries.size() + " tensors)");
        }
        ByteBuffer out = ByteBuffer.allocate(8 + (int) padded).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(text);
        while (out.hasRemaining()) {
            out.put((byte) ' ');
        }
        return out.array();
    }
}
