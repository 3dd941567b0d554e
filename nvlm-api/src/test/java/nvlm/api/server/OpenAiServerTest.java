package nvlm.api.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import nvlm.api.VisionLanguageModel;
import nvlm.tensor.io.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server over real loopback sockets, with the JDK's HTTP client: answers, streaming, concurrency and every error path. */
class OpenAiServerTest {
    @TempDir
    static Path tmp;
    static Path folder;
    static OpenAiServer server;
    static Path allowed;
    static String png;
    static final HttpClient CLIENT = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        folder = nvlm.api.TestFoldersAccess.internVl(tmp.resolve("internvl"));
        allowed = Files.createDirectories(tmp.resolve("images"));
        byte[] bytes = nvlm.api.TestFoldersAccess.pngBytes(allowed, 448, 448, 1);
        png = "data:image/png;base64," + Base64.getEncoder().encodeToString(bytes);
        server = OpenAiServer.start(new InetSocketAddress("127.0.0.1", 0), () -> VisionLanguageModel.open(folder), "internvl-test",
                new OpenAiServer.Limits(4_000_000, 500_000, 600, 64, 4), allowed);
        for (int i = 0; i < 600 && !server.loaded(); i++) {
            Thread.sleep(100);
        }
        assertTrue(server.loaded(), "model loaded");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static URI uri(OpenAiServer s, String path) {
        return URI.create("http://127.0.0.1:" + s.port() + path);
    }

    static HttpResponse<String> post(OpenAiServer s, String body) throws IOException, InterruptedException {
        return CLIENT.send(HttpRequest.newBuilder(uri(s, "/v1/chat/completions")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(OpenAiServer s, String path) throws IOException, InterruptedException {
        return CLIENT.send(HttpRequest.newBuilder(uri(s, path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    static String request(String question, String imageUrl, int maxTokens, boolean stream) {
        List<Object> content = new ArrayList<>();
        if (imageUrl != null) {
            content.add(Map.of("type", "image_url", "image_url", Map.of("url", imageUrl)));
        }
        content.add(Map.of("type", "text", "text", question));
        return Json.write(Map.of("model", "internvl-test", "messages", List.of(Map.of("role", "user", "content", content)),
                "max_tokens", (long) maxTokens, "stream", stream));
    }

    @SuppressWarnings("unchecked")
    static String answer(HttpResponse<String> r) {
        Map<String, Object> m = Json.parseObject(r.body());
        Map<String, Object> choice = (Map<String, Object>) ((List<Object>) m.get("choices")).getFirst();
        return (String) ((Map<String, Object>) choice.get("message")).get("content");
    }

    /** The streamed text of an SSE response, and whether it ended with [DONE]. */
    @SuppressWarnings("unchecked")
    static String streamed(InputStream body) throws IOException {
        StringBuilder text = new StringBuilder();
        boolean done = false;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (!line.startsWith("data: ")) {
                    continue;
                }
                String data = line.substring(6);
                if (data.equals("[DONE]")) {
                    done = true;
                    continue;
                }
                Map<String, Object> chunk = Json.parseObject(data);
                assertEquals("chat.completion.chunk", chunk.get("object"));
                Map<String, Object> delta = (Map<String, Object>) ((Map<String, Object>) ((List<Object>) chunk.get("choices"))
                        .getFirst()).get("delta");
                if (delta.get("content") instanceof String s) {
                    text.append(s);
                }
            }
        }
        assertTrue(done, "stream ends with data: [DONE]");
        return text.toString();
    }

    @Test
    void healthModelsAndThePage() throws Exception {
        assertEquals(200, get(server, "/health").statusCode());
        assertTrue(get(server, "/v1/models").body().contains("\"id\":\"internvl-test\""));
        HttpResponse<String> page = get(server, "/");
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("/v1/chat/completions") && page.body().contains("type=\"file\""));
    }

    @Test
    @SuppressWarnings("unchecked")
    void aNonStreamingAnswerWithADataUrlImageEqualsTheStreamedOne() throws Exception {
        HttpResponse<String> r = post(server, request("What is this?", png, 8, false));
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> usage = (Map<String, Object>) Json.parseObject(r.body()).get("usage");
        assertTrue((Long) usage.get("prompt_tokens") > 256, "one tile of 256 image tokens in the prompt");
        HttpResponse<InputStream> s = CLIENT.send(HttpRequest.newBuilder(uri(server, "/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(request("What is this?", png, 8, true))).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, s.statusCode());
        assertTrue(s.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        assertEquals(answer(r), streamed(s.body()), "greedy: the same text either way");
    }

    @Test
    void anImageFileUnderTheAllowedDirectoryIsReadAndOneOutsideIsRefused() throws Exception {
        Path inside = allowed.resolve("img-1.png");
        assertEquals(200, post(server, request("?", inside.toString(), 2, false)).statusCode());
        Path outside = Files.copy(inside, tmp.resolve("outside.png"));
        HttpResponse<String> r = post(server, request("?", outside.toString(), 2, false));
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("not a file under the allowed directory"), r.body());
        HttpResponse<String> sneaky = post(server, request("?", allowed + "/../outside.png", 2, false));
        assertEquals(400, sneaky.statusCode(), sneaky.body());
    }

    @Test
    void concurrentRequestsAreAnsweredAsIfAloneAndABadOneDisturbsNone() throws Exception {
        List<String> questions = List.of("One?", "Two?", "Three?");
        List<String> alone = new ArrayList<>();
        for (String q : questions) {
            alone.add(answer(post(server, request(q, null, 6, false))));
        }
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (String q : questions) {
            futures.add(CLIENT.sendAsync(HttpRequest.newBuilder(uri(server, "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(request(q, null, 6, false))).build(), HttpResponse.BodyHandlers.ofString()));
        }
        var bad = CLIENT.sendAsync(HttpRequest.newBuilder(uri(server, "/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(request("?", "data:image/png;base64,AAAA", 6, false))).build(),
                HttpResponse.BodyHandlers.ofString());
        for (int i = 0; i < questions.size(); i++) {
            HttpResponse<String> r = futures.get(i).get();
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(alone.get(i), answer(r));
        }
        assertEquals(400, bad.get().statusCode());
        assertTrue(bad.get().body().contains("\"code\":\"invalid_image\""), bad.get().body());
    }

    @Test
    void aFullQueueAnswers429AndTheSlotIsFreedAfterTheClientLeaves() throws Exception {
        try (OpenAiServer small = OpenAiServer.start(new InetSocketAddress("127.0.0.1", 0), () -> VisionLanguageModel.open(folder),
                "q", new OpenAiServer.Limits(4_000_000, 500_000, 600, 64, 0), null)) {
            for (int i = 0; i < 600 && !small.loaded(); i++) {
                Thread.sleep(100);
            }
            HttpResponse<InputStream> running = CLIENT.send(HttpRequest.newBuilder(uri(small, "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(request("Long answer please.", null, 64, true))).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, running.statusCode());
            BufferedReader in = new BufferedReader(new InputStreamReader(running.body(), StandardCharsets.UTF_8));
            assertTrue(in.readLine().startsWith("data: "), "the first chunk arrived: the one slot is taken");
            HttpResponse<String> refused = post(small, request("Me too?", null, 4, false));
            assertEquals(429, refused.statusCode());
            assertTrue(refused.body().contains("\"code\":\"queue_full\""), refused.body());
            in.close(); // the client leaves: its slot is free again once its generation ends (it stops at the next write)
            HttpResponse<String> later = null;
            for (int i = 0; i < 300; i++) {
                later = post(small, request("Now?", null, 2, false));
                if (later.statusCode() != 429) {
                    break;
                }
                Thread.sleep(100);
            }
            assertEquals(200, later.statusCode(), later.body());
        }
    }

    @Test
    void theServerAnswers503WhileTheModelLoads() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        try (OpenAiServer loading = OpenAiServer.start(new InetSocketAddress("127.0.0.1", 0), () -> {
            gate.await();
            return VisionLanguageModel.open(folder);
        }, "slow", OpenAiServer.Limits.defaults(), null)) {
            assertEquals(503, get(loading, "/health").statusCode());
            HttpResponse<String> r = post(loading, request("?", null, 2, false));
            assertEquals(503, r.statusCode());
            assertTrue(r.body().contains("\"code\":\"model_loading\""), r.body());
            gate.countDown();
        }
    }

    private static void refused(int status, String code, String body) throws Exception {
        HttpResponse<String> r = post(server, body);
        assertEquals(status, r.statusCode(), r.body());
        Map<String, Object> error = Json.parseObject(r.body());
        assertTrue(error.get("error") instanceof Map<?, ?> e && code.equals(e.get("code")), r.body());
    }

    @Test
    void everyBadRequestGetsA4xxWithAJsonErrorNamingTheProblem() throws Exception {
        refused(413, "request_too_large", request("x".repeat(4_100_000), null, 2, false));
        refused(400, "invalid_json", "{not json");
        refused(400, "invalid_value", "{\"messages\": []}");
        refused(400, "invalid_value", "{\"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}");
        refused(400, "invalid_value", "{\"messages\": [{\"role\": \"assistant\", \"content\": [{\"type\": \"image_url\","
                + " \"image_url\": {\"url\": \"" + png + "\"}}]}, {\"role\": \"user\", \"content\": \"?\"}]}");
        refused(400, "invalid_image_url", request("?", "https://example.com/cat.png", 2, false));
        refused(400, "invalid_image_url", request("?", "data:image/png;base64,@@@", 2, false));
        refused(400, "invalid_image", request("?", "data:image/png;base64,AAAA", 2, false));
        byte[] huge = nvlm.api.TestFoldersAccess.pngBytes(tmp, 1000, 600, 3); // 600,000 pixels > 500,000
        refused(400, "image_too_large", request("?", "data:image/png;base64," + Base64.getEncoder().encodeToString(huge), 2, false));
        refused(400, "context_length_exceeded", request("word ".repeat(700), null, 2, false));
        refused(400, "invalid_value", request("?", null, 65, false));
        refused(400, "unsupported_value", "{\"n\": 2, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
        refused(400, "invalid_value", "{\"temperature\": -1, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
        refused(400, "invalid_type", "{\"stop\": 3, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
        assertEquals(404, get(server, "/v1/nothing").statusCode());
        assertEquals(405, get(server, "/v1/chat/completions").statusCode());
        // After all that, the server still answers.
        assertEquals(200, post(server, request("Still there?", null, 2, false)).statusCode());
    }
}
