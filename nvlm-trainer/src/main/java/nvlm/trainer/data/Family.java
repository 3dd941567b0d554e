package nvlm.trainer.data;

import java.util.Locale;

/**
 * The task families of the synthetic world, mirroring the paper's blend (section 4): captioning
 * for stage-1 pretraining, the image tasks of SFT, and text-only tasks that measure the text
 * skills the text-only SFT data protects (Table 8). Answers are short and canonical, for
 * exact-match evaluation.
 */
public enum Family {
    /** "Describe the picture." -> the scene's structured caption (stage 1 data; long answers, not an exact-match family). */
    CAPTION("caption", true),
    /** "What does the text say?" -> the code, e.g. "K7Q". */
    OCR("ocr", true),
    /** "How many red shapes are there?" -> "3". */
    COUNTING("counting", true),
    /** "What is in the top left part?" -> "red circle". */
    SPATIAL("spatial", true),
    /** "Which bar is the tallest?" -> "C"; "What is the value of bar B?" -> "4". */
    CHART("chart", true),
    /** "What is 12+7?" -> "19". */
    TEXT_ARITHMETIC("text_arithmetic", false),
    /** "Reverse the letters KQT." -> "TQK"; sort; lowercase to capitals. */
    TEXT_STRING("text_string", false);

    private final String id;
    private final boolean image;

    Family(String id, boolean image) {
        this.id = id;
        this.image = image;
    }

    /** The name in reports and evaluation JSON (text-only families start with {@code text_}). */
    public String id() {
        return id;
    }

    /** Whether the task comes with an image (its "described" view replaces the image by its caption). */
    public boolean hasImage() {
        return image;
    }

    /** The families evaluated by exact match: every family but captioning. */
    public boolean exactMatch() {
        return this != CAPTION;
    }

    public static Family parse(String text) {
        if (text != null) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            for (Family f : values()) {
                if (f.id.equals(t)) {
                    return f;
                }
            }
        }
        StringBuilder known = new StringBuilder();
        for (Family f : values()) {
            known.append(known.isEmpty() ? "" : ", ").append(f.id);
        }
        throw new IllegalArgumentException("unknown task family '" + text + "': expected one of " + known);
    }
}
