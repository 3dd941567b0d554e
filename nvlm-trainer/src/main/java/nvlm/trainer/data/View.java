package nvlm.trainer.data;

/**
 * How an image task of the synthetic world is shown to the model. Text-only families look the
 * same in every view.
 */
public enum View {
    /** The picture itself, tiled (stages 1 and 2, evaluation). */
    IMAGE("image"),
    /**
     * The picture's caption in words in its place ({@link SyntheticWorld#describedExample}; the
     * stage-0 decoder's text): no image tokens, so it favours no architecture's token layout.
     */
    DESCRIBED("described"),
    /**
     * Evaluation only, a diagnostic: the picture as text in NVLM-D's token layout, one symbol per
     * image token after each tile's tag ({@link CellSymbols#imageText}), what a decoder would read
     * from a perfect projector. No stage trains on it (it would favour D's layout).
     */
    CELLS("cells"),
    /**
     * The picture in text as rows of cell symbols, the whole picture's top row first, one line per
     * row ({@link CellSymbols#rowsText}): no image token, no tile and no tag, so no architecture's
     * layout. An optional part of stage 0's text ({@code pretrain-backbones --rows-share}): it
     * teaches the decoder to read symbols laid out in two dimensions, as a text LLM reads a table.
     */
    ROWS("rows");

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
