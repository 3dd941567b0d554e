package nvlm.model.config;

import java.util.Map;
import nvlm.tensor.io.Json;

/** Typed access to one JSON object of a config file, with errors that name the file and field path. */
final class ConfigReader {
    private final String source;
    private final String path;
    private final Map<String, Object> object;

    ConfigReader(String source, String path, Map<String, Object> object) {
        this.source = source;
        this.path = path;
        this.object = object;
    }

    IllegalArgumentException error(String key, String expected, Object got) {
        return new IllegalArgumentException(source + ": field '" + path + key + "' " + expected + ", got "
                + (got == null ? "nothing" : Json.typeName(got) + " " + Json.write(got)));
    }

    /** The raw value of a field (null when absent). */
    Object raw(String key) {
        return object.get(key);
    }

    /** The source file this reader names in errors. */
    String source() {
        return source;
    }

    boolean has(String key) {
        return object.containsKey(key) && object.get(key) != null;
    }

    @SuppressWarnings("unchecked")
    ConfigReader object(String key) {
        Object v = object.get(key);
        if (!(v instanceof Map)) {
            throw error(key, "must be an object", v);
        }
        return new ConfigReader(source, path + key + ".", (Map<String, Object>) v);
    }

    int integer(String key) {
        Object v = object.get(key);
        if (v instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) {
            return (int) (long) l;
        }
        throw error(key, "must be an integer", v);
    }

    int integer(String key, int fallback) {
        return has(key) ? integer(key) : fallback;
    }

    int positive(String key) {
        int v = integer(key);
        if (v <= 0) {
            throw error(key, "must be positive", (long) v);
        }
        return v;
    }

    long longValue(String key) {
        Object v = object.get(key);
        if (v instanceof Long l) {
            return l;
        }
        throw error(key, "must be an integer", v);
    }

    double number(String key) {
        Object v = object.get(key);
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw error(key, "must be a number", v);
    }

    double number(String key, double fallback) {
        return has(key) ? number(key) : fallback;
    }

    boolean bool(String key) {
        Object v = object.get(key);
        if (v instanceof Boolean b) {
            return b;
        }
        throw error(key, "must be true or false", v);
    }

    boolean bool(String key, boolean fallback) {
        return has(key) ? bool(key) : fallback;
    }

    String string(String key) {
        Object v = object.get(key);
        if (v instanceof String s) {
            return s;
        }
        throw error(key, "must be a string", v);
    }

    String string(String key, String fallback) {
        return has(key) ? string(key) : fallback;
    }

    String oneOf(String key, String... allowed) {
        String v = string(key);
        for (String a : allowed) {
            if (a.equals(v)) {
                return v;
            }
        }
        throw error(key, "must be one of " + String.join(", ", allowed), v);
    }
}
