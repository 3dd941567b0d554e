#!/usr/bin/env python3
"""Time greedy generation with the reference: the PyTorch peer of `./nvlm bench generate`.

    bench_generate.py --model DIR --batch CASE=B.safetensors [--batch ...] [--new-tokens 33]
                      [--repeats 3] [--threads 2] [--dtype bf16|float32]

The reference model (nvlm_ref.py, NVLM-D) extended to generate: the prompt (vision encoder,
projector and decoder) runs once, then one token at a time with a KV cache (keys and values
concatenated per layer, as transformers' eager cache does), greedy. Prefill = prompt tokens /
time to the first token; decode = tokens after the first / their time. One untimed run per batch,
then --repeats timed ones; one JSON line per batch with the medians.

Eager PyTorch as users run it: weights and activations in the model dtype (bf16 by default, the
checkpoint's), norms and softmax in f32 (nvlm_ref.py), no torch.compile.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def layer_step(layer, x, pos, cache, cos, sin, config):
    """One Qwen2 decoder layer on x [1, T, d] at positions pos..pos+T-1 with the layer's cache [k, v]."""
    import torch
    import nvlm_ref as ref
    attn = layer.self_attn
    h = layer.input_layernorm(x)
    t = x.shape[1]
    c, s = cos[pos:pos + t], sin[pos:pos + t]
    q = ref.apply_rope(ref.split_heads(attn.q_proj(h), attn.heads), c, s)
    k = ref.apply_rope(ref.split_heads(attn.k_proj(h), attn.kv_heads), c, s)
    v = ref.split_heads(attn.v_proj(h), attn.kv_heads)
    if cache:
        k = torch.cat([cache[0], k], dim=2)
        v = torch.cat([cache[1], v], dim=2)
    cache[:] = [k, v]
    mask = None
    if t > 1:
        mask = torch.ones(t, k.shape[2], dtype=torch.bool).tril(k.shape[2] - t)[None, None]
    x = x + attn.o_proj(ref.merge_heads(ref.scaled_dot_product_attention(q, k, v, mask)))
    return x + layer.mlp(layer.post_attention_layernorm(x))


def generate(model, batch, new_tokens):
    """Returns (seconds to the first token, seconds for the following ones, tokens made)."""
    import torch
    lm = model.language_model
    config = model.config.llm
    dtype = lm.model.embed_tokens.weight.dtype
    head = lm.model.embed_tokens.weight if lm.tied else lm.lm_head.weight
    started = time.perf_counter()
    n = batch.pixel_values.shape[0]
    if n:
        features = model.image_features(batch.pixel_values.to(dtype)).reshape(-1, config.hidden_size)
    else:
        features = lm.model.embed_tokens.weight.new_zeros(0, config.hidden_size)
    x = model.embed_with_images(batch.input_ids, features, "pixel_values")
    length = x.shape[1]
    cos, sin = __import__("nvlm_ref").rope_cos_sin(length + new_tokens, config.head_dim, config.rope_theta, dtype, "cpu")
    caches = [[] for _ in lm.model.layers]
    pos = 0
    tokens = []
    first = None
    for i in range(new_tokens):
        for layer, cache in zip(lm.model.layers, caches):
            x = layer_step(layer, x, pos, cache, cos, sin, config)
        pos += x.shape[1]
        logits = torch.nn.functional.linear(lm.model.norm(x[:, -1:]), head)
        token = int(logits[0, -1].float().argmax())
        tokens.append(token)
        if first is None:
            first = time.perf_counter()
        x = lm.model.embed_tokens(torch.tensor([[token]]))
    return first - started, time.perf_counter() - first, len(tokens)


def load_lean(model_dir, dtype):
    """nvlm_ref.load_model's result in `dtype` without its float32 copies of the whole checkpoint
    (about 9 GB at InternVL2-1B's size, where this machine has less to spare): parameters are
    made in `dtype`, and the single model.safetensors file is copied in one tensor at a time
    from a memory map. Every tensor must be there with its shape (strict, as load_model)."""
    import numpy as np
    import torch
    import nvlm_ref
    import st_io
    config = nvlm_ref.NvlmConfig.load(model_dir)
    path = os.path.join(model_dir, "model.safetensors")
    if not os.path.isfile(path):
        raise SystemExit(f"bench_generate.py: {path} not found (bench generate writes one file, not shards)")
    header, _, start = st_io.read_header(path)
    torch.set_default_dtype(dtype)
    try:
        model = nvlm_ref.build_model(config)
    finally:
        torch.set_default_dtype(torch.float32)
    params = dict(model.named_parameters())
    missing = sorted(set(params) - set(header))
    unexpected = sorted(set(header) - set(params))
    if missing or unexpected:
        raise SystemExit(f"bench_generate.py: {path}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    with torch.no_grad():
        for name, e in header.items():
            storage = st_io._STORAGE[e["dtype"]][0]
            begin, end = e["data_offsets"]
            array = np.frombuffer(raw, dtype=storage, count=(end - begin) // storage.itemsize,
                                  offset=start + begin).reshape(e["shape"])
            value = st_io.bf16_bits_to_f32(array) if e["dtype"] == "BF16" else array.astype(np.float32)
            if tuple(params[name].shape) != tuple(value.shape):
                raise SystemExit(f"bench_generate.py: {path}: {name} has shape {value.shape}, the model "
                                 f"{tuple(params[name].shape)}")
            params[name].copy_(torch.from_numpy(value))
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", action="append", required=True, help="CASE=FILE, repeatable")
    ap.add_argument("--new-tokens", type=int, default=33)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "float32"])
    args = ap.parse_args(argv)
    if args.new_tokens < 2 or args.repeats < 1:
        raise SystemExit("bench_generate.py: --new-tokens must be >= 2 and --repeats >= 1")
    # Before torch loads (see bench_train.py): passive OpenMP waiting on a shared machine.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    import torch
    import nvlm_ref
    torch.set_num_threads(args.threads)
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    model = load_lean(args.model, dtype)
    model.eval()
    if model.config.architecture != "D":
        raise SystemExit(f"bench_generate.py: {args.model} is NVLM-{model.config.architecture}; only D is timed here")
    for spec in args.batch:
        case, _, path = spec.partition("=")
        if not path:
            raise SystemExit(f"bench_generate.py: --batch {spec!r} must be CASE=FILE")
        batch = nvlm_ref.Batch.load(path)
        if batch.input_ids.shape[0] != 1:
            raise SystemExit(f"bench_generate.py: {path} has {batch.input_ids.shape[0]} rows; generation takes one")
        prefill, decode = [], []
        with torch.no_grad():
            for r in range(args.repeats + 1):
                first, rest, made = generate(model, batch, args.new_tokens)
                if r == 0:
                    continue
                prefill.append(batch.input_ids.shape[1] / first)
                decode.append((made - 1) / rest)
                print(f"torch {case:5s} run {r}: prefill {prefill[-1]:.1f} tokens/s, decode {decode[-1]:.2f} tokens/s",
                      file=sys.stderr)
        print(json.dumps({"case": case, "prefill_tokens_per_s": statistics.median(prefill),
                          "decode_tokens_per_s": statistics.median(decode), "prompt_tokens": int(batch.input_ids.shape[1]),
                          "repeats": args.repeats, "threads": args.threads, "dtype": args.dtype,
                          "torch_version": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
