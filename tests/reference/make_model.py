#!/usr/bin/env python3
"""Write a random NVLM model folder: config.json (docs/model.md §10 schema plus "preset", "tag_tokens" and
"init") and model.safetensors (docs/model.md §9 names, or transformers' InternVL names with --hf-names).

    make_model.py --arch D|X|H --preset tiny --seed S --out DIR [--dtype f32|bf16|f16]
                  [--shard-bytes N] [--hf-names] [--random-gates] [--vision-style 6b|300m]
                  [--dummy-heads K] [--vocab-size V] [--tie-word-embeddings] [--position-grid G]

Weights come from a counter-based generator that any language can reproduce bit for bit
(README.md, "Weight initialisation"): no torch RNG involved.
"""
import argparse
import copy
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import nvlm_ref  # noqa: E402
import st_io  # noqa: E402

# `tiny`: CPU demo and golden fixtures. `small`: benchmarks and GPU (a guess at
# the Java preset; `./nvlm init`'s config.json is the source of truth). `micro`: gradcheck only.
PRESETS = {
    "tiny": {
        "vision": {"image_size": 112, "patch_size": 14, "hidden_size": 64, "num_heads": 4, "num_layers": 4,
                   "intermediate_size": 256},
        "projector_hidden_size": 256,
        "llm": {"hidden_size": 128, "num_layers": 4, "num_heads": 4, "num_kv_heads": 2,
                "intermediate_size": 384, "vocab_size": 320, "rope_theta": 1000000.0},
        "xattn_every": 2,
    },
    "small": {
        "vision": {"image_size": 224, "patch_size": 14, "hidden_size": 256, "num_heads": 4, "num_layers": 6,
                   "intermediate_size": 1024},
        "projector_hidden_size": 1024,
        "llm": {"hidden_size": 512, "num_layers": 8, "num_heads": 8, "num_kv_heads": 4,
                "intermediate_size": 1536, "vocab_size": 320, "rope_theta": 1000000.0},
        "xattn_every": 2,
    },
    "micro": {
        "vision": {"image_size": 28, "patch_size": 14, "hidden_size": 8, "num_heads": 2, "num_layers": 1,
                   "intermediate_size": 16},
        "projector_hidden_size": 16,
        "llm": {"hidden_size": 8, "num_layers": 2, "num_heads": 2, "num_kv_heads": 1,
                "intermediate_size": 16, "vocab_size": 24, "rope_theta": 10000.0},
        "xattn_every": 2,
        # The micro vocabulary is too small for the project ids: specials and tags at the bottom.
        "tokens": {"pad": 0, "im_start": 1, "im_end": 2, "image_context": 3, "image_start": 4, "image_end": 5},
        "tag_tokens": {"<tile_global_thumbnail>": [6], **{f"<tile_{k}>": [6 + k] for k in range(1, 7)}},
    },
}

VISION_STYLES = {
    # InternViT-6B-448px-V1-5 flavour (docs/model.md §2).
    "6b": {"norm_type": "rms_norm", "qk_normalization": True, "qkv_bias": False},
    # InternViT-300M-448px flavour (docs/model.md §2).
    "300m": {"norm_type": "layer_norm", "qk_normalization": False, "qkv_bias": True},
}


def make_config(arch, preset="tiny", vision_style="6b", dummy_heads=0, vocab_size=None,
                tie_word_embeddings=False, projector_bias=True, seed=0, random_gates=False):
    """The config.json dict (docs/model.md §10 schema)."""
    arch = arch.upper()
    if arch not in ("D", "X", "H"):
        raise ValueError(f"--arch {arch!r}: expected D, X or H")
    if preset not in PRESETS:
        raise ValueError(f"--preset {preset!r}: expected one of {sorted(PRESETS)}")
    p = copy.deepcopy(PRESETS[preset])
    vision = dict(p["vision"], norm_eps=1e-6, num_dummy_heads=dummy_heads, **VISION_STYLES[vision_style])
    llm = dict(p["llm"], rms_norm_eps=1e-6, tie_word_embeddings=tie_word_embeddings)
    if vocab_size:
        llm["vocab_size"] = vocab_size
    max_tiles = 6
    tokens = p.get("tokens", dict(nvlm_ref.DEFAULT_TOKENS))
    tag_tokens = p.get("tag_tokens", nvlm_ref.default_tag_tokens(max_tiles))
    largest = max(list(tokens.values()) + [i for ids in tag_tokens.values() for i in ids])
    if largest >= llm["vocab_size"]:
        raise ValueError(f"vocab_size {llm['vocab_size']} is too small for token id {largest}")
    config = {
        "architecture": arch,
        "preset": preset,
        "vision": vision,
        "downsample_ratio": 0.5,
        # NVLM-X's 1-layer projector never has a bias and ignores hidden_size (docs/model.md §4).
        "projector": {"hidden_size": p["projector_hidden_size"], "bias": projector_bias and arch != "X"},
        "llm": llm,
        "tiling": {"min_tiles": 1, "max_tiles": max_tiles, "use_thumbnail": True, "tag_mode": "1d"},
        "tokens": tokens,
        "tag_tokens": tag_tokens,
        "init": {"scheme": "splitmix64-uniform", "seed": seed, "random_gates": random_gates},
    }
    if arch in ("X", "H"):
        config["xattn"] = {"every": p["xattn_every"]}
    return config


# ---------------------------------------------------------------------------------------------
# Weight initialisation: counter-based, reproducible in any language (README.md)
# ---------------------------------------------------------------------------------------------

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & _MASK
    return h


def _mix(z):
    """splitmix64's finaliser on uint64 numpy arrays (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def uniform01(seed, name, count):
    """count float64 values in [0, 1), multiples of 2^-24, for tensor `name`."""
    with np.errstate(over="ignore"):
        key = _mix(np.array([(seed ^ fnv1a64(name)) & _MASK], dtype=np.uint64))[0]
        counter = np.arange(1, count + 1, dtype=np.uint64) * np.uint64(_GAMMA) + key
        return (_mix(counter) >> np.uint64(40)).astype(np.float64) * (2.0 ** -24)


def init_tensor(seed, name, shape, mean, std):
    """Uniform with the given mean and standard deviation: mean + (2u - 1) * (std * sqrt(3))."""
    half_width = std * math.sqrt(3.0)
    u = uniform01(seed, name, int(np.prod(shape, dtype=np.int64)))
    return (mean + (2.0 * u - 1.0) * half_width).astype(np.float32).reshape(shape)


def init_weights(model, seed, random_gates=False):
    """name -> float32 array for every parameter of `model` (docs/model.md §9 names)."""
    norms = {n for n, m in model.named_modules() if isinstance(m, (nvlm_ref.RMSNorm, nvlm_ref.LayerNorm))}
    out = {}
    for name, param in model.state_dict().items():
        shape = tuple(param.shape)
        owner, _, leaf = name.rpartition(".")
        if leaf in ("ls1", "ls2"):
            out[name] = np.full(shape, 0.1, dtype=np.float32)        # layer-scale init (docs/model.md §2)
        elif leaf in ("attn_gate", "ff_gate"):
            # Gates start at 0 (docs/model.md §7); --random-gates opens them so tests see the blocks.
            out[name] = init_tensor(seed, name, shape, 0.0, 0.5) if random_gates else np.zeros(shape, np.float32)
        elif owner in norms and leaf == "weight":
            out[name] = init_tensor(seed, name, shape, 1.0, 0.05)
        else:
            out[name] = init_tensor(seed, name, shape, 0.0, 0.02)
    zero_dummy_heads(model.config.vision, out)
    return out



def zero_dummy_heads(vision, tensors):
    """NVLM-D-72B's dummy heads are zeros at the end of each of q, k, v and of proj's input (docs/model.md §2)."""
    if not vision.num_dummy_heads:
        return
    c, cp = vision.hidden_size, vision.padded_width
    for layer in range(vision.num_layers):
        prefix = f"vision_model.encoder.layers.{layer}.attn."
        for kind in ("weight", "bias"):
            qkv = tensors.get(prefix + "qkv." + kind)
            if qkv is not None:
                for part in range(3):
                    qkv[part * cp + c:(part + 1) * cp] = 0
        tensors[prefix + "proj.weight"][:, c:] = 0


def write_model(out, config, seed, dtype="f32", shard_bytes=None, hf_names=False, random_gates=False,
                position_grid=None):
    """Build the model of `config`, initialise it, write config.json and the checkpoint."""
    cfg = nvlm_ref.NvlmConfig.from_dict(config)
    if position_grid:
        cfg.vision.position_grid = position_grid
    model = nvlm_ref.build_model(cfg)
    tensors = init_weights(model, seed, random_gates)
    if hf_names:
        tensors = nvlm_ref.to_hf_names(tensors)
    os.makedirs(out, exist_ok=True)
    for stale in os.listdir(out):
        if stale.endswith(".safetensors") or stale == st_io.INDEX_FILE:
            os.unlink(os.path.join(out, stale))
    st_io.save_checkpoint(tensors, out, dtype={"f32": "F32", "bf16": "BF16", "f16": "F16"}[dtype],
                          shard_bytes=shard_bytes)
    text = (json.dumps(config, indent=2) + "\n").encode("utf-8")
    st_io._atomic_write(os.path.join(out, "config.json"), lambda f: f.write(text))
    return model, tensors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", required=True, type=str.upper, choices=["D", "X", "H"])
    ap.add_argument("--preset", default="tiny", choices=sorted(PRESETS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="model folder to write")
    ap.add_argument("--dtype", default="f32", choices=["f32", "bf16", "f16"], help="storage type of the weights")
    ap.add_argument("--shard-bytes", type=int, default=None,
                    help="write model-0000k-of-0000n.safetensors shards of at most N tensor bytes and the index")
    ap.add_argument("--hf-names", action="store_true", help="transformers' InternVL names (nvlm_ref.HF_NAMES)")
    ap.add_argument("--random-gates", action="store_true", help="non-zero cross-attention gates (X, H)")
    ap.add_argument("--vision-style", default="6b", choices=sorted(VISION_STYLES))
    ap.add_argument("--dummy-heads", type=int, default=0, help="zero attention heads appended (NVLM-D-72B style)")
    ap.add_argument("--vocab-size", type=int, default=None)
    ap.add_argument("--tie-word-embeddings", action="store_true")
    ap.add_argument("--no-projector-bias", action="store_true", help="D/H projector linears without bias")
    ap.add_argument("--position-grid", type=int, default=None,
                    help="store the position embedding for this patch grid (exercises the bicubic resize)")
    args = ap.parse_args(argv)
    config = make_config(args.arch, args.preset, args.vision_style, args.dummy_heads, args.vocab_size,
                         args.tie_word_embeddings, not args.no_projector_bias, args.seed, args.random_gates)
    _, tensors = write_model(args.out, config, args.seed, args.dtype, args.shard_bytes, args.hf_names,
                             args.random_gates, args.position_grid)
    count = sum(int(np.asarray(v).size) for v in tensors.values())
    print(f"wrote {args.out}: NVLM-{args.arch} {args.preset}, {len(tensors)} tensors, {count} parameters, {args.dtype}")


if __name__ == "__main__":
    main()
