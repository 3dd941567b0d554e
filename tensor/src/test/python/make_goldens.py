"""Regenerates the PyTorch golden fixtures of the tensor module's composite tests.

Usage (from the repository root; needs Debian's python3-torch on /usr/bin/python3):
    /usr/bin/python3 tensor/src/test/python/make_goldens.py

Writes tensor/src/test/resources/goldens/*.safetensors. Every fixture holds its inputs, parameters,
the fixed cotangent `r` and the expected outputs and gradients, all float32, computed in float64
by PyTorch and rounded once. CI compares against these files and does not need PyTorch.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "goldens")


def write_safetensors(path, tensors):
    """Minimal safetensors writer (F32 / I64), header padded to 8 bytes, written atomically."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dtype = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}[a.dtype]
        data = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def f32(t):
    return t.detach().to(torch.float32).numpy()


def rand(g, *shape, scale=1.0):
    # Values are drawn in float64, then rounded to float32 so Java and PyTorch see identical inputs.
    return (torch.randn(*shape, generator=g) * scale).to(torch.float32).to(torch.float64)


def rope(x, theta):
    # x [B, T, H, D], rotate-half, positions 0..T-1, table in float64 (docs/model.md §5)
    b, t, h, d = x.shape
    inv = theta ** (-torch.arange(0, d // 2, dtype=torch.float64) * 2 / d)
    ang = torch.arange(t, dtype=torch.float64)[:, None] * inv[None, :]
    cos = torch.cat([ang.cos(), ang.cos()], -1)[None, :, None, :]
    sin = torch.cat([ang.sin(), ang.sin()], -1)[None, :, None, :]
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def attention_block(g):
    """Qwen2-style self-attention: q/k/v with bias, GQA 4/2 heads, RoPE, causal, o_proj without bias."""
    B, T, D, H, KV = 2, 7, 16, 4, 2
    hd = D // H
    p = {
        "x": rand(g, B, T, D),
        "q_w": rand(g, H * hd, D, scale=0.3), "q_b": rand(g, H * hd, scale=0.1),
        "k_w": rand(g, KV * hd, D, scale=0.3), "k_b": rand(g, KV * hd, scale=0.1),
        "v_w": rand(g, KV * hd, D, scale=0.3), "v_b": rand(g, KV * hd, scale=0.1),
        "o_w": rand(g, D, H * hd, scale=0.3),
    }
    for v in p.values():
        v.requires_grad_(True)
    x = p["x"]
    q = (x @ p["q_w"].T + p["q_b"]).view(B, T, H, hd)
    k = (x @ p["k_w"].T + p["k_b"]).view(B, T, KV, hd)
    v = (x @ p["v_w"].T + p["v_b"]).view(B, T, KV, hd)
    q, k = rope(q, 1e6), rope(k, 1e6)
    q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
    k = k.repeat_interleave(H // KV, dim=1)
    v = v.repeat_interleave(H // KV, dim=1)
    s = q @ k.transpose(-1, -2) / math.sqrt(hd)
    s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
    o = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, H * hd)
    out = o @ p["o_w"].T
    r = rand(g, *out.shape)
    (out * r).sum().backward()
    fixture = {k2: f32(v2) for k2, v2 in p.items()}
    fixture.update({"r": f32(r), "out": f32(out)})
    fixture.update({"grad." + k2: f32(v2.grad) for k2, v2 in p.items()})
    return fixture


def norm_mlp(g):
    """InternViT/projector style: LayerNorm(eps 1e-5) -> Linear -> GELU(erf) -> Linear, then
    a Qwen2 style RMSNorm(eps 1e-6) -> SwiGLU on the result."""
    N, C, Fh = 5, 12, 20
    p = {
        "x": rand(g, N, C, scale=2.0),
        "ln_w": 1 + rand(g, C, scale=0.1), "ln_b": rand(g, C, scale=0.1),
        "fc1_w": rand(g, Fh, C, scale=0.3), "fc1_b": rand(g, Fh, scale=0.1),
        "fc2_w": rand(g, C, Fh, scale=0.3), "fc2_b": rand(g, C, scale=0.1),
        "rms_w": 1 + rand(g, C, scale=0.1),
        "gate_w": rand(g, Fh, C, scale=0.3), "up_w": rand(g, Fh, C, scale=0.3), "down_w": rand(g, C, Fh, scale=0.3),
    }
    for v in p.values():
        v.requires_grad_(True)
    h = torch.nn.functional.layer_norm(p["x"], (C,), p["ln_w"], p["ln_b"], 1e-5)
    h = torch.nn.functional.gelu(h @ p["fc1_w"].T + p["fc1_b"]) @ p["fc2_w"].T + p["fc2_b"]
    n = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6) * p["rms_w"]
    out = (torch.nn.functional.silu(n @ p["gate_w"].T) * (n @ p["up_w"].T)) @ p["down_w"].T
    r = rand(g, *out.shape)
    (out * r).sum().backward()
    fixture = {k: f32(v) for k, v in p.items()}
    fixture.update({"r": f32(r), "out": f32(out)})
    fixture.update({"grad." + k: f32(v.grad) for k, v in p.items()})
    return fixture


def cross_entropy(g):
    N, V = 9, 13
    logits = rand(g, N, V, scale=3.0).requires_grad_(True)
    targets = torch.randint(0, V, (N,), generator=g)
    targets[2] = -100
    targets[5] = -100
    loss = torch.nn.functional.cross_entropy(logits, targets, ignore_index=-100)
    loss.backward()
    return {"logits": f32(logits), "targets": targets.numpy().astype(np.int64), "loss": f32(loss.reshape(1)),
            "grad.logits": f32(logits.grad)}


def adamw(g):
    """Three torch.optim.AdamW steps (float32, as the Java optimizer runs) with given gradients."""
    p0 = rand(g, 6).to(torch.float32)
    grads = [rand(g, 6).to(torch.float32) for _ in range(3)]
    p = p0.clone().requires_grad_(True)
    opt = torch.optim.AdamW([p], lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    for gr in grads:
        p.grad = gr.clone()
        opt.step()
    fixture = {"p0": p0.numpy(), "p3": p.detach().numpy()}
    for i, gr in enumerate(grads):
        fixture[f"g{i}"] = gr.numpy()
    return fixture


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(1234)
    for name, fn in [("attention_block", attention_block), ("norm_mlp", norm_mlp),
                     ("cross_entropy", cross_entropy), ("adamw", adamw)]:
        write_safetensors(os.path.join(OUT, name + ".safetensors"), fn(g))
        print("wrote", name)


if __name__ == "__main__":
    sys.exit(main())
