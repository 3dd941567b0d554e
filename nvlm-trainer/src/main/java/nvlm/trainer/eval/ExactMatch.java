package nvlm.trainer.eval;

/**
 * The scoring rule of evaluation: the generated answer (up to {@code <|im_end|>}, which is not part
 * of it) equals the reference after trimming white space at both ends. Case and inner spaces
 * count: the world's answers are canonical ("K7Q", "red circle", "19").
 */
public final class ExactMatch {
    private ExactMatch() {
    }

    /** What is compared: the text without leading and trailing white space. */
    public static String normalize(String text) {
        return text.strip();
    }

    public static boolean matches(String prediction, String reference) {
        return normalize(prediction).equals(normalize(reference));
    }
}
