package nvlm.model.prompt;

import java.util.ArrayList;
import java.util.List;

/** One chat message: text and, in user messages, images, in order. */
public record Message(Role role, List<Content> content) {
    /** A part of a message. */
    public sealed interface Content permits Text, Image {
    }

    /**
     * Text of a message. Plain by default: special-token text in it ({@code <|im_end|>}) is
     * encoded as characters. {@code specialTokens} is for text the program itself made with
     * tokens in it (the synthetic world's own turns, encoded as the tokenizer cuts any text).
     */
    public record Text(String text, boolean specialTokens) implements Content {
        public Text {
            if (text == null) {
                throw new IllegalArgumentException("message text is null");
            }
        }

        public Text(String text) {
            this(text, false);
        }
    }

    public record Image(PromptImage image) implements Content {
    }

    public Message {
        content = List.copyOf(content);
        if (role != Role.USER && content.stream().anyMatch(c -> c instanceof Image)) {
            throw new IllegalArgumentException("only user messages can hold images (docs/model.md §6), got one in a " + role.chatml() + " message");
        }
    }

    public static Message system(String text) {
        return new Message(Role.SYSTEM, List.of(new Text(text)));
    }

    public static Message user(String text) {
        return new Message(Role.USER, List.of(new Text(text)));
    }

    /** Images first, each followed by a newline, then the text (InternVL's {@code <image>\n{question}}). */
    public static Message user(List<PromptImage> images, String text) {
        List<Content> parts = new ArrayList<>();
        for (PromptImage image : images) {
            parts.add(new Image(image));
            parts.add(new Text("\n"));
        }
        parts.add(new Text(text));
        return new Message(Role.USER, parts);
    }

    public static Message user(PromptImage image, String text) {
        return user(List.of(image), text);
    }

    public static Message assistant(String text) {
        return new Message(Role.ASSISTANT, List.of(new Text(text)));
    }

    /** The images of this message in order. */
    public List<PromptImage> images() {
        List<PromptImage> images = new ArrayList<>();
        for (Content c : content) {
            if (c instanceof Image i) {
                images.add(i.image());
            }
        }
        return images;
    }
}
