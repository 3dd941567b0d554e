package nvlm.model.tiling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class TagModeTest {
    private static final TilePlan THREE_BY_TWO = new TilePlan(1344, 896, 448, 3, 2, true);
    private static final TilePlan SINGLE = new TilePlan(300, 300, 448, 1, 1, false);

    @Test
    void oneDTagsCountFromOneInRasterOrderWithTheThumbnailLast() {
        assertEquals(List.of("<tile_1>", "<tile_2>", "<tile_3>", "<tile_4>", "<tile_5>", "<tile_6>",
                "<tile_global_thumbnail>"), TagMode.ONE_D.tags(THREE_BY_TWO));
    }

    @Test
    void aSingleTileImageIsTaggedAsTheGlobalThumbnailInEveryTaggedMode() {
        for (TagMode mode : List.of(TagMode.ONE_D, TagMode.TWO_D_GRID, TagMode.TWO_D_BBOX)) {
            assertEquals(List.of("<tile_global_thumbnail>"), mode.tags(SINGLE), mode.name());
        }
        assertEquals(List.of(""), TagMode.NONE.tags(SINGLE));
    }

    @Test
    void gridTagsAreZeroBasedColumnThenRow() {
        assertEquals(List.of("<tile_x0_y0>", "<tile_x1_y0>", "<tile_x2_y0>", "<tile_x0_y1>", "<tile_x1_y1>", "<tile_x2_y1>",
                "<tile_global_thumbnail>"), TagMode.TWO_D_GRID.tags(THREE_BY_TWO));
    }

    @Test
    void bboxTagsAreTheNormalizedBoxWithTwoDecimals() {
        assertEquals(List.of("<tile_bbox_0.00_0.00_0.33_0.50>", "<tile_bbox_0.33_0.00_0.67_0.50>",
                "<tile_bbox_0.67_0.00_1.00_0.50>", "<tile_bbox_0.00_0.50_0.33_1.00>", "<tile_bbox_0.33_0.50_0.67_1.00>",
                "<tile_bbox_0.67_0.50_1.00_1.00>", "<tile_global_thumbnail>"), TagMode.TWO_D_BBOX.tags(THREE_BY_TWO));
    }

    @Test
    void bboxDecimalsRoundHalfUp() {
        assertEquals("0.13", TagMode.twoDecimals(0.125));
        assertEquals("0.38", TagMode.twoDecimals(0.375));
        assertEquals("0.17", TagMode.twoDecimals(1.0 / 6));
        assertEquals("0.83", TagMode.twoDecimals(5.0 / 6));
        assertEquals("1.00", TagMode.twoDecimals(1.0));
        assertEquals("0.00", TagMode.twoDecimals(0.0));
    }

    @Test
    void noneHasEmptyTags() {
        assertEquals(List.of("", "", "", "", "", "", ""), TagMode.NONE.tags(THREE_BY_TWO));
    }

    @Test
    void parsesTheConfigNames() {
        assertEquals(TagMode.NONE, TagMode.parse("none"));
        assertEquals(TagMode.ONE_D, TagMode.parse("1d"));
        assertEquals(TagMode.TWO_D_GRID, TagMode.parse("2D_Grid"));
        assertEquals(TagMode.TWO_D_BBOX, TagMode.parse("2d_bbox"));
        String message = assertThrows(IllegalArgumentException.class, () -> TagMode.parse("3d")).getMessage();
        assertEquals("unknown tag mode '3d': expected none, 1d, 2d_grid or 2d_bbox", message);
    }
}
