package nvlm.model.config;

import java.util.Locale;

/** The three NVLM architectures (paper section 3, docs/model.md §7). */
public enum Architecture {
    /** NVLM-D: image tokens go into the decoder sequence. */
    D,
    /** NVLM-X: gated cross-attention reads the tiles; only tags are in the decoder sequence. */
    X,
    /** NVLM-H: the thumbnail in the decoder sequence, the regular tiles through cross-attention. */
    H;

    /** Parses "D", "d", "nvlm-d", "NVLM-X", ... (the {@code architecture} field of config.json). */
    public static Architecture parse(String text) {
        if (text != null) {
            String t = text.trim().toUpperCase(Locale.ROOT);
            if (t.startsWith("NVLM-") || t.startsWith("NVLM_")) {
                t = t.substring(5);
            }
            for (Architecture a : values()) {
                if (a.name().equals(t)) {
                    return a;
                }
            }
        }
        throw new IllegalArgumentException("unknown architecture '" + text + "': expected D, X or H");
    }
}
