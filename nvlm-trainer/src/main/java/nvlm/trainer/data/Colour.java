package nvlm.trainer.data;

/** The colours of the synthetic world; {@link WorldConfig#colours()} says how many are in use (a prefix of this order). */
public enum Colour {
    RED("red", 0xdc2828),
    GREEN("green", 0x28a83c),
    BLUE("blue", 0x2850dc),
    YELLOW("yellow", 0xe6be1e),
    PURPLE("purple", 0x963cb4),
    ORANGE("orange", 0xf0821e);

    private final String word;
    private final int rgb;

    Colour(String word, int rgb) {
        this.word = word;
        this.rgb = rgb;
    }

    public String word() {
        return word;
    }

    /** Packed 0xRRGGBB. */
    public int rgb() {
        return rgb;
    }
}
