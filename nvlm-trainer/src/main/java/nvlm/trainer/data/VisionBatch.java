package nvlm.trainer.data;

import java.util.List;
import nvlm.tensor.F;
import nvlm.tensor.Tensor;

/**
 * Stage-0 vision examples collated: {@code pixelValues} F32 [N, 3, S, S] (every tile of every
 * example, thumbnail last within an example), {@code cellClasses} I64 [N, cells*cells] and
 * {@code tileEdges} I64 [N], with {@link F#IGNORE_INDEX} on thumbnails (see {@link VisionExample}).
 */
public record VisionBatch(Tensor pixelValues, Tensor cellClasses, Tensor tileEdges) {
    public static VisionBatch of(List<VisionExample> examples) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("cannot collate an empty list of vision examples");
        }
        int s = examples.getFirst().tiles().plan().tileSize();
        int cells = examples.getFirst().cellsPerSide();
        int tiles = 0;
        for (VisionExample e : examples) {
            if (e.tiles().plan().tileSize() != s || e.cellsPerSide() != cells) {
                throw new IllegalArgumentException("vision examples mix tile sizes: " + s + "px/" + cells + " cells and "
                        + e.tiles().plan().tileSize() + "px/" + e.cellsPerSide() + " cells");
            }
            tiles += e.tileCount();
        }
        float[] pixels = new float[Math.multiplyExact(tiles, 3 * s * s)];
        long[] classes = new long[tiles * cells * cells];
        long[] edges = new long[tiles];
        int t = 0;
        for (VisionExample e : examples) {
            System.arraycopy(e.tiles().pixels(), 0, pixels, t * 3 * s * s, e.tiles().pixels().length);
            for (int i = 0; i < e.cellClasses().length; i++) {
                classes[t * cells * cells + i] = e.cellClasses()[i];
            }
            for (int k = 0; k < e.tileCount(); k++) {
                edges[t + k] = e.tileEdges()[k];
            }
            t += e.tileCount();
        }
        return new VisionBatch(Tensor.of(pixels, tiles, 3, s, s), Tensor.of(classes, tiles, (long) cells * cells), Tensor.of(edges, tiles));
    }
}
