package nvlm.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Java API on a random-weight InternVL2-1B-layout folder: the folder's prompt, streaming, turns, options. */
class ChatTest {
    @TempDir
    static Path tmp;
    static VisionLanguageModel model;
    static Path picture;

    @BeforeAll
    static void open() throws IOException {
        model = VisionLanguageModel.open(TestFolders.internVl(tmp.resolve("internvl")));
        picture = TestFolders.png(tmp.resolve("picture.png"), 448, 448, 1);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static final GenerationOptions SHORT = GenerationOptions.defaults().withMaxTokens(6);

    @Test
    void anImageQuestionUsesHermes2WithImgAndContextTokensAndStreamsTheAnswer() throws IOException {
        Chat chat = model.newChat();
        List<String> pieces = new ArrayList<>();
        Completion c = chat.ask(List.of(ImageInput.file(picture)), "What is this?", SHORT, pieces::add);
        String prompt = model.tokenizer().decode(c.promptIds());
        assertTrue(prompt.startsWith("<|im_start|>system\n你是由上海人工智能实验室"), prompt.substring(0, 40));
        assertTrue(prompt.contains("<|im_start|>user\n<img><IMG_CONTEXT>"), "image first, as <img>");
        assertTrue(prompt.endsWith("</img>\nWhat is this?<|im_end|><|im_start|>assistant\n"), prompt);
        assertEquals(256, Arrays.stream(c.promptIds()).filter(id -> id == 151648).count(), "one 448px tile: 256 tokens");
        assertEquals(String.join("", pieces), c.text());
        assertTrue(c.ids().length >= 1 && c.ids().length <= 6);
        assertEquals(c.ids().length == 6 && !c.finishReason().equals("stop") ? "length" : c.finishReason(), c.finishReason());
        assertTrue(c.timeToFirstTokenNanos() > 0);
    }

    @Test
    void aSecondTurnSeesTheFirstAndResetForgetsIt() throws IOException {
        Chat chat = model.newChat().system("Be brief.");
        Completion first = chat.ask(List.of(), "One?", SHORT, null);
        Completion second = chat.ask(List.of(), "Two?", SHORT, null);
        String prompt = model.tokenizer().decode(second.promptIds());
        assertTrue(prompt.startsWith("<|im_start|>system\nBe brief.<|im_end|><|im_start|>user\nOne?<|im_end|><|im_start|>assistant\n"
                + first.text().strip() + "<|im_end|><|im_start|>user\nTwo?<|im_end|>"), prompt);
        assertEquals(4, chat.turns().size());
        chat.reset();
        assertEquals(0, chat.turns().size());
        Completion again = chat.ask(List.of(), "One?", SHORT, null);
        assertArrayEquals(first.promptIds(), again.promptIds());
        assertArrayEquals(first.ids(), again.ids(), "greedy is deterministic");
    }

    @Test
    void aStopStringCutsTheAnswerAndEndsGeneration() throws IOException {
        GenerationOptions longer = GenerationOptions.defaults().withMaxTokens(12);
        Completion free = model.newChat().ask(List.of(), "Say something.", longer, null);
        String text = free.text();
        assertTrue(text.length() >= 4, "random weights still make text: '" + text + "'");
        String stop = text.substring(text.length() / 2, text.length() / 2 + 2);
        List<String> pieces = new ArrayList<>();
        Completion cut = model.newChat().ask(List.of(), "Say something.", longer.withStop(stop), pieces::add);
        assertEquals(text.substring(0, text.indexOf(stop)), cut.text());
        assertEquals("stop", cut.finishReason());
        assertEquals(cut.text(), String.join("", pieces), "the stop string is never streamed");
        assertFalse(String.join("", pieces).contains(stop));
    }

    @Test
    void cancellingStopsAfterTheCurrentToken() throws IOException {
        AtomicInteger polls = new AtomicInteger();
        Completion c = model.newChat().ask(List.of(), "Count.", GenerationOptions.defaults().withMaxTokens(50), null,
                () -> polls.incrementAndGet() >= 2);
        assertEquals("cancelled", c.finishReason());
        assertEquals(2, c.ids().length);
    }

    @Test
    void sampledGenerationIsRepeatableWithItsSeed() throws IOException {
        GenerationOptions hot = GenerationOptions.defaults().withMaxTokens(5).withTemperature(1.5).withTopP(0.9).withSeed(42);
        assertArrayEquals(model.newChat().ask(List.of(), "Hi", hot, null).ids(), model.newChat().ask(List.of(), "Hi", hot, null).ids());
    }

    @Test
    void rawCompletionExpandsEachImagePlaceholderInTheFoldersLayout() throws IOException {
        Completion c = model.complete("A <image> B", List.of(ImageInput.file(picture)), SHORT, null);
        String prompt = model.tokenizer().decode(c.promptIds());
        assertTrue(prompt.startsWith("A <img><IMG_CONTEXT>") && prompt.endsWith("</img> B"), prompt.substring(0, 30));
        var e = assertThrows(IllegalArgumentException.class, () -> model.complete("<image><image>", List.of(ImageInput.file(picture)),
                SHORT, null));
        assertTrue(e.getMessage().contains("2 <image> placeholders but 1 images"), e.getMessage());
    }

    @Test
    void badOptionsAndBadImagesAreRefusedClearly() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> GenerationOptions.defaults().withMaxTokens(0));
        assertThrows(IllegalArgumentException.class, () -> GenerationOptions.defaults().withTopP(0));
        assertThrows(IllegalArgumentException.class, () -> GenerationOptions.defaults().withTemperature(-1));
        IOException e = assertThrows(IOException.class, () -> model.newChat().ask(
                List.of(ImageInput.bytes(new byte[] {1, 2, 3}, "upload.png")), "?", SHORT, null));
        assertTrue(e.getMessage().contains("upload.png"), e.getMessage());
        IOException missing = assertThrows(IOException.class, () -> model.newChat().ask("?", tmp.resolve("nope.png")));
        assertTrue(missing.getMessage().contains("nope.png"), missing.getMessage());
    }
}
