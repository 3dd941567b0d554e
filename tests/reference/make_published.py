#!/usr/bin/env python3
"""Random-weight folders in the published layouts, and the reference logits on them.

    make_published.py [--out tests/reference/golden/published] [--check]

For NVLM-D-72B, InternVL2-1B and a bare Qwen2ForCausalLM (InternVL2-1B's llm_config, which is
Qwen2-0.5B-Instruct's published config), writes `<name>/` with the published small files (config.json
with its dimensions shrunk, tokenizer_config.json with the added tokens renumbered into the shrunk
vocabulary), BF16 weights under the published names (sharded with model.safetensors.index.json),
`batch.safetensors` (docs/model.md §10: one row with an image of 2 tiles + thumbnail, one text row;
text only for Qwen2) and `expected.safetensors` (`logits` F32 [B, T, V], computed in float64 by
published_ref.py). NVLM-D's folder keeps its dynamic NTK RoPE with max_position_embeddings 24, so
the 36-token rows use the rescaled base. The NVLM-D names are checked against the published index:
every name of its first two vision and decoder layers, and nothing else.

The small files come from nvlm-model's test resources (copies of ../shared/real/).
--check regenerates into a temporary folder and compares with the files in --out.
"""
import argparse
import copy
import json
import os
import re
import shutil
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import make_goldens  # noqa: E402
import nvlm_ref  # noqa: E402
import published_ref  # noqa: E402
import st_io  # noqa: E402

PUBLISHED = os.path.join(HERE, "..", "..", "nvlm-model", "src", "test", "resources", "published")
SEED = 20240917
VOCAB = 320
FIRST_ADDED = 151643  # <|endoftext|>, the first added token of Qwen2's tokenizer
NEW_FIRST_ADDED = 256
IMAGE = 56            # 4 x 4 patches of 14 px: 4 image tokens per tile after pixel shuffle
TILES = 3             # 2 tiles + thumbnail
TEXT_BEFORE, TEXT_AFTER = 10, 14


def _read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _write(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def shrink_llm(l, intermediate, max_positions=None):
    l.update(hidden_size=64, num_attention_heads=4, num_key_value_heads=2, num_hidden_layers=2,
             intermediate_size=intermediate, vocab_size=VOCAB)
    for key in ("bos_token_id", "eos_token_id", "pad_token_id"):
        if isinstance(l.get(key), int):
            l[key] = l[key] - FIRST_ADDED + NEW_FIRST_ADDED
    if max_positions:
        l["max_position_embeddings"] = max_positions


def shrink(config, nvlm):
    v = config["vision_config"]
    heads = 5 if nvlm else 4  # NVLM-D: 5 heads + 3 zero dummy heads, as 25 + 7 in the 72B
    v.update(hidden_size=16 * heads, num_attention_heads=heads, num_hidden_layers=2, intermediate_size=96,
             image_size=IMAGE)
    config["force_image_size"] = IMAGE
    config["max_dynamic_patch"] = 2
    shrink_llm(config["llm_config"], 160 if nvlm else 128, 24 if nvlm else None)


def renumbered_tokenizer_config(source):
    t = _read(source)
    t["added_tokens_decoder"] = {str(int(k) - FIRST_ADDED + NEW_FIRST_ADDED): v for k, v in t["added_tokens_decoder"].items()}
    return t


def random_weights(model, kind, rng):
    """Normal(0, 0.02) matrices; norms 1 + N(0, 0.1); biases, layer scales and embeddings N(0, 0.1):
    nothing constant, so a misplaced bias or norm shows. BF16-rounded so both sides read the same values."""
    out = {}
    for name, p in model.state_dict().items():
        shape = tuple(p.shape)
        last = name.rsplit(".", 1)[-1]
        if ("norm" in name or name.startswith("mlp1.0.")) and last == "weight":
            a = 1 + 0.1 * rng.standard_normal(shape)
        elif last in ("bias", "ls1", "ls2") or "embedding" in last:
            a = 0.1 * rng.standard_normal(shape)
        else:
            a = 0.02 * rng.standard_normal(shape)
        out[name] = st_io.bf16_bits_to_f32(st_io.f32_to_bf16_bits(a.astype(np.float32)))
    return out


def check_nvlm_names(stored, index_path, layers):
    """The names written equal the published index's names of the first `layers` vision and decoder layers."""
    published = set(_read(index_path)["weight_map"])
    pattern = re.compile(r"\.layers\.(\d+)\.")
    kept = {n for n in published if not pattern.search(n) or int(pattern.search(n).group(1)) < layers}
    if set(stored) != kept:
        raise SystemExit(f"NVLM-D names differ from the published index: only written {sorted(set(stored) - kept)[:5]}, "
                         f"only published {sorted(kept - set(stored))[:5]}")


def make_batch(kind, config, rng):
    """Row 0: text, an image of TILES tiles (all their context tokens), text; row 1: text only (same length)."""
    text_ids = np.arange(0, NEW_FIRST_ADDED)
    if kind == "qwen2":
        length = TEXT_BEFORE + TEXT_AFTER + 12
        ids = rng.choice(text_ids, size=(2, length))
        pixels = np.zeros((0, 3, IMAGE, IMAGE), np.float32)
        tiles = np.zeros(0, np.int64)
    else:
        per_tile = config.tokens_per_tile
        context = config.token("image_context")
        row0 = np.concatenate([rng.choice(text_ids, TEXT_BEFORE), np.full(TILES * per_tile, context),
                               rng.choice(text_ids, TEXT_AFTER)])
        ids = np.stack([row0, rng.choice(text_ids, row0.size)])
        pixels = rng.standard_normal((TILES, 3, IMAGE, IMAGE)).astype(np.float32)
        tiles = np.array([TILES], np.int64)
    b, t = ids.shape
    media = np.full((b, t), -1, np.int64)
    if tiles.size:
        media[0, TEXT_BEFORE:] = 0
    return {"input_ids": ids.astype(np.int64), "labels": np.full((b, t), nvlm_ref.IGNORE_INDEX, np.int64),
            "pixel_values": pixels, "image_tiles": tiles, "image_row": np.zeros(tiles.size, np.int64),
            "tile_tag_ids": np.full((tiles.sum() if tiles.size else 0, 1), -1, np.int64),
            "media_image": media, "media_tile": np.full((b, t), -1, np.int64)}


def write_folder(folder, name, source, edit_config, seed):
    os.makedirs(folder, exist_ok=True)
    config = edit_config(_read(os.path.join(source, "config.json")))
    _write(os.path.join(folder, "config.json"), config)
    _write(os.path.join(folder, "tokenizer_config.json"),
           renumbered_tokenizer_config(os.path.join(source, "tokenizer_config.json")))
    if os.path.exists(os.path.join(source, "preprocessor_config.json")) and name != "qwen2":
        pre = _read(os.path.join(source, "preprocessor_config.json"))
        for key in ("size", "crop_size"):
            if isinstance(pre.get(key), int):
                pre[key] = IMAGE
        _write(os.path.join(folder, "preprocessor_config.json"), pre)
    rng = np.random.default_rng(seed)
    kind, ref_config, model = published_ref.build(folder)
    weights = random_weights(model, kind, rng)
    names = published_ref.stored_names(kind, model)
    stored = {names[k]: v for k, v in weights.items()}
    if name == "nvlm-d-72b":
        check_nvlm_names(stored, os.path.join(source, "model.safetensors.index.json"), 2)
    st_io.save_checkpoint(stored, folder, dtype="BF16", shard_bytes=200_000)
    batch = make_batch(kind, ref_config, rng)
    st_io.save_file(batch, os.path.join(folder, "batch.safetensors"))
    _, _, loaded = published_ref.load(folder, dtype=torch.float64)
    with torch.no_grad():
        logits = loaded(nvlm_ref.Batch.from_arrays(batch))
    st_io.save_file({"logits": logits.to(torch.float32).numpy()}, os.path.join(folder, "expected.safetensors"), dtype="F32")


def nvlm_d(config):
    shrink(config, True)
    return config


def internvl(config):
    shrink(config, False)
    return config


def qwen2(config):
    llm = copy.deepcopy(config["llm_config"])
    shrink_llm(llm, 128)
    return llm


FOLDERS = [("nvlm-d-72b", "nvlm-d-72b", nvlm_d), ("internvl2-1b", "internvl2-1b", internvl),
           ("qwen2", "internvl2-1b", qwen2)]


def generate(out):
    for k, (name, source, edit) in enumerate(FOLDERS):
        folder = os.path.join(out, name)
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        write_folder(folder, name, os.path.join(PUBLISHED, source), edit, SEED + k)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "golden", "published"))
    ap.add_argument("--check", action="store_true", help="regenerate elsewhere and compare with --out")
    args = ap.parse_args(argv)
    if not args.check:
        generate(args.out)
        print(f"wrote published-layout folders under {args.out}")
        return
    fresh = tempfile.mkdtemp(prefix="nvlm-published-check-")
    try:
        generate(fresh)
        problems = make_goldens.compare(args.out, fresh)
    finally:
        shutil.rmtree(fresh)
    if problems:
        raise SystemExit("published-layout folders differ from a fresh run:\n" + "\n".join(problems))
    print(f"published-layout folders under {args.out} are reproduced")


if __name__ == "__main__":
    main()
