package nvlm.api.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import nvlm.api.GenerationOptions;
import nvlm.api.ImageInput;

/**
 * A {@code POST /v1/chat/completions} body, checked field by field: every problem is an
 * {@link ApiError} naming the field ({@code messages[1].content[0].image_url.url}) and what is accepted.
 * Images come as {@code data:} URLs, or as file paths under the directory the operator allows.
 *
 * @param messages turns in order; each part is a String (text) or an {@link ImageInput}
 */
record ChatRequest(List<Turn> messages, GenerationOptions options, boolean stream) {
    /** One message: role system, user or assistant, and its parts. */
    record Turn(String role, List<Object> parts) {
    }

    static ChatRequest parse(Map<String, Object> body, Path allowedImageDir, int maxTokensCap) throws ApiError {
        Object n = body.get("n");
        if (n != null && !(n instanceof Long l && l == 1)) {
            throw ApiError.invalid("n", "unsupported_value", "only n = 1 is supported");
        }
        int maxTokens = (int) integer(body, "max_completion_tokens", integer(body, "max_tokens", Math.min(256, maxTokensCap)));
        if (maxTokens < 1 || maxTokens > maxTokensCap) {
            throw ApiError.invalid("max_tokens", "invalid_value", "max_tokens must be between 1 and " + maxTokensCap + ", got " + maxTokens);
        }
        double temperature = number(body, "temperature", 0);
        if (temperature < 0 || temperature > 2) {
            throw ApiError.invalid("temperature", "invalid_value", "temperature must be between 0 and 2, got " + temperature);
        }
        double topP = number(body, "top_p", 1);
        if (!(topP > 0 && topP <= 1)) {
            throw ApiError.invalid("top_p", "invalid_value", "top_p must be in (0, 1], got " + topP);
        }
        long seed = integer(body, "seed", 0);
        List<String> stop = new ArrayList<>();
        Object s = body.get("stop");
        if (s instanceof String one) {
            stop.add(one);
        } else if (s instanceof List<?> many) {
            for (Object o : many) {
                if (!(o instanceof String str) || str.isEmpty()) {
                    throw ApiError.invalid("stop", "invalid_type", "stop must be a non-empty string or a list of them");
                }
                stop.add(str);
            }
            if (stop.size() > 4) {
                throw ApiError.invalid("stop", "invalid_value", "at most 4 stop sequences");
            }
        } else if (s != null) {
            throw ApiError.invalid("stop", "invalid_type", "stop must be a string or a list of strings");
        }
        if (stop.stream().anyMatch(String::isEmpty)) {
            throw ApiError.invalid("stop", "invalid_value", "a stop sequence is empty");
        }
        Object st = body.get("stream");
        if (st != null && !(st instanceof Boolean)) {
            throw ApiError.invalid("stream", "invalid_type", "stream must be true or false");
        }
        if (!(body.get("messages") instanceof List<?> list) || list.isEmpty()) {
            throw ApiError.invalid("messages", "invalid_value", "messages must be a non-empty array");
        }
        List<Turn> turns = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            turns.add(turn(list.get(i), "messages[" + i + "]", allowedImageDir));
        }
        if (!turns.getLast().role().equals("user")) {
            throw ApiError.invalid("messages", "invalid_value", "the last message must be from the user");
        }
        for (int i = 1; i < turns.size(); i++) {
            if (turns.get(i).role().equals("system")) {
                throw ApiError.invalid("messages[" + i + "].role", "invalid_value", "only the first message may be a system message");
            }
        }
        return new ChatRequest(turns, new GenerationOptions(maxTokens, temperature, topP, stop, seed), Boolean.TRUE.equals(st));
    }

    private static Turn turn(Object o, String path, Path allowedImageDir) throws ApiError {
        if (!(o instanceof Map<?, ?> m)) {
            throw ApiError.invalid(path, "invalid_type", path + " must be an object");
        }
        Object role = m.get("role");
        if (!"system".equals(role) && !"user".equals(role) && !"assistant".equals(role)) {
            throw ApiError.invalid(path + ".role", "invalid_value", path + ".role must be system, user or assistant, got "
                    + (role == null ? "nothing" : role));
        }
        List<Object> parts = new ArrayList<>();
        Object content = m.get("content");
        if (content instanceof String text) {
            parts.add(text);
        } else if (content instanceof List<?> list) {
            for (int j = 0; j < list.size(); j++) {
                String p = path + ".content[" + j + "]";
                if (!(list.get(j) instanceof Map<?, ?> part)) {
                    throw ApiError.invalid(p, "invalid_type", p + " must be an object");
                }
                Object type = part.get("type");
                if ("text".equals(type) && part.get("text") instanceof String text) {
                    parts.add(text);
                } else if ("image_url".equals(type)) {
                    if (!role.equals("user")) {
                        throw ApiError.invalid(p, "invalid_value", "only user messages may hold images");
                    }
                    Object url = part.get("image_url") instanceof Map<?, ?> iu ? iu.get("url") : part.get("image_url");
                    if (!(url instanceof String u)) {
                        throw ApiError.invalid(p + ".image_url.url", "invalid_type", p + ".image_url.url must be a string");
                    }
                    parts.add(image(u, p + ".image_url.url", allowedImageDir));
                } else {
                    throw ApiError.invalid(p + ".type", "invalid_value", p + " must be {\"type\": \"text\", \"text\": ...} or "
                            + "{\"type\": \"image_url\", \"image_url\": {\"url\": ...}}");
                }
            }
        } else {
            throw ApiError.invalid(path + ".content", "invalid_type", path + ".content must be a string or an array of parts");
        }
        return new Turn((String) role, parts);
    }

    private static ImageInput image(String url, String path, Path allowedImageDir) throws ApiError {
        if (url.startsWith("data:")) {
            int comma = url.indexOf(',');
            if (comma < 0 || !url.substring(0, comma).endsWith(";base64")) {
                throw ApiError.invalid(path, "invalid_image_url", "a data: URL must be data:image/...;base64,...");
            }
            try {
                return ImageInput.bytes(Base64.getDecoder().decode(url.substring(comma + 1)), path);
            } catch (IllegalArgumentException e) {
                throw ApiError.invalid(path, "invalid_image_url", "the data: URL's base64 is invalid: " + e.getMessage());
            }
        }
        if (url.startsWith("http://") || url.startsWith("https://")) {
            throw ApiError.invalid(path, "invalid_image_url", "remote image URLs are not fetched: send a data: URL");
        }
        String file = url.startsWith("file://") ? url.substring(7) : url;
        if (allowedImageDir == null) {
            throw ApiError.invalid(path, "invalid_image_url", "file paths are not accepted by this server (start it with"
                    + " --allow-image-dir DIR); send a data: URL");
        }
        try {
            Path real = Path.of(file).toAbsolutePath().normalize();
            Path root = allowedImageDir.toRealPath();
            if (!real.startsWith(root) || !Files.isRegularFile(real) || !real.toRealPath().startsWith(root)) {
                throw ApiError.invalid(path, "invalid_image_url", "image file " + file + " is not a file under the allowed directory");
            }
            return ImageInput.file(real.toRealPath());
        } catch (IOException | java.nio.file.InvalidPathException e) {
            throw ApiError.invalid(path, "invalid_image_url", "image file " + file + " cannot be read: " + e.getMessage());
        }
    }

    private static long integer(Map<String, Object> body, String key, long fallback) throws ApiError {
        Object v = body.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Long l) {
            return l;
        }
        throw ApiError.invalid(key, "invalid_type", key + " must be an integer");
    }

    private static double number(Map<String, Object> body, String key, double fallback) throws ApiError {
        Object v = body.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number num) {
            return num.doubleValue();
        }
        throw ApiError.invalid(key, "invalid_type", key + " must be a number");
    }
}
