package nvlm.model.prompt;

import java.util.List;
import nvlm.tensor.F;

/**
 * A batch in the layout of docs/model.md §10, as flat arrays (row-major) with their shapes:
 * {@code input_ids}, {@code labels}, {@code media_image}, {@code media_tile} [rows, length];
 * {@code pixel_values} [tiles, 3, tileSize, tileSize]; {@code image_tiles}, {@code image_row}
 * [images]; {@code tile_tag_ids} [tiles, tagLength].
 *
 * <p>Rows are right-padded with the pad id, labels {@link F#IGNORE_INDEX} and media -1. Images are numbered across
 * the batch in row order, so {@code media_image} indexes {@code image_tiles}.
 * {@code tile_tag_ids} is right-padded with -1 to the longest tag of the batch (at least one
 * column, so tag mode none gives an all -1 [tiles, 1]).
 */
public record BatchArrays(int rows, int length, long[] inputIds, long[] labels, long[] mediaImage, long[] mediaTile,
                    int tiles, int tileSize, float[] pixelValues, long[] imageTiles, long[] imageRow,
                    int tagLength, long[] tileTagIds) {

    /** Collates to the longest sample. */
    public static BatchArrays collate(List<Sample> samples, int padId) {
        int length = 0;
        for (Sample s : samples) {
            length = Math.max(length, s.length());
        }
        return collate(samples, padId, length);
    }

    /** Collates to exactly {@code length} tokens per row; a longer sample is an error. */
    public static BatchArrays collate(List<Sample> samples, int padId, int length) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("cannot collate an empty list of samples");
        }
        int rows = samples.size();
        int tileSize = samples.getFirst().tileSize();
        int images = 0;
        int tiles = 0;
        int tagLength = 1;
        for (int r = 0; r < rows; r++) {
            Sample s = samples.get(r);
            if (s.length() > length) {
                throw new IllegalArgumentException("sample " + r + " has " + s.length() + " tokens, more than the batch length " + length);
            }
            if (s.tileSize() != tileSize) {
                throw new IllegalArgumentException("sample " + r + " has " + s.tileSize() + "px tiles, sample 0 has " + tileSize);
            }
            images += s.images();
            tiles += s.tiles();
            for (int[] tag : s.tileTagIds()) {
                tagLength = Math.max(tagLength, tag.length);
            }
        }
        long[] inputIds = new long[rows * length];
        long[] labels = new long[rows * length];
        long[] mediaImage = new long[rows * length];
        long[] mediaTile = new long[rows * length];
        long[] imageTiles = new long[images];
        long[] imageRow = new long[images];
        long[] tileTagIds = new long[tiles * tagLength];
        java.util.Arrays.fill(tileTagIds, -1);
        float[] pixels = new float[Math.multiplyExact(tiles, 3 * tileSize * tileSize)];
        int image = 0;
        int tile = 0;
        for (int r = 0; r < rows; r++) {
            Sample s = samples.get(r);
            int base = r * length;
            for (int t = 0; t < length; t++) {
                boolean real = t < s.length();
                inputIds[base + t] = real ? s.inputIds()[t] : padId;
                labels[base + t] = real ? s.labels()[t] : F.IGNORE_INDEX;
                mediaImage[base + t] = real && s.mediaImage()[t] >= 0 ? s.mediaImage()[t] + image : -1;
                mediaTile[base + t] = real ? s.mediaTile()[t] : -1;
            }
            for (int i = 0; i < s.images(); i++) {
                imageTiles[image + i] = s.imageTiles()[i];
                imageRow[image + i] = r;
            }
            for (int k = 0; k < s.tiles(); k++) {
                int[] tag = s.tileTagIds()[k];
                for (int j = 0; j < tag.length; j++) {
                    tileTagIds[(tile + k) * tagLength + j] = tag[j];
                }
            }
            System.arraycopy(s.pixels(), 0, pixels, tile * 3 * tileSize * tileSize, s.pixels().length);
            image += s.images();
            tile += s.tiles();
        }
        return new BatchArrays(rows, length, inputIds, labels, mediaImage, mediaTile, tiles, tileSize, pixels, imageTiles, imageRow,
                tagLength, tileTagIds);
    }

    public int images() {
        return imageTiles.length;
    }

    /** Shapes by docs/model.md §10 name. */
    public long[] shape(String name) {
        return switch (name) {
            case "input_ids", "labels", "media_image", "media_tile" -> new long[] {rows, length};
            case "pixel_values" -> new long[] {tiles, 3, tileSize, tileSize};
            case "image_tiles", "image_row" -> new long[] {imageTiles.length};
            case "tile_tag_ids" -> new long[] {tiles, tagLength};
            default -> throw new IllegalArgumentException("no batch tensor named '" + name + "'");
        };
    }
}
