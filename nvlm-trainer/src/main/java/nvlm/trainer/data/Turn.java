package nvlm.trainer.data;

import nvlm.model.prompt.Role;

/**
 * One turn of a conversation. In user turns, each {@value #IMAGE_PLACEHOLDER} marks where the next
 * image of the example goes (LLaVA's convention). {@code typed}: text from a person or a dataset
 * (LLaVA files), whose special-token text stays text; the synthetic world's own turns may hold
 * tokens the program wrote itself.
 */
public record Turn(Role role, String text, boolean typed) {
    public static final String IMAGE_PLACEHOLDER = "<image>";

    public Turn(Role role, String text) {
        this(role, text, false);
    }

    public Turn {
        if (role == null || text == null) {
            throw new IllegalArgumentException("a turn needs a role and a text");
        }
    }

    public static Turn user(String text) {
        return new Turn(Role.USER, text);
    }

    public static Turn assistant(String text) {
        return new Turn(Role.ASSISTANT, text);
    }

    /** Number of image placeholders in the text. */
    public int placeholders() {
        int n = 0;
        for (int i = text.indexOf(IMAGE_PLACEHOLDER); i >= 0; i = text.indexOf(IMAGE_PLACEHOLDER, i + IMAGE_PLACEHOLDER.length())) {
            n++;
        }
        return n;
    }
}
