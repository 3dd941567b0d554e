package nvlm.model.prompt;

/**
 * One training or prompt sequence (docs/model.md §8 and §10), before batching.
 *
 * @param inputIds   token ids
 * @param labels     the token id where the loss applies (assistant answers and their closing
 *                   {@code <|im_end|>}), else -100
 * @param mediaImage per token, the index (within this sample) of the most recent image whose
 *                   {@code <Image>} is at or before it, else -1
 * @param mediaTile  per token, within that image, the tile whose tag span contains it, else -1
 * @param imageTiles tiles of each image, thumbnail included
 * @param tileTagIds per tile of every image (images in order, tiles in prompt order): its tag's
 *                   token ids, each tag encoded on its own (empty in tag mode none)
 * @param pixels     every tile's pixels, {@code [tiles, 3, S, S]}
 * @param tileSize   S
 */
public record Sample(int[] inputIds, int[] labels, int[] mediaImage, int[] mediaTile, int[] imageTiles, int[][] tileTagIds,
                     float[] pixels, int tileSize) {
    public Sample {
        int t = inputIds.length;
        if (labels.length != t || mediaImage.length != t || mediaTile.length != t) {
            throw new IllegalArgumentException("per-token arrays differ in length: input_ids " + t + ", labels " + labels.length
                    + ", media_image " + mediaImage.length + ", media_tile " + mediaTile.length);
        }
        int tiles = 0;
        for (int n : imageTiles) {
            tiles += n;
        }
        if (tileTagIds.length != tiles) {
            throw new IllegalArgumentException(tiles + " tiles but " + tileTagIds.length + " tile tags");
        }
        if (pixels.length != (long) tiles * 3 * tileSize * tileSize) {
            throw new IllegalArgumentException(tiles + " tiles of " + tileSize + "px need " + (long) tiles * 3 * tileSize * tileSize
                    + " pixel floats, got " + pixels.length);
        }
    }

    public int length() {
        return inputIds.length;
    }

    public int images() {
        return imageTiles.length;
    }

    public int tiles() {
        return tileTagIds.length;
    }
}
