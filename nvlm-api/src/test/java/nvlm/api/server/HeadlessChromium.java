package nvlm.api.server;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import nvlm.tensor.io.Json;

/**
 * Debian's {@code chromium} run headless, driven over the Chrome DevTools protocol with the JDK's
 * WebSocket client (no browser-automation framework): one page, commands by id, events ignored.
 */
final class HeadlessChromium implements AutoCloseable {
    /** Bounds on chromium's start and on one DevTools reply: a broken browser fails the test, never hangs it. */
    private static final int START_SECONDS = 120;
    private static final int REPLY_SECONDS = 60;

    private final Process process;
    private final WebSocket socket;
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, CompletableFuture<Map<String, Object>>> pending = new ConcurrentHashMap<>();

    /** The chromium on this machine, or null when none is installed. */
    static Path find() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            for (String name : List.of("chromium", "chromium-browser")) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        return null;
    }

    private HeadlessChromium(Process process, WebSocket socket) {
        this.process = process;
        this.socket = socket;
    }

    /** Starts chromium with a fresh profile in {@code profile} and connects to its first page. */
    @SuppressWarnings("unchecked")
    static HeadlessChromium start(Path chromium, Path profile) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--remote-debugging-port=0", "--remote-allow-origins=*",
                "--user-data-dir=" + profile, "about:blank")
                .redirectErrorStream(true).redirectOutput(profile.resolveSibling("chromium.log").toFile());
        // Its config, cache (the crash reporter's database among them) and temporary files in the
        // profile folder, not in the user's home or /tmp, so that nothing outlives the test.
        builder.environment().put("XDG_CONFIG_HOME", profile.resolve("config").toString());
        builder.environment().put("XDG_CACHE_HOME", profile.resolve("cache").toString());
        builder.environment().put("TMPDIR", Files.createDirectories(profile.resolve("tmp")).toString());
        Process process = builder.start();
        try {
            Path portFile = profile.resolve("DevToolsActivePort");
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
            while (!(Files.exists(portFile) && Files.readString(portFile).contains("\n"))) {
                if (!process.isAlive()) {
                    throw new IOException("chromium exited with " + process.exitValue() + "; see " + profile.resolveSibling("chromium.log"));
                }
                if (System.nanoTime() > end) {
                    throw new IOException("chromium wrote no DevTools port to " + portFile + " in " + START_SECONDS + " s");
                }
                Thread.sleep(100);
            }
            String port = Files.readString(portFile).lines().findFirst().orElseThrow();
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(REPLY_SECONDS)).build();
            String list = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                            .timeout(Duration.ofSeconds(REPLY_SECONDS)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            String page = null;
            for (Object o : (List<Object>) Json.parse(list)) {
                Map<String, Object> target = (Map<String, Object>) o;
                if ("page".equals(target.get("type"))) {
                    page = (String) target.get("webSocketDebuggerUrl");
                    break;
                }
            }
            if (page == null) {
                throw new IOException("chromium lists no page target: " + list);
            }
            HeadlessChromium[] self = new HeadlessChromium[1];
            StringBuilder frame = new StringBuilder();
            WebSocket ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(REPLY_SECONDS)).buildAsync(URI.create(page),
                    new WebSocket.Listener() {
                        @Override
                        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                            frame.append(data);
                            if (last) {
                                Map<String, Object> message = Json.parseObject(frame.toString());
                                frame.setLength(0);
                                if (message.get("id") instanceof Long id) {
                                    CompletableFuture<Map<String, Object>> f = self[0].pending.remove(id);
                                    if (f != null) {
                                        f.complete(message);
                                    }
                                }
                            }
                            w.request(1);
                            return null;
                        }
                    }).get(REPLY_SECONDS, TimeUnit.SECONDS);
            self[0] = new HeadlessChromium(process, ws);
            return self[0];
        } catch (ExecutionException | TimeoutException e) {
            stop(process);
            throw new IOException("could not connect to chromium's page over the DevTools protocol", e);
        } catch (IOException | InterruptedException | RuntimeException e) {
            stop(process);
            throw e;
        }
    }

    /** Sends a DevTools command and waits for its result; a protocol error fails naming the method. */
    @SuppressWarnings("unchecked")
    Map<String, Object> call(String method, Map<String, Object> params) throws Exception {
        long id = ids.incrementAndGet();
        CompletableFuture<Map<String, Object>> reply = new CompletableFuture<>();
        pending.put(id, reply);
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("id", id);
        message.put("method", method);
        message.put("params", params);
        Map<String, Object> answer;
        try {
            socket.sendText(Json.write(message), true).get(REPLY_SECONDS, TimeUnit.SECONDS);
            answer = reply.get(REPLY_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new IOException("chromium did not answer " + method + " in " + REPLY_SECONDS + " s", e);
        } finally {
            pending.remove(id);
        }
        if (answer.containsKey("error")) {
            throw new IOException(method + " failed: " + Json.write(answer.get("error")));
        }
        return (Map<String, Object>) answer.get("result");
    }

    /** The value of a JavaScript expression in the page (awaited when it is a promise). */
    @SuppressWarnings("unchecked")
    Object evaluate(String expression) throws Exception {
        Map<String, Object> result = call("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true,
                "awaitPromise", true));
        if (result.containsKey("exceptionDetails")) {
            throw new IOException("page script failed: " + expression + ": " + Json.write(result.get("exceptionDetails")));
        }
        return ((Map<String, Object>) result.get("result")).get("value");
    }

    /**
     * Polls {@code expression} until it is true; fails after {@code seconds}. A script error counts as
     * not yet (while a page loads, its context is replaced under the evaluation) and is reported if
     * it is the last word.
     */
    void waitFor(String expression, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        IOException last = null;
        for (;;) {
            try {
                if (Boolean.TRUE.equals(evaluate(expression))) {
                    return;
                }
                last = null;
            } catch (IOException e) {
                last = e;
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("the page did not satisfy " + expression + " in " + seconds + " s", last);
            }
            Thread.sleep(100);
        }
    }

    /** Puts {@code file} into the page's file input {@code selector}, as a user picking it would. */
    @SuppressWarnings("unchecked")
    void upload(String selector, Path file) throws Exception {
        Map<String, Object> doc = call("DOM.getDocument", Map.of());
        long root = (Long) ((Map<String, Object>) doc.get("root")).get("nodeId");
        long node = (Long) call("DOM.querySelector", Map.of("nodeId", root, "selector", selector)).get("nodeId");
        if (node == 0) {
            throw new IOException("no element " + selector + " in the page");
        }
        call("DOM.setFileInputFiles", Map.of("nodeId", node, "files", List.of(file.toAbsolutePath().toString())));
    }

    private static void stop(Process process) {
        List<ProcessHandle> children = new ArrayList<>(process.descendants().toList());
        process.destroy();
        children.forEach(ProcessHandle::destroy);
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                children.forEach(ProcessHandle::destroyForcibly);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        socket.abort();
        stop(process);
    }
}
