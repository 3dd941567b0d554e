package nvlm.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import nvlm.kernels.DType;
import nvlm.model.prompt.BatchArrays;
import nvlm.tensor.Device;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;
import nvlm.tensor.io.Safetensors;

/**
 * A training or evaluation batch in the parity layout of docs/model.md §10: rows right-padded (padding
 * labelled {@link F#IGNORE_INDEX}), every tile of every image in {@code pixelValues} (images in batch order, tiles
 * in prompt order, thumbnail last), and the media indices that tell each architecture where the
 * image information goes.
 *
 * @param inputIds    I64 [B, T]
 * @param labels      I64 [B, T], {@link F#IGNORE_INDEX} where no loss is taken
 * @param pixelValues F32 [N, 3, S, S]
 * @param imageTiles  I64 [I], tiles of each image (thumbnail included)
 * @param imageRow    I64 [I], the batch row of each image
 * @param tileTagIds  I64 [N, L], each tile's tag token ids right-padded with -1
 * @param mediaImage  I64 [B, T], the most recent image whose {@code <Image>} is at or before t, else -1
 * @param mediaTile   I64 [B, T], within that image the tile whose tag span contains t, else -1
 */
public record Batch(Tensor inputIds, Tensor labels, Tensor pixelValues, Tensor imageTiles, Tensor imageRow,
                    Tensor tileTagIds, Tensor mediaImage, Tensor mediaTile) {

    public static final String[] NAMES = {"input_ids", "labels", "pixel_values", "image_tiles", "image_row",
        "tile_tag_ids", "media_image", "media_tile"};

    public Batch {
        String where = "batch";
        require(inputIds, "input_ids", DType.I64, 2, where);
        long b = inputIds.size(0);
        long t = inputIds.size(1);
        for (var e : Map.of("labels", labels, "media_image", mediaImage, "media_tile", mediaTile).entrySet()) {
            require(e.getValue(), e.getKey(), DType.I64, 2, where);
            if (e.getValue().size(0) != b || e.getValue().size(1) != t) {
                throw new IllegalArgumentException(where + ": " + e.getKey() + " " + Arrays.toString(e.getValue().shape())
                        + " must match input_ids [" + b + ", " + t + "]");
            }
        }
        require(pixelValues, "pixel_values", DType.F32, 4, where);
        require(imageTiles, "image_tiles", DType.I64, 1, where);
        require(imageRow, "image_row", DType.I64, 1, where);
        require(tileTagIds, "tile_tag_ids", DType.I64, 2, where);
        long n = pixelValues.size(0);
        if (imageRow.size(0) != imageTiles.size(0)) {
            throw new IllegalArgumentException(where + ": image_row has " + imageRow.size(0) + " entries, image_tiles "
                    + imageTiles.size(0));
        }
        long total = 0;
        for (long tiles : imageTiles.toLongArray()) {
            if (tiles < 1) {
                throw new IllegalArgumentException(where + ": image_tiles holds " + tiles + " (each image has at least one tile)");
            }
            total += tiles;
        }
        if (total != n) {
            throw new IllegalArgumentException(where + ": image_tiles sum to " + total + " but pixel_values holds " + n + " tiles");
        }
        for (long row : imageRow.toLongArray()) {
            if (row < 0 || row >= b) {
                throw new IllegalArgumentException(where + ": image_row " + row + " outside [0, " + b + ")");
            }
        }
        if (tileTagIds.size(0) != n) {
            throw new IllegalArgumentException(where + ": tile_tag_ids has " + tileTagIds.size(0) + " rows for " + n + " tiles");
        }
    }

    private static void require(Tensor t, String name, DType dtype, int rank, String where) {
        if (t == null) {
            throw new IllegalArgumentException(where + ": missing tensor '" + name + "'");
        }
        if (t.dtype() != dtype || t.dim() != rank) {
            throw new IllegalArgumentException(where + ": '" + name + "' must be " + dtype + " of rank " + rank + ", got "
                    + t.dtype() + Arrays.toString(t.shape()));
        }
    }

    /** The tensors of collated prompt arrays (see {@link BatchArrays#collate}). */
    public static Batch of(BatchArrays b) {
        return new Batch(Tensor.of(b.inputIds(), b.shape("input_ids")), Tensor.of(b.labels(), b.shape("labels")),
                Tensor.of(b.pixelValues(), b.shape("pixel_values")), Tensor.of(b.imageTiles(), b.shape("image_tiles")),
                Tensor.of(b.imageRow(), b.shape("image_row")), Tensor.of(b.tileTagIds(), b.shape("tile_tag_ids")),
                Tensor.of(b.mediaImage(), b.shape("media_image")), Tensor.of(b.mediaTile(), b.shape("media_tile")));
    }

    public long rows() {
        return inputIds.size(0);
    }

    public long length() {
        return inputIds.size(1);
    }

    public long tiles() {
        return pixelValues.size(0);
    }

    public long images() {
        return imageTiles.size(0);
    }

    /** Number of tokens that carry a label. */
    public long labelledTokens() {
        long n = 0;
        for (long l : labels.toLongArray()) {
            if (l != F.IGNORE_INDEX) {
                n++;
            }
        }
        return n;
    }

    public Batch to(Device device) {
        return new Batch(inputIds.to(device), labels.to(device), pixelValues.to(device), imageTiles, imageRow,
                tileTagIds, mediaImage, mediaTile);
    }

    public Map<String, Tensor> tensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        Tensor[] all = {inputIds, labels, pixelValues, imageTiles, imageRow, tileTagIds, mediaImage, mediaTile};
        for (int i = 0; i < NAMES.length; i++) {
            m.put(NAMES[i], all[i]);
        }
        return m;
    }

    /** Writes the batch file (docs/model.md §10) atomically. */
    public void write(Path file) throws IOException {
        Safetensors.save(file, tensors());
    }

    /** Reads a batch file; every problem names the file. */
    public static Batch read(Path file) throws IOException {
        Map<String, Tensor> m = Safetensors.load(file);
        for (String name : NAMES) {
            if (!m.containsKey(name)) {
                throw new IllegalArgumentException(file + ": batch file has no tensor '" + name + "' (docs/model.md §10 needs "
                        + String.join(", ", NAMES) + ")");
            }
        }
        try {
            return new Batch(m.get("input_ids"), m.get("labels"), m.get("pixel_values"), m.get("image_tiles"),
                    m.get("image_row"), m.get("tile_tag_ids"), m.get("media_image"), m.get("media_tile"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }
}
