package nvlm.model.prompt;

/** Who speaks a chat message (chatml roles). */
public enum Role {
    SYSTEM("system"),
    USER("user"),
    ASSISTANT("assistant");

    private final String chatml;

    Role(String chatml) {
        this.chatml = chatml;
    }

    /** The role word after {@code <|im_start|>}. */
    public String chatml() {
        return chatml;
    }
}
