package nvlm.trainer.data;

import java.util.Locale;

/**
 * Train, validation and test splits of the synthetic world. A split owns a fixed share of the
 * content space: every sample's canonical content key is hashed to a split, and a generator only
 * keeps content that hashes to the split it was asked for, so no image (or text question) is in
 * two splits. Each split also draws from its own seed stream.
 */
public enum Split {
    TRAIN("train", 0x7472_6169_6e00_0001L),
    VALIDATION("validation", 0x7661_6c69_6400_0002L),
    TEST("test", 0x7465_7374_0000_0003L);

    private final String id;
    private final long salt;

    Split(String id, long salt) {
        this.id = id;
        this.salt = salt;
    }

    public String id() {
        return id;
    }

    long salt() {
        return salt;
    }

    /** Parses train, val, validation, test. */
    public static Split parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "train" -> TRAIN;
            case "val", "valid", "validation" -> VALIDATION;
            case "test" -> TEST;
            default -> throw new IllegalArgumentException("unknown split '" + text + "': expected train, validation or test");
        };
    }

    /** The split that owns a content key (same seed, same answer). */
    public static Split of(String contentKey, long seed, double validationFraction, double testFraction) {
        long h = Seeds.mix(Seeds.hash(contentKey) ^ Seeds.mix(seed ^ 0x5eed_5eedL));
        double u = (h >>> 11) * 0x1.0p-53;
        if (u < validationFraction) {
            return VALIDATION;
        }
        if (u < validationFraction + testFraction) {
            return TEST;
        }
        return TRAIN;
    }
}
