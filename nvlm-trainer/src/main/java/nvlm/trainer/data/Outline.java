package nvlm.trainer.data;

import java.util.List;

/**
 * An example without its pixels: image sizes and the conversation, all that decides a sample's
 * token count (for length bucketing without drawing or decoding images).
 */
public record Outline(String id, String family, int[] widths, int[] heights, List<Turn> turns) {
    public Outline {
        if (widths.length != heights.length) {
            throw new IllegalArgumentException("outline " + id + ": " + widths.length + " widths but " + heights.length + " heights");
        }
        turns = List.copyOf(turns);
    }

    public int images() {
        return widths.length;
    }
}
