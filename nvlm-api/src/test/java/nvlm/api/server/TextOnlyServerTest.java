package nvlm.api.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import nvlm.api.Completion;
import nvlm.api.GenerationOptions;
import nvlm.api.ImageInput;
import nvlm.api.VisionLanguageModel;
import nvlm.tensor.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bare Qwen2 folder through the Java API and the server: text answers, images refused with a clear error. */
class TextOnlyServerTest {
    @TempDir
    Path tmp;

    @Test
    @SuppressWarnings("unchecked")
    void textOnlyModelAnswersTextAndRefusesImagesInTheApiAndTheServer() throws Exception {
        Path folder = nvlm.api.TestFoldersAccess.qwen2(tmp.resolve("qwen2"));
        byte[] bytes = nvlm.api.TestFoldersAccess.pngBytes(Files.createDirectories(tmp.resolve("images")), 64, 64, 1);
        try (VisionLanguageModel model = VisionLanguageModel.open(folder)) {
            assertEquals("qwen2", model.format());
            assertFalse(model.acceptsImages());
            Completion c = model.newChat().ask(List.of(), "Say hi.", GenerationOptions.defaults().withMaxTokens(3), null);
            assertTrue(c.ids().length >= 1 && c.ids().length <= 3, "up to 3 tokens");
            var e = assertThrows(IllegalArgumentException.class, () -> model.newChat().ask(List.of(ImageInput.bytes(bytes, "img.png")), "What?",
                    GenerationOptions.defaults().withMaxTokens(3), null));
            assertTrue(e.getMessage().contains("takes no images"), e.getMessage());
        }
        OpenAiServer server = OpenAiServer.start(new InetSocketAddress("127.0.0.1", 0), () -> VisionLanguageModel.open(folder),
                "qwen2-test", new OpenAiServer.Limits(4_000_000, 500_000, 600, 64, 4), null);
        try {
            for (int i = 0; i < 600 && !server.loaded(); i++) {
                Thread.sleep(100);
            }
            assertTrue(server.loaded(), "model loaded");
            HttpResponse<String> text = OpenAiServerTest.post(server, OpenAiServerTest.request("Say hi.", null, 3, false));
            assertEquals(200, text.statusCode(), text.body());
            String png = "data:image/png;base64," + Base64.getEncoder().encodeToString(bytes);
            HttpResponse<String> image = OpenAiServerTest.post(server, OpenAiServerTest.request("What is this?", png, 3, false));
            assertEquals(400, image.statusCode(), image.body());
            Map<String, Object> error = (Map<String, Object>) Json.parseObject(image.body()).get("error");
            assertEquals("images_not_supported", error.get("code"));
            assertTrue(((String) error.get("message")).contains("text-only"), image.body());
        } finally {
            server.close();
        }
    }
}
