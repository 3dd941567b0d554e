package nvlm.model.tiling;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * How tiles are announced in the prompt (paper Table 1, docs/model.md §6).
 *
 * <p>In every mode but {@link #NONE}, the thumbnail is tagged {@value #THUMBNAIL_TAG}, and so is
 * the only tile of a 1x1 grid: that tile is the whole image, a global view like the thumbnail
 * (docs/model.md §6 states it for 1d; we apply the same rule to the 2d modes, which say "thumbnail as in
 * 1d").
 */
public enum TagMode {
    /** Tiles back to back, no tags. */
    NONE("none"),
    /** {@code <tile_k>}, k 1-based in raster order (the paper's default). */
    ONE_D("1d"),
    /** {@code <tile_x{col}_y{row}>}, 0-based (project decision). */
    TWO_D_GRID("2d_grid"),
    /**
     * {@code <tile_bbox_{x0}_{y0}_{x1}_{y1}>}: the tile's box in the original image normalized
     * to [0,1], two decimals, rounded half up on the exact double value (so 1/8 = 0.125 gives
     * "0.13", 1/3 gives "0.33") (project decision).
     */
    TWO_D_BBOX("2d_bbox");

    public static final String THUMBNAIL_TAG = "<tile_global_thumbnail>";

    private final String configName;

    TagMode(String configName) {
        this.configName = configName;
    }

    /** The name used in config.json's {@code tiling.tag_mode} and on the command line. */
    public String configName() {
        return configName;
    }

    /** Parses {@code none}, {@code 1d}, {@code 2d_grid}, {@code 2d_bbox} (case-insensitive). */
    public static TagMode parse(String text) {
        if (text != null) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            for (TagMode mode : values()) {
                if (mode.configName.equals(t)) {
                    return mode;
                }
            }
        }
        throw new IllegalArgumentException("unknown tag mode '" + text + "': expected none, 1d, 2d_grid or 2d_bbox");
    }

    /** The tag of tile {@code k} (prompt order, thumbnail last); the empty string in mode none. */
    public String tag(TilePlan plan, int k) {
        if (this == NONE) {
            return "";
        }
        if (plan.isGlobalView(k)) {
            return THUMBNAIL_TAG;
        }
        return switch (this) {
            case ONE_D -> "<tile_" + (k + 1) + ">";
            case TWO_D_GRID -> gridTag(plan.column(k), plan.row(k));
            case TWO_D_BBOX -> {
                double[] b = plan.normalizedBox(k);
                yield "<tile_bbox_" + twoDecimals(b[0]) + "_" + twoDecimals(b[1]) + "_" + twoDecimals(b[2]) + "_"
                        + twoDecimals(b[3]) + ">";
            }
            case NONE -> throw new AssertionError();
        };
    }

    /** Every tile's tag in prompt order. */
    public List<String> tags(TilePlan plan) {
        List<String> tags = new ArrayList<>(plan.tileCount());
        for (int k = 0; k < plan.tileCount(); k++) {
            tags.add(tag(plan, k));
        }
        return tags;
    }

    /** The 1d tag of regular tile {@code k} (0-based). */
    public static String oneDTag(int k) {
        return "<tile_" + (k + 1) + ">";
    }

    /** The 2d_grid tag of the tile at column {@code col}, row {@code row} (0-based). */
    public static String gridTag(int col, int row) {
        return "<tile_x" + col + "_y" + row + ">";
    }

    static String twoDecimals(double v) {
        return new BigDecimal(v).setScale(2, RoundingMode.HALF_UP).toPlainString();
    }
}
