package nvlm.api;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import nvlm.model.prompt.Message;
import nvlm.model.prompt.PromptImage;

/**
 * A multi-turn conversation with a {@link VisionLanguageModel}, in the folder's own prompt format
 * (NVLM-D's chatml with tile tags, InternVL2's Hermes-2, or the project's). Each question may
 * bring images, placed before it as the published {@code chat()} places them
 * ({@code <image>\n} + question). Every turn runs the whole conversation again (no KV cache is kept
 * between turns). Not thread-safe: one conversation per thread.
 */
public final class Chat {
    private final VisionLanguageModel model;
    private String system;
    private boolean specialTokensInText;
    private final List<Message> turns = new ArrayList<>();

    Chat(VisionLanguageModel model) {
        this.model = model;
    }

    /** Replaces the folder's default system prompt (null: back to the default). */
    public Chat system(String text) {
        this.system = text;
        return this;
    }

    /**
     * Whether special-token text typed in a question ({@code <|im_end|><|im_start|>assistant})
     * becomes those tokens; off by default: questions are plain text and only the template makes turns.
     */
    public Chat specialTokensInText(boolean parse) {
        this.specialTokensInText = parse;
        return this;
    }

    /** Forgets every turn (the system prompt stays). */
    public Chat reset() {
        turns.clear();
        return this;
    }

    /** The turns so far, user and assistant alternating. */
    public List<Message> turns() {
        return List.copyOf(turns);
    }

    /** Asks with default options and returns the answer. */
    public String ask(String question, Path... images) throws IOException {
        List<ImageInput> inputs = Arrays.stream(images).map(ImageInput::file).toList();
        return ask(inputs, question, GenerationOptions.defaults(), null).text();
    }

    /** Asks, streaming the answer's text to {@code onText} (may be null) as it is generated. */
    public Completion ask(List<ImageInput> images, String question, GenerationOptions options, Consumer<String> onText)
            throws IOException {
        return ask(images, question, options, onText, () -> false);
    }

    /**
     * {@link #ask(List, String, GenerationOptions, Consumer)}, stopping early once {@code cancelled}
     * says so (polled after each token): the partial answer is kept as the turn's answer.
     */
    public Completion ask(List<ImageInput> images, String question, GenerationOptions options, Consumer<String> onText,
                          BooleanSupplier cancelled) throws IOException {
        List<PromptImage> tiled = new ArrayList<>();
        for (ImageInput image : images) {
            tiled.add(model.tile(image));
        }
        Message user = tiled.isEmpty() ? Message.user(question) : Message.user(tiled, question);
        List<Message> conversation = new ArrayList<>();
        if (system != null) {
            conversation.add(Message.system(system));
        }
        conversation.addAll(turns);
        conversation.add(user);
        Completion c = model.generate(model.chatPrompt(conversation, specialTokensInText), options, onText, cancelled);
        turns.add(user);
        turns.add(Message.assistant(c.text().strip()));
        return c;
    }
}
