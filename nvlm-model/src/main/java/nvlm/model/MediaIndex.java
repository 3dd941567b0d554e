package nvlm.model;

import java.util.ArrayList;
import java.util.List;

/**
 * Host-side bookkeeping of a batch's images (docs/model.md §10): where each image's tiles start in
 * pixel_values, how many it has, its batch row, and the images of each row in order.
 */
record MediaIndex(long[] tileStart, long[] tiles, long[] row, List<List<Integer>> imagesOfRow) {

    static MediaIndex of(Batch batch) {
        long[] tiles = batch.imageTiles().toLongArray();
        long[] row = batch.imageRow().toLongArray();
        long[] start = new long[tiles.length];
        long offset = 0;
        for (int i = 0; i < tiles.length; i++) {
            start[i] = offset;
            offset += tiles[i];
        }
        List<List<Integer>> perRow = new ArrayList<>();
        for (long b = 0; b < batch.rows(); b++) {
            perRow.add(new ArrayList<>());
        }
        for (int i = 0; i < tiles.length; i++) {
            perRow.get((int) row[i]).add(i);
        }
        return new MediaIndex(start, tiles, row, perRow);
    }

    int images() {
        return tiles.length;
    }
}
