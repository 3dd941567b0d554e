package nvlm.api.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import nvlm.api.VisionLanguageModel;
import nvlm.tensor.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chat page at {@code /} in a real headless browser (Debian's chromium, installed by .ci/run):
 * it uploads an image through the file input, sends a question and reads the answer as it streams
 * in; the answer must be what the API gives for the same image and question (greedy), and must
 * have grown in more than one step. Skips, saying why, where chromium is not installed.
 */
class ChatPageBrowserTest {
    /** Tokens in the answer: the server's cap, which the page's requests get by default. */
    private static final int ANSWER_TOKENS = 12;
    /** Bounds on the slow steps, generous for a loaded machine; the test fails past them, never hangs. */
    private static final int LOAD_SECONDS = 300;
    private static final int ANSWER_SECONDS = 300;

    @TempDir
    Path tmp;

    @Test
    @SuppressWarnings("unchecked")
    void pageUploadsAnImageSendsAQuestionAndShowsTheStreamedAnswer() throws Exception {
        Path chromium = HeadlessChromium.find();
        assumeTrue(chromium != null, "chromium is not installed (apt-get install chromium; .ci/run does): the page is not tested");
        Path folder = nvlm.api.TestFoldersAccess.internVl(tmp.resolve("internvl"));
        Path picture = nvlm.api.TestFoldersAccess.png(Files.createDirectories(tmp.resolve("images")).resolve("picture.png"), 448, 448, 3);
        // A small max_tokens cap: the page leaves max_tokens to the server, which answers up to the cap.
        OpenAiServer server = OpenAiServer.start(new InetSocketAddress("127.0.0.1", 0), () -> VisionLanguageModel.open(folder),
                "internvl-page", new OpenAiServer.Limits(8_000_000, 500_000, 4096, ANSWER_TOKENS, 4), null);
        try (HeadlessChromium browser = HeadlessChromium.start(chromium, Files.createDirectories(tmp.resolve("profile")))) {
            long loadEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(LOAD_SECONDS);
            while (!server.loaded() && System.nanoTime() < loadEnd) {
                Thread.sleep(100);
            }
            assertTrue(server.loaded(), "the server loaded the model within " + LOAD_SECONDS + " s");
            String question = "What is in the picture?";
            // The answer the API gives for the same image and question (greedy: neither request sets a temperature).
            String url = "data:image/png;base64," + Base64.getEncoder().encodeToString(Files.readAllBytes(picture));
            String body = Json.write(Map.of("model", "internvl-page", "messages", List.of(Map.of("role", "user",
                    "content", List.of(Map.of("type", "image_url", "image_url", Map.of("url", url)), Map.of("type", "text", "text", question))))));
            HttpResponse<String> direct = OpenAiServerTest.CLIENT.send(HttpRequest.newBuilder(OpenAiServerTest.uri(server, "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(ANSWER_SECONDS)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, direct.statusCode(), direct.body());
            String expected = OpenAiServerTest.answer(direct);
            assertTrue(!expected.isEmpty(), "the model answers something");

            browser.call("Page.enable", Map.of());
            browser.call("Page.navigate", Map.of("url", "http://127.0.0.1:" + server.port() + "/"));
            browser.waitFor("document.readyState === 'complete' && document.getElementById('status').textContent.includes('ready')", 120);
            browser.upload("#image", picture);
            assertEquals(1L, browser.evaluate("document.getElementById('image').files.length"));
            // Every text the answer element shows, recorded as it changes.
            browser.evaluate("window.seen = []; new MutationObserver(() => { const a = document.querySelector('#log .assistant, #log .error');"
                    + " if (a) window.seen.push(a.textContent); }).observe(document.getElementById('log'),"
                    + " {childList: true, subtree: true, characterData: true}); true");
            browser.evaluate("document.getElementById('question').value = " + Json.write(question) + ";"
                    + " document.getElementById('send').click(); true");
            browser.waitFor("document.querySelector('#log .error') !== null || document.querySelector('#log [data-done]') !== null", ANSWER_SECONDS);
            assertEquals(null, browser.evaluate("document.querySelector('#log .error') && document.querySelector('#log .error').textContent"));
            assertEquals(true, browser.evaluate("document.querySelector('#log .user img.thumb').src.startsWith('data:image/png;base64,')"),
                    "the uploaded image is shown with the question");
            String shown = (String) browser.evaluate("document.querySelector('#log [data-done]').textContent");
            assertEquals(expected, shown, "the page shows the API's answer to the same image and question");
            List<Object> seen = (List<Object>) browser.evaluate("Array.from(new Set(window.seen.filter(t => t.length > 0)))");
            assertTrue(seen.size() >= 2, "the answer grew in several steps (streamed), saw " + seen);
        } finally {
            server.close();
        }
    }
}
