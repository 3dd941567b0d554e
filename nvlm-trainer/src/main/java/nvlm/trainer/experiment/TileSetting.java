package nvlm.trainer.experiment;

import nvlm.model.config.NvlmConfig;
import nvlm.model.tiling.TagMode;
import nvlm.trainer.data.SampleEncoder;
import nvlm.trainer.pipeline.DataSpec;

/**
 * The rows of the paper's Table 1: how images are tiled (docs/model.md §1) and how tiles are announced in
 * the prompt (docs/model.md §6). A setting changes the model config's {@code tiling.tag_mode} and the data's
 * low-resolution flag, so that training (both stages) and evaluation see the same layout through
 * the one encoder ({@link DataSpec#encoder}).
 */
public enum TileSetting {
    /**
     * One S x S tile of the whole image, no dynamic high resolution. No tag: there is nothing to
     * tell apart (in the tag modes the lone tile would always be {@code <tile_global_thumbnail>},
     * a constant), which is the paper's baseline as InternVL feeds it.
     */
    LOW_RES("low_res", "low-res (1 tile)", true, TagMode.NONE),
    DHR_NO_TAGS("dhr_no_tags", "DHR, no tags", false, TagMode.NONE),
    ONE_D("1d", "DHR + 1-D tags", false, TagMode.ONE_D),
    TWO_D_GRID("2d_grid", "DHR + 2-D grid tags", false, TagMode.TWO_D_GRID),
    TWO_D_BBOX("2d_bbox", "DHR + 2-D bbox tags", false, TagMode.TWO_D_BBOX);

    private final String key;
    private final String label;
    private final boolean lowResolution;
    private final TagMode tagMode;

    TileSetting(String key, String label, boolean lowResolution, TagMode tagMode) {
        this.key = key;
        this.label = label;
        this.lowResolution = lowResolution;
        this.tagMode = tagMode;
    }

    /** The name in the experiment's JSON. */
    public String key() {
        return key;
    }

    /** The row name in the experiment's table. */
    public String label() {
        return label;
    }

    public boolean lowResolution() {
        return lowResolution;
    }

    public TagMode tagMode() {
        return tagMode;
    }

    /** {@code base} with this setting's tag mode (grid limits and thumbnail unchanged). */
    public NvlmConfig config(NvlmConfig base) {
        NvlmConfig.TilingConfig t = base.tiling();
        return base.withTiling(new NvlmConfig.TilingConfig(t.minTiles(), t.maxTiles(), t.useThumbnail(), tagMode.configName()));
    }

    /** {@code base} with this setting's resolution. */
    public DataSpec data(DataSpec base) {
        return base.withLowResolution(lowResolution);
    }

    /** How a sample is encoded under this setting, in training and in evaluation alike. */
    public SampleEncoder encoder(NvlmConfig base, DataSpec data) {
        return data(data).encoder(config(base));
    }
}
