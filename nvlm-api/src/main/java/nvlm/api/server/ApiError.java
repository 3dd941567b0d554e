package nvlm.api.server;

import java.util.LinkedHashMap;
import java.util.Map;
import nvlm.tensor.io.Json;

/**
 * A request the server refuses, as OpenAI's API reports one: an HTTP status and
 * {@code {"error": {"message", "type", "param", "code"}}}.
 */
final class ApiError extends Exception {
    final int status;
    final String type;
    final String param;
    final String code;

    ApiError(int status, String type, String code, String param, String message) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    static ApiError invalid(String param, String code, String message) {
        return new ApiError(400, "invalid_request_error", code, param, message);
    }

    String json() {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("message", getMessage());
        e.put("type", type);
        e.put("param", param);
        e.put("code", code);
        return Json.write(Map.of("error", e));
    }
}
