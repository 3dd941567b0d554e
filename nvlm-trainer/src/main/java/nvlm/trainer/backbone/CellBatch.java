package nvlm.trainer.backbone;

import java.util.List;
import nvlm.kernels.Parallel;
import nvlm.model.tiling.DynamicTiler;
import nvlm.model.tiling.TiledImage;
import nvlm.tensor.Tensor;
import nvlm.trainer.data.CellSymbols;
import nvlm.trainer.data.Family;
import nvlm.trainer.data.Scene;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.WorldConfig;

/**
 * Stage-0 vision data: the regular tiles of world pictures ({@code pixels} [N, 3, S, S], drawn
 * and tiled as in training, docs/model.md §1) with each tile's cell symbols as class targets
 * ({@code targets} [N * cells^2], pixel-shuffle token order). Thumbnails are left out: their
 * cells mix several cells of the picture and have no symbol.
 */
public record CellBatch(Tensor pixels, Tensor targets, int tiles) {
    /** The scene kinds stage 0 draws, in turn: every family's pictures (boards with and without text, scatters, charts). */
    static final List<Family> SCENE_FAMILIES = List.of(Family.CAPTION, Family.OCR, Family.COUNTING, Family.SPATIAL, Family.CHART);

    /** The picture of example {@code index} of the vision data of {@code split}. */
    public static Scene scene(SyntheticWorld world, Split split, long index) {
        Family family = SCENE_FAMILIES.get((int) (index % SCENE_FAMILIES.size()));
        return world.task(split, family, index).scene();
    }

    /** Pictures {@code first .. first+count-1} of {@code split}, drawn and tiled in parallel. */
    public static CellBatch of(SyntheticWorld world, Split split, long first, int count) {
        WorldConfig config = world.config();
        int s = config.tileSize();
        int cells = config.cellsPerTile() * config.cellsPerTile();
        DynamicTiler tiler = new DynamicTiler(s, 1, config.maxTiles(), true);
        Scene[] scenes = new Scene[count];
        float[][] tilePixels = new float[count][];
        long[][] tileTargets = new long[count][];
        Parallel.forEach(count, i -> {
            Scene scene = scene(world, split, first + i);
            scenes[i] = scene;
            TiledImage tiled = tiler.tile(scene.render(config));
            int grid = tiled.plan().gridTiles();
            if (tiled.plan().cols() != scene.cols() || tiled.plan().rows() != scene.rows()) {
                throw new IllegalStateException("a " + scene.cols() + "x" + scene.rows() + " scene was tiled as " + tiled.plan().cols()
                        + "x" + tiled.plan().rows() + "; world pictures must be exact tile multiples");
            }
            tilePixels[i] = java.util.Arrays.copyOf(tiled.pixels(), grid * 3 * s * s);
            int[] classes = scene.cellClasses(config);
            long[] targets = new long[grid * cells];
            for (int k = 0; k < grid; k++) {
                char[] symbols = CellSymbols.ofTile(scene, config, classes, k);
                for (int c = 0; c < cells; c++) {
                    targets[k * cells + c] = CellSymbols.classOf(symbols[c]);
                }
            }
            tileTargets[i] = targets;
        });
        int tiles = 0;
        for (long[] t : tileTargets) {
            tiles += t.length / cells;
        }
        float[] pixels = new float[Math.multiplyExact(tiles, 3 * s * s)];
        long[] targets = new long[tiles * cells];
        int at = 0;
        for (int i = 0; i < count; i++) {
            int n = tileTargets[i].length / cells;
            System.arraycopy(tilePixels[i], 0, pixels, at * 3 * s * s, tilePixels[i].length);
            System.arraycopy(tileTargets[i], 0, targets, at * cells, tileTargets[i].length);
            at += n;
        }
        return new CellBatch(Tensor.of(pixels, tiles, 3, s, s), Tensor.of(targets, (long) tiles * cells), tiles);
    }
}
