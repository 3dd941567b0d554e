package nvlm.trainer.data;

/**
 * How an image task of the synthetic world is shown to the model. Text-only families look the
 * same in every view.
 */
public enum View {
    /** The picture itself, tiled (stages 1 and 2, evaluation). */
    IMAGE("image"),
    /** The picture's caption in its place ({@link SyntheticWorld#describedExample}; stage-0 decoder text). */
    DESCRIBED("described"),
    /** One symbol per image token in the picture's place ({@link CellSymbols}; stage-0 decoder text). */
    CELLS("cells");

    private final String id;

    View(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** Whether an image task in this view is text only (no picture). */
    public boolean textOnly() {
        return this != IMAGE;
    }
}
