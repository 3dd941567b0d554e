package nvlm.api.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import nvlm.api.Completion;
import nvlm.api.ImageInput;
import nvlm.api.VisionLanguageModel;
import nvlm.model.prompt.Message;
import nvlm.model.prompt.PromptImage;
import nvlm.model.prompt.Sample;
import nvlm.model.tiling.ImageLoader;
import nvlm.tensor.io.Json;

/**
 * An OpenAI-compatible HTTP server for one {@link VisionLanguageModel}, on the JDK's HTTP server:
 * {@code POST /v1/chat/completions} (text and {@code image_url} parts, streaming with server-sent
 * events or not), {@code GET /v1/models}, {@code GET /health}, and a chat page at {@code /}.
 *
 * <p>It listens at once and loads the model in the background (503 until it is loaded). Requests
 * are checked before they queue; at most {@code maxQueued} wait behind the one generating (429
 * beyond). Limits on the body, the image pixels and the context length each answer 4xx with a JSON
 * error naming the field. A failing request (bad image, client gone) ends only itself: a client
 * that disconnects during streaming stops its generation.
 */
public final class OpenAiServer implements AutoCloseable {
    /** What one request may ask for. */
    public record Limits(long maxRequestBytes, long maxImagePixels, int maxContextTokens, int maxTokens, int maxQueued) {
        public Limits {
            if (maxRequestBytes < 1 || maxImagePixels < 1 || maxContextTokens < 1 || maxTokens < 1 || maxQueued < 0) {
                throw new IllegalArgumentException("server limits must be positive (maxQueued may be 0): " + maxRequestBytes + ", "
                        + maxImagePixels + ", " + maxContextTokens + ", " + maxTokens + ", " + maxQueued);
            }
        }

        /** 20 MB bodies, 25 megapixel images, 8192-token contexts, 1024 new tokens, 8 queued. */
        public static Limits defaults() {
            return new Limits(20L << 20, 25_000_000L, 8192, 1024, 8);
        }
    }

    private final HttpServer http;
    private final ExecutorService executor;
    private final Limits limits;
    private final Path allowedImageDir;
    private final String modelId;
    private final Semaphore slots;
    private volatile VisionLanguageModel model;
    private volatile String loadFailure;
    private final long created = System.currentTimeMillis() / 1000;

    private OpenAiServer(HttpServer http, ExecutorService executor, Limits limits, Path allowedImageDir, String modelId) {
        this.http = http;
        this.executor = executor;
        this.limits = limits;
        this.allowedImageDir = allowedImageDir;
        this.modelId = modelId;
        this.slots = new Semaphore(limits.maxQueued() + 1);
    }

    /**
     * Starts listening on {@code address} (port 0: any free port) and runs {@code open} in the
     * background. {@code allowedImageDir} (may be null) is the only directory image file paths may
     * name.
     */
    public static OpenAiServer start(InetSocketAddress address, Callable<VisionLanguageModel> open, String modelId, Limits limits,
                                     Path allowedImageDir) throws IOException {
        HttpServer http = HttpServer.create(address, 64);
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(executor);
        OpenAiServer server = new OpenAiServer(http, executor, limits, allowedImageDir, modelId);
        http.createContext("/", server::handle);
        http.start();
        Thread.ofPlatform().name("nvlm-serve-load").daemon().start(() -> {
            try {
                VisionLanguageModel m = open.call();
                m.maxPixels(limits.maxImagePixels());
                server.model = m;
            } catch (Exception | Error e) {
                server.loadFailure = e.getMessage() == null ? e.toString() : e.getMessage();
            }
        });
        return server;
    }

    /** The port listened on. */
    public int port() {
        return http.getAddress().getPort();
    }

    public boolean loaded() {
        return model != null;
    }

    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
        if (model != null) {
            model.close();
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            try {
                switch (path) {
                    case "/", "/index.html" -> {
                        requireMethod(method, "GET");
                        send(ex, 200, "text/html; charset=utf-8", page());
                    }
                    case "/health" -> {
                        requireMethod(method, "GET");
                        if (model != null) {
                            sendJson(ex, 200, Json.write(Map.of("status", "ok", "model", modelId)));
                        } else if (loadFailure != null) {
                            sendJson(ex, 500, Json.write(Map.of("status", "failed", "error", loadFailure)));
                        } else {
                            sendJson(ex, 503, Json.write(Map.of("status", "loading")));
                        }
                    }
                    case "/v1/models" -> {
                        requireMethod(method, "GET");
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("id", modelId);
                        m.put("object", "model");
                        m.put("created", created);
                        m.put("owned_by", "nvlm-java");
                        sendJson(ex, 200, Json.write(Map.of("object", "list", "data", List.of(m))));
                    }
                    case "/v1/chat/completions" -> {
                        requireMethod(method, "POST");
                        chat(ex);
                    }
                    default -> throw new ApiError(404, "invalid_request_error", "not_found", null, "no route " + method + " " + path
                            + " (POST /v1/chat/completions, GET /v1/models, GET /health, GET /)");
                }
            } catch (ApiError e) {
                sendJson(ex, e.status, e.json());
            } catch (IOException e) {
                // the client went away: nothing to answer
            } catch (RuntimeException e) {
                sendJson(ex, 500, new ApiError(500, "server_error", "internal_error", null,
                        e.getClass().getSimpleName() + ": " + e.getMessage()).json());
            }
        }
    }

    private static void requireMethod(String method, String allowed) throws ApiError {
        if (!method.equals(allowed)) {
            throw new ApiError(405, "invalid_request_error", "method_not_allowed", null, "use " + allowed);
        }
    }

    private byte[] body(HttpExchange ex) throws IOException, ApiError {
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.trim()) > limits.maxRequestBytes()) {
                    throw tooLarge();
                }
            } catch (NumberFormatException e) {
                throw ApiError.invalid(null, "invalid_header", "Content-Length is not a number");
            }
        }
        try (InputStream in = ex.getRequestBody()) {
            byte[] data = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limits.maxRequestBytes() + 1));
            if (data.length > limits.maxRequestBytes()) {
                throw tooLarge();
            }
            return data;
        }
    }

    private ApiError tooLarge() {
        return new ApiError(413, "invalid_request_error", "request_too_large", null, "the request body is larger than "
                + limits.maxRequestBytes() + " bytes");
    }

    private void chat(HttpExchange ex) throws IOException, ApiError {
        byte[] raw = body(ex);
        VisionLanguageModel m = model;
        if (m == null) {
            throw new ApiError(503, "server_error", loadFailure == null ? "model_loading" : "model_failed", null,
                    loadFailure == null ? "the model is still loading; retry shortly" : "the model failed to load: " + loadFailure);
        }
        Map<String, Object> json;
        try {
            json = Json.parseObject(new String(raw, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid(null, "invalid_json", "the body is not a JSON object: " + e.getMessage());
        }
        ChatRequest request = ChatRequest.parse(json, allowedImageDir, limits.maxTokens());
        List<Message> conversation = conversation(m, request);
        Sample prompt;
        try {
            prompt = m.chatPrompt(conversation);
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid("messages", "invalid_value", e.getMessage());
        }
        int needed = prompt.length() + request.options().maxTokens();
        if (needed > limits.maxContextTokens()) {
            throw ApiError.invalid("messages", "context_length_exceeded", "the prompt is " + prompt.length() + " tokens and max_tokens "
                    + request.options().maxTokens() + ": " + needed + " is more than the context limit of " + limits.maxContextTokens());
        }
        if (!slots.tryAcquire()) {
            throw new ApiError(429, "rate_limit_error", "queue_full", null, "the server is busy: " + limits.maxQueued()
                    + " requests already wait; retry later");
        }
        try {
            String id = "chatcmpl-" + UUID.randomUUID();
            long now = System.currentTimeMillis() / 1000;
            if (request.stream()) {
                stream(ex, m, prompt, request, id, now);
            } else {
                Completion c = m.generate(prompt, request.options(), null, () -> false);
                Map<String, Object> out = completion("chat.completion", id, now, "message",
                        Map.of("role", "assistant", "content", c.text()), c.finishReason());
                out.put("usage", usage(c));
                sendJson(ex, 200, Json.write(out));
            }
        } finally {
            slots.release();
        }
    }

    private static Map<String, Object> usage(Completion c) {
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("prompt_tokens", (long) c.promptIds().length);
        u.put("completion_tokens", (long) c.ids().length);
        u.put("total_tokens", (long) c.promptIds().length + c.ids().length);
        return u;
    }

    private void stream(HttpExchange ex, VisionLanguageModel m, Sample prompt, ChatRequest request, String id, long now)
            throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        AtomicBoolean gone = new AtomicBoolean();
        event(out, chunk(id, now, Map.of("role", "assistant", "content", ""), null), gone);
        Completion c = m.generate(prompt, request.options(), text -> event(out, chunk(id, now, Map.of("content", text), null), gone),
                gone::get);
        if (!gone.get()) {
            Map<String, Object> last = chunk(id, now, Map.of(), c.finishReason());
            last.put("usage", usage(c));
            event(out, last, gone);
            write(out, "data: [DONE]\n\n", gone);
        }
    }

    private Map<String, Object> chunk(String id, long now, Map<String, Object> delta, String finish) {
        return completion("chat.completion.chunk", id, now, "delta", delta, finish);
    }

    /** A response object ({@code object}: a whole completion or a stream chunk) with one choice holding {@code content} under {@code key}. */
    private Map<String, Object> completion(String object, String id, long now, String key, Map<String, Object> content, String finish) {
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("index", 0L);
        choice.put(key, content);
        choice.put("finish_reason", finish);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", id);
        out.put("object", object);
        out.put("created", now);
        out.put("model", modelId);
        out.put("choices", List.of(choice));
        return out;
    }


    private static void event(OutputStream out, Map<String, Object> data, AtomicBoolean gone) {
        write(out, "data: " + Json.write(data) + "\n\n", gone);
    }

    /** Writes and flushes; a client that went away marks {@code gone}, which stops the generation. */
    private static void write(OutputStream out, String text, AtomicBoolean gone) {
        if (gone.get()) {
            return;
        }
        try {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            gone.set(true);
        }
    }

    /** The request's turns as the model's messages, each image tiled (and checked) here. */
    private static List<Message> conversation(VisionLanguageModel m, ChatRequest request) throws ApiError {
        List<Message> out = new ArrayList<>();
        for (int i = 0; i < request.messages().size(); i++) {
            ChatRequest.Turn t = request.messages().get(i);
            List<Message.Content> parts = new ArrayList<>();
            for (Object p : t.parts()) {
                if (p instanceof String text) {
                    parts.add(new Message.Text(text));
                } else {
                    ImageInput image = (ImageInput) p;
                    if (!m.acceptsImages()) {
                        throw ApiError.invalid("messages[" + i + "]", "images_not_supported",
                                "model " + m.folder().getFileName() + " is a text-only model (" + m.format() + "): it takes no images");
                    }
                    PromptImage tiled;
                    try {
                        tiled = m.tile(image);
                    } catch (ImageLoader.ImageFormatException e) {
                        boolean big = e.getMessage() != null && e.getMessage().contains("more than the limit");
                        throw ApiError.invalid("messages[" + i + "]", big ? "image_too_large" : "invalid_image", e.getMessage());
                    } catch (IOException e) {
                        throw ApiError.invalid("messages[" + i + "]", "invalid_image", e.getMessage());
                    }
                    // InternVL's chat() puts "<image>\n" before the question.
                    parts.add(new Message.Image(tiled));
                    parts.add(new Message.Text("\n"));
                }
            }
            nvlm.model.prompt.Role role = switch (t.role()) {
                case "system" -> nvlm.model.prompt.Role.SYSTEM;
                case "assistant" -> nvlm.model.prompt.Role.ASSISTANT;
                default -> nvlm.model.prompt.Role.USER;
            };
            out.add(new Message(role, parts));
        }
        return out;
    }

    private static void sendJson(HttpExchange ex, int status, String json) throws IOException {
        send(ex, status, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    private static byte[] page() throws IOException {
        try (InputStream in = OpenAiServer.class.getResourceAsStream("chat.html")) {
            if (in == null) {
                throw new IOException("chat.html missing from the jar");
            }
            return in.readAllBytes();
        }
    }
}
