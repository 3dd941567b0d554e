package nvlm.trainer.data;

/** The shapes of the synthetic world; {@link WorldConfig#shapes()} says how many of them are in use (a prefix of this order). */
public enum Shape {
    CIRCLE("circle", "circles"),
    SQUARE("square", "squares"),
    TRIANGLE("triangle", "triangles"),
    DIAMOND("diamond", "diamonds");

    private final String word;
    private final String plural;

    Shape(String word, String plural) {
        this.word = word;
        this.plural = plural;
    }

    public String word() {
        return word;
    }

    public String plural() {
        return plural;
    }

    /** Draws the shape filling the {@code size x size} box at (x, y). */
    public void draw(Canvas canvas, int x, int y, int size, int rgb) {
        switch (this) {
            case CIRCLE -> canvas.fillCircle(x, y, size, rgb);
            case SQUARE -> {
                // Inset so a square's area is close to the disc's: size alone would make it the biggest blob.
                int inset = Math.max(1, size / 10);
                canvas.fillRect(x + inset, y + inset, size - 2 * inset, size - 2 * inset, rgb);
            }
            case TRIANGLE -> canvas.fillTriangle(x, y, size, rgb);
            case DIAMOND -> {
                double c = size / 2.0;
                for (int yy = 0; yy < size; yy++) {
                    for (int xx = 0; xx < size; xx++) {
                        if (Math.abs(xx + 0.5 - c) + Math.abs(yy + 0.5 - c) <= c) {
                            canvas.set(x + xx, y + yy, rgb);
                        }
                    }
                }
            }
        }
    }
}
