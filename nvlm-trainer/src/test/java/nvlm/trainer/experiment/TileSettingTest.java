package nvlm.trainer.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import nvlm.model.config.NvlmConfig;
import nvlm.model.config.Presets;
import nvlm.model.prompt.Sample;
import nvlm.model.tiling.TagMode;
import nvlm.trainer.data.Example;
import nvlm.trainer.data.Family;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.data.Split;
import nvlm.trainer.data.SyntheticWorld;
import nvlm.trainer.data.View;
import nvlm.trainer.data.WorldConfig;
import nvlm.trainer.pipeline.DataSpec;
import org.junit.jupiter.api.Test;

/** The five settings of the tile-tags experiment lay the same picture out as five different token sequences. */
class TileSettingTest {
    private static final NvlmConfig CONFIG = Presets.get(WorldExperiment.PRESET, WorldExperiment.ARCH);

    /** The first OCR test example whose picture gets more than one tile under dynamic high resolution. */
    private static Example multiTileExample(SyntheticWorld world) {
        SampleEncoder dhr = TileSetting.ONE_D.encoder(CONFIG, DataSpec.world(1, 1));
        for (long i = 0; i < 50; i++) {
            Example e = world.example(Split.TEST, Family.OCR, i, View.IMAGE, TagMode.ONE_D);
            if (dhr.encodeForGeneration(e).tiles() > 2) {
                return e;
            }
        }
        throw new AssertionError("no OCR test example in the first 50 is tiled into more than one tile + thumbnail");
    }

    @Test
    void everySettingEncodesTheSamePictureDifferentlyAndLowResolutionHasOneTile() {
        SyntheticWorld world = new SyntheticWorld(WorldConfig.forModel(CONFIG, 1));
        Example example = multiTileExample(world);
        Map<TileSetting, Sample> samples = new EnumMap<>(TileSetting.class);
        Map<TileSetting, String> text = new EnumMap<>(TileSetting.class);
        for (TileSetting s : TileSetting.values()) {
            SampleEncoder encoder = s.encoder(CONFIG, DataSpec.world(1, 1));
            assertEquals(s.tagMode(), encoder.tagMode(), s.key());
            Sample sample = encoder.encodeForGeneration(example);
            samples.put(s, sample);
            text.put(s, encoder.tokenizer().decode(sample.inputIds()));
        }
        for (TileSetting a : TileSetting.values()) {
            for (TileSetting b : TileSetting.values()) {
                if (a.ordinal() < b.ordinal()) {
                    assertFalse(Arrays.equals(samples.get(a).inputIds(), samples.get(b).inputIds()), a.key() + " vs " + b.key());
                }
            }
        }
        assertEquals(1, samples.get(TileSetting.LOW_RES).tiles());
        int dhrTiles = samples.get(TileSetting.DHR_NO_TAGS).tiles();
        assertTrue(dhrTiles > 2, "DHR tiles: " + dhrTiles);
        for (TileSetting s : new TileSetting[] {TileSetting.ONE_D, TileSetting.TWO_D_GRID, TileSetting.TWO_D_BBOX}) {
            assertEquals(dhrTiles, samples.get(s).tiles(), s.key() + ": the tags change, the tiles do not");
        }

        assertFalse(text.get(TileSetting.LOW_RES).contains("<tile_"), text.get(TileSetting.LOW_RES));
        assertFalse(text.get(TileSetting.DHR_NO_TAGS).contains("<tile_"), text.get(TileSetting.DHR_NO_TAGS));
        assertTrue(text.get(TileSetting.ONE_D).contains("<tile_1>"), text.get(TileSetting.ONE_D));
        assertTrue(text.get(TileSetting.ONE_D).contains(TagMode.THUMBNAIL_TAG));
        assertTrue(text.get(TileSetting.TWO_D_GRID).contains("<tile_x0_y0>") && !text.get(TileSetting.TWO_D_GRID).contains("<tile_1>"));
        assertTrue(text.get(TileSetting.TWO_D_BBOX).contains("<tile_bbox_0.00_0.00_"), text.get(TileSetting.TWO_D_BBOX));
        // Tags cost tokens (several each, as Qwen2 cuts them): none < 1-D (five per tile) < 2-D grid (seven or more) < bbox.
        int none = samples.get(TileSetting.DHR_NO_TAGS).length();
        int oneD = samples.get(TileSetting.ONE_D).length();
        assertEquals(none + 5 * dhrTiles, oneD, "1-D tags are five tokens per tile: < tile _ k > and < tile _global _thumbnail >");
        assertTrue(samples.get(TileSetting.TWO_D_GRID).length() > oneD, "2-D grid tags are seven or more tokens");
        assertTrue(samples.get(TileSetting.TWO_D_BBOX).length() > samples.get(TileSetting.TWO_D_GRID).length());
        assertTrue(samples.get(TileSetting.LOW_RES).length() < none);
    }

    @Test
    void aSettingChangesOnlyTheTagModeOfTheConfigAndTheResolutionOfTheData() {
        for (TileSetting s : TileSetting.values()) {
            NvlmConfig c = s.config(CONFIG);
            assertEquals(s.tagMode(), TagMode.parse(c.tiling().tagMode()));
            assertEquals(CONFIG.tiling().maxTiles(), c.tiling().maxTiles());
            assertEquals(CONFIG.llm(), c.llm());
            assertEquals(CONFIG.vision(), c.vision());
            assertEquals(s == TileSetting.LOW_RES, s.data(DataSpec.world(1, 3)).lowResolution());
        }
    }
}
