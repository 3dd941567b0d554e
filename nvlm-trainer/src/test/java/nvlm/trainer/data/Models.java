package nvlm.trainer.data;

import nvlm.model.config.Architecture;
import nvlm.model.config.NvlmConfig;
import nvlm.model.tokenizer.ProjectTokenizer;

/** Tiny model configs with the project tokenizer's ids, at any tile size (14-pixel patches). */
final class Models {
    private Models() {
    }

    static NvlmConfig config(Architecture arch, int tileSize) {
        String json = """
                {"architecture": "%s", "preset": "test",
                 "vision": {"image_size": %d, "patch_size": 14, "hidden_size": 64, "num_heads": 4, "num_layers": 4,
                            "intermediate_size": 256, "norm_eps": 1e-6, "num_dummy_heads": 0, "norm_type": "rms_norm",
                            "qk_normalization": true, "qkv_bias": false},
                 "downsample_ratio": 0.5, "projector": {"hidden_size": 256, "bias": true},
                 "llm": {"hidden_size": 128, "num_layers": 4, "num_heads": 4, "num_kv_heads": 2, "intermediate_size": 384,
                         "vocab_size": %d, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "tie_word_embeddings": false},
                 "xattn": {"every": 2},
                 "tiling": {"min_tiles": 1, "max_tiles": 6, "use_thumbnail": true, "tag_mode": "1d"},
                 "tokens": {"pad": %d, "im_end": %d, "image_context": %d}}
                """.formatted(arch.name(), tileSize, ProjectTokenizer.instance().vocabSize(), ProjectTokenizer.PAD,
                ProjectTokenizer.IM_END, ProjectTokenizer.IMAGE_CONTEXT);
        return NvlmConfig.fromJson(json, "Models.config");
    }

    static SampleEncoder encoder(Architecture arch, int tileSize, SampleEncoder.Options options) {
        return SampleEncoder.forConfig(config(arch, tileSize), ProjectTokenizer.instance(), options);
    }
}
