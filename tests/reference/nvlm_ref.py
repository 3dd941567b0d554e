"""PyTorch reference of NVLM-D, NVLM-X and NVLM-H, written from the model contract, docs/model.md.

Section numbers ("docs/model.md §5") refer to that file. The module tree's state_dict names are the
checkpoint names of docs/model.md §9, so `load_state_dict(strict=True)` checks a checkpoint name by name.
Runs unchanged on PyTorch 1.13 (CPU) and 2.x (CPU or CUDA): only plain tensor ops, no fused
attention, no deprecated APIs.
"""
import json
import math
import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import st_io

IGNORE_INDEX = -100  # docs/model.md §8

# Token ids of the project tokenizer (vocabulary 320: 256 bytes, then specials) used when a
# config.json has no "tokens"/"tag_tokens" entry for them. Pending the lead's confirmation.
DEFAULT_TOKENS = {
    "pad": 256,            # <|endoftext|>
    "im_start": 257,       # <|im_start|>
    "im_end": 258,         # <|im_end|>
    "image_context": 259,  # <|vision_pad|>
    "image_start": 260,    # <Image>
    "image_end": 261,      # </Image>
}
DEFAULT_THUMBNAIL_TAG_ID = 262      # <tile_global_thumbnail>
DEFAULT_FIRST_TILE_TAG_ID = 263     # <tile_1>; <tile_k> is 262 + k


def default_tag_tokens(max_tiles):
    """Tag mode 1d (docs/model.md §6): one special token per tag."""
    tags = {"<tile_global_thumbnail>": [DEFAULT_THUMBNAIL_TAG_ID]}
    for k in range(1, max_tiles + 1):
        tags[f"<tile_{k}>"] = [DEFAULT_FIRST_TILE_TAG_ID + k - 1]
    return tags


# ---------------------------------------------------------------------------------------------
# Config (docs/model.md §10)
# ---------------------------------------------------------------------------------------------

def _require(section, key, where):
    if key not in section:
        raise ValueError(f"{where}: missing key {key!r}")
    return section[key]


@dataclass
class VisionConfig:
    image_size: int
    patch_size: int
    hidden_size: int
    num_heads: int
    num_layers: int
    intermediate_size: int
    norm_type: str = "rms_norm"
    norm_eps: float = 1e-6
    qk_normalization: bool = True
    qkv_bias: bool = False
    num_dummy_heads: int = 0
    # Grid of the checkpoint's position embedding; None means image_size / patch_size (docs/model.md §2).
    position_grid: Optional[int] = None

    @property
    def grid(self):
        return self.image_size // self.patch_size

    @property
    def head_dim(self):
        return self.hidden_size // self.num_heads

    @property
    def padded_width(self):
        """Attention width including NVLM-D-72B's dummy heads (docs/model.md §2)."""
        return (self.num_heads + self.num_dummy_heads) * self.head_dim


@dataclass
class LlmConfig:
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    intermediate_size: int
    vocab_size: int
    rms_norm_eps: float = 1e-6
    rope_theta: float = 1e6
    tie_word_embeddings: bool = False
    # Dynamic NTK RoPE (docs/model.md §5): a factor > 1 rescales the base beyond max_position_embeddings.
    rope_scaling_factor: float = 1.0
    max_position_embeddings: int = 32768

    @property
    def head_dim(self):
        return self.hidden_size // self.num_heads

    def rope_base(self, length):
        """theta, or for dynamic NTK and length > M: theta * (f * L / M - (f - 1))^(h / (h - 2)),
        as transformers' dynamic rotary embedding computes it (docs/model.md §5)."""
        f, m, h = self.rope_scaling_factor, self.max_position_embeddings, self.head_dim
        if f <= 1 or length <= m:
            return self.rope_theta
        return self.rope_theta * (f * length / m - (f - 1)) ** (h / (h - 2))


@dataclass
class NvlmConfig:
    architecture: str
    vision: VisionConfig
    llm: LlmConfig
    downsample_ratio: float = 0.5
    projector_hidden_size: int = 0
    projector_bias: bool = False
    xattn_every: Optional[int] = None
    tiling: Dict = field(default_factory=dict)
    tokens: Dict[str, int] = field(default_factory=dict)
    tag_tokens: Dict[str, List[int]] = field(default_factory=dict)
    raw: Dict = field(default_factory=dict)

    @property
    def tokens_per_tile(self):
        """T_img = (image_size/patch_size)^2 * downsample_ratio^2 (docs/model.md §10)."""
        return int(round(self.vision.grid ** 2 * self.downsample_ratio ** 2))

    def token(self, name):
        return int(self.tokens.get(name, DEFAULT_TOKENS[name]))

    @staticmethod
    def from_dict(d, where="config.json"):
        arch = str(_require(d, "architecture", where)).upper()
        if arch not in ("D", "X", "H"):
            raise ValueError(f"{where}: architecture {arch!r}, expected D, X or H")
        v = _require(d, "vision", where)
        vision = VisionConfig(**{k: v[k] for k in VisionConfig.__dataclass_fields__ if k in v})
        for k in ("image_size", "patch_size", "hidden_size", "num_heads", "num_layers", "intermediate_size"):
            _require(v, k, where + " vision")
        if vision.norm_type not in ("rms_norm", "layer_norm"):
            raise ValueError(f"{where}: vision.norm_type {vision.norm_type!r}, expected rms_norm or layer_norm")
        if vision.image_size % vision.patch_size or vision.hidden_size % vision.num_heads:
            raise ValueError(f"{where}: vision image_size {vision.image_size} / patch_size {vision.patch_size} "
                             f"or hidden_size {vision.hidden_size} / num_heads {vision.num_heads} not whole")
        l = _require(d, "llm", where)
        for k in ("hidden_size", "num_layers", "num_heads", "num_kv_heads", "intermediate_size", "vocab_size"):
            _require(l, k, where + " llm")
        llm = LlmConfig(**{k: l[k] for k in LlmConfig.__dataclass_fields__ if k in l})
        if llm.hidden_size % llm.num_heads or llm.num_heads % llm.num_kv_heads:
            raise ValueError(f"{where}: llm hidden_size {llm.hidden_size}, num_heads {llm.num_heads}, "
                             f"num_kv_heads {llm.num_kv_heads}: heads must divide evenly")
        ratio = float(d.get("downsample_ratio", 0.5))
        if ratio != 0.5 or vision.grid % 2:
            raise ValueError(f"{where}: pixel shuffle v2 (docs/model.md §3) needs downsample_ratio 0.5 and an even "
                             f"patch grid, got {ratio} and {vision.grid}")
        proj = d.get("projector", {})
        every = None
        if arch in ("X", "H"):
            every = int(_require(_require(d, "xattn", where), "every", where + " xattn"))
            if every < 1:
                raise ValueError(f"{where}: xattn.every {every} must be >= 1")
        if arch == "X" and proj.get("bias", False):
            raise ValueError(f"{where}: NVLM-X's 1-layer projector has no bias (docs/model.md §4), projector.bias is true")
        if arch in ("D", "H"):
            _require(proj, "hidden_size", where + " projector")
        tiling = dict(d.get("tiling", {}))
        tag_tokens = d.get("tag_tokens") or default_tag_tokens(int(tiling.get("max_tiles", 6)))
        tag_tokens = {k: ([v] if isinstance(v, int) else list(v)) for k, v in tag_tokens.items()}
        return NvlmConfig(architecture=arch, vision=vision, llm=llm, downsample_ratio=ratio,
                          projector_hidden_size=int(proj.get("hidden_size", 0)),
                          projector_bias=bool(proj.get("bias", False)), xattn_every=every,
                          tiling=tiling, tokens=dict(d.get("tokens", {})), tag_tokens=tag_tokens, raw=d)

    @staticmethod
    def load(model_dir):
        path = os.path.join(model_dir, "config.json")
        with open(path, encoding="utf-8") as f:
            return NvlmConfig.from_dict(json.load(f), where=path)


# ---------------------------------------------------------------------------------------------
# Norms: computed in fp32 whatever the storage type (docs/model.md §2, §5); float64 stays float64
# ---------------------------------------------------------------------------------------------

def _compute_dtype(t):
    return torch.float32 if t.dtype in (torch.float16, torch.bfloat16) else t.dtype


class RMSNorm(nn.Module):
    """x * rsqrt(mean(x^2) + eps) * w (docs/model.md §5). `stat_width`: the mean runs over the first
    stat_width channels only (InternViT's q/k norm with dummy heads, docs/model.md §2)."""

    def __init__(self, width, eps, stat_width=None):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.eps = eps
        self.stat_width = stat_width

    def forward(self, x):
        wide = x.to(_compute_dtype(x))
        stat = wide if self.stat_width is None else wide[..., :self.stat_width]
        y = wide * torch.rsqrt(stat.pow(2).mean(-1, keepdim=True) + self.eps)
        return (y * self.weight.to(y.dtype)).to(x.dtype)


class LayerNorm(nn.Module):
    """LayerNorm with bias, computed in fp32 (docs/model.md §2 layer_norm flavour, docs/model.md §4 projector)."""

    def __init__(self, width, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.bias = nn.Parameter(torch.zeros(width))
        self.eps = eps

    def forward(self, x):
        wide = x.to(_compute_dtype(x))
        y = F.layer_norm(wide, (wide.shape[-1],), self.weight.to(wide.dtype), self.bias.to(wide.dtype), self.eps)
        return y.to(x.dtype)


def vision_norm(config: VisionConfig):
    if config.norm_type == "rms_norm":
        return RMSNorm(config.hidden_size, config.norm_eps)
    return LayerNorm(config.hidden_size, config.norm_eps)


# ---------------------------------------------------------------------------------------------
# Attention shared by InternViT, the decoder and the cross-attention blocks
# ---------------------------------------------------------------------------------------------

def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(h)) v. q [B, n_h, Tq, h]; k, v [B, n_kv, Tk, h] with n_h a multiple of
    n_kv (GQA: query head j reads kv head j // (n_h / n_kv), docs/model.md §5); mask [B or 1, 1, Tq, Tk]
    bool, True = may attend. Softmax in fp32 for 16-bit inputs."""
    groups = q.shape[1] // k.shape[1]
    if groups > 1:
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    probs = torch.softmax(scores.to(_compute_dtype(scores)), dim=-1).to(v.dtype)
    return torch.matmul(probs, v)


def split_heads(x, heads):
    """[B, T, heads*h] -> [B, heads, T, h]"""
    b, t, _ = x.shape
    return x.view(b, t, heads, -1).transpose(1, 2)


def merge_heads(x):
    """[B, heads, T, h] -> [B, T, heads*h]"""
    b, heads, t, h = x.shape
    return x.transpose(1, 2).reshape(b, t, heads * h)


# ---------------------------------------------------------------------------------------------
# InternViT (docs/model.md §2)
# ---------------------------------------------------------------------------------------------

class PatchEmbedding(nn.Module):
    """Conv P x P stride P, 3 -> C, with bias; written as the equivalent linear map over each
    patch flattened in (channel, ky, kx) order, patches row-major (docs/model.md §2)."""

    def __init__(self, patch_size, hidden_size):
        super().__init__()
        self.patch_size = patch_size
        self.weight = nn.Parameter(torch.zeros(hidden_size, 3, patch_size, patch_size))
        self.bias = nn.Parameter(torch.zeros(hidden_size))

    def forward(self, pixel_values):
        n, c, s, _ = pixel_values.shape
        p, g = self.patch_size, s // self.patch_size
        patches = pixel_values.reshape(n, c, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(n, g * g, c * p * p)
        return F.linear(patches, self.weight.reshape(self.weight.shape[0], -1), self.bias)


class InternVisionEmbeddings(nn.Module):
    def __init__(self, config: VisionConfig):
        super().__init__()
        self.config = config
        c = config.hidden_size
        pos_grid = config.position_grid or config.grid
        self.class_embedding = nn.Parameter(torch.zeros(1, 1, c))
        self.patch_embedding = PatchEmbedding(config.patch_size, c)
        self.position_embedding = nn.Parameter(torch.zeros(1, 1 + pos_grid * pos_grid, c))

    def patch_position_embedding(self, grid):
        """The patch part of the position embedding on a grid x grid layout; resized bicubically
        (align_corners=False, as InternVL) when the checkpoint's grid differs (docs/model.md §2)."""
        pos = self.position_embedding[:, 1:]
        stored = int(round(math.sqrt(pos.shape[1])))
        if stored == grid:
            return pos
        c = pos.shape[-1]
        image = pos.reshape(1, stored, stored, c).permute(0, 3, 1, 2).to(_compute_dtype(pos))
        resized = F.interpolate(image, size=(grid, grid), mode="bicubic", align_corners=False)
        return resized.permute(0, 2, 3, 1).reshape(1, grid * grid, c).to(pos.dtype)

    def forward(self, pixel_values):
        patches = self.patch_embedding(pixel_values)                          # [N, G*G, C]
        cls = self.class_embedding.expand(patches.shape[0], -1, -1).to(patches.dtype)
        grid = pixel_values.shape[-1] // self.config.patch_size
        pos = torch.cat([self.position_embedding[:, :1], self.patch_position_embedding(grid)], dim=1)
        return torch.cat([cls, patches], dim=1) + pos.to(patches.dtype)


class InternAttention(nn.Module):
    """qkv -> optional q/k RMSNorm over the whole (padded) width before the head split, with the
    statistic over the C real channels -> non-causal attention -> proj (docs/model.md §2)."""

    def __init__(self, config: VisionConfig):
        super().__init__()
        c, cp = config.hidden_size, config.padded_width
        self.heads = config.num_heads + config.num_dummy_heads
        self.width = cp
        self.qkv = nn.Linear(c, 3 * cp, bias=config.qkv_bias)
        self.qk_normalization = config.qk_normalization
        if config.qk_normalization:
            self.q_norm = RMSNorm(cp, config.norm_eps, stat_width=c)
            self.k_norm = RMSNorm(cp, config.norm_eps, stat_width=c)
        self.proj = nn.Linear(cp, c, bias=True)

    def forward(self, x):
        q, k, v = self.qkv(x).split(self.width, dim=-1)
        if self.qk_normalization:
            q, k = self.q_norm(q), self.k_norm(k)
        out = scaled_dot_product_attention(split_heads(q, self.heads), split_heads(k, self.heads),
                                           split_heads(v, self.heads))
        return self.proj(merge_heads(out))


class InternMLP(nn.Module):
    def __init__(self, config: VisionConfig):
        super().__init__()
        self.fc1 = nn.Linear(config.hidden_size, config.intermediate_size)
        self.fc2 = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))  # exact (erf) GELU, docs/model.md §2


class InternVisionEncoderLayer(nn.Module):
    """Pre-norm block with per-channel layer scale ls1, ls2 (docs/model.md §2)."""

    def __init__(self, config: VisionConfig):
        super().__init__()
        self.norm1 = vision_norm(config)
        self.attn = InternAttention(config)
        self.ls1 = nn.Parameter(torch.full((config.hidden_size,), 0.1))
        self.norm2 = vision_norm(config)
        self.mlp = InternMLP(config)
        self.ls2 = nn.Parameter(torch.full((config.hidden_size,), 0.1))

    def forward(self, x):
        x = x + self.ls1 * self.attn(self.norm1(x))
        return x + self.ls2 * self.mlp(self.norm2(x))


class InternVisionEncoder(nn.Module):
    def __init__(self, config: VisionConfig):
        super().__init__()
        self.layers = nn.ModuleList(InternVisionEncoderLayer(config) for _ in range(config.num_layers))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class InternVisionModel(nn.Module):
    """pixel_values [N, 3, S, S] -> [N, G*G, C]: no final norm, CLS dropped (docs/model.md §2)."""

    def __init__(self, config: VisionConfig):
        super().__init__()
        self.embeddings = InternVisionEmbeddings(config)
        self.encoder = InternVisionEncoder(config)

    def forward(self, pixel_values):
        return self.encoder(self.embeddings(pixel_values))[:, 1:]


# ---------------------------------------------------------------------------------------------
# Pixel shuffle (docs/model.md §3) and projectors (docs/model.md §4)
# ---------------------------------------------------------------------------------------------

def pixel_shuffle(x):
    """[N, G*G, C] -> [N, (G/2)^2, 4C]. Output token t = y2*(G/2) + x2 concatenates
    in[2y2, 2x2], in[2y2, 2x2+1], in[2y2+1, 2x2], in[2y2+1, 2x2+1] (docs/model.md §3)."""
    n, tokens, c = x.shape
    g = int(round(math.sqrt(tokens)))
    half = g // 2
    # (y2, dy, x2, dx, c) -> (y2, x2, dy, dx, c): channel block index dy*2 + dx.
    return x.reshape(n, half, 2, half, 2, c).permute(0, 1, 3, 2, 4, 5).reshape(n, half * half, 4 * c)


def projector(config: NvlmConfig):
    """`mlp1`: D and H 2-layer MLP (mlp1.0, mlp1.1, mlp1.3); X 1-layer (mlp1.0, mlp1.1) (docs/model.md §4)."""
    width = 4 * config.vision.hidden_size
    d = config.llm.hidden_size
    if config.architecture == "X":
        return nn.Sequential(LayerNorm(width, 1e-5), nn.Linear(width, d, bias=False))
    hidden, bias = config.projector_hidden_size, config.projector_bias
    return nn.Sequential(LayerNorm(width, 1e-5), nn.Linear(width, hidden, bias=bias), nn.GELU(),
                         nn.Linear(hidden, d, bias=bias))


# ---------------------------------------------------------------------------------------------
# Qwen2 decoder (docs/model.md §5)
# ---------------------------------------------------------------------------------------------

def rope_cos_sin(length, head_dim, theta, dtype, device):
    """cos, sin [length, head_dim] for rotate-half RoPE: inv_freq[i] = theta^(-2i/h), positions
    0..T-1 (docs/model.md §5). Computed in float64, then cast to the compute dtype."""
    inv_freq = theta ** (-torch.arange(0, head_dim, 2, dtype=torch.float64, device=device) / head_dim)
    angles = torch.arange(length, dtype=torch.float64, device=device)[:, None] * inv_freq[None, :]
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def rotate_half(x):
    first, second = x.chunk(2, dim=-1)
    return torch.cat([-second, first], dim=-1)


def apply_rope(x, cos, sin):
    return x * cos + rotate_half(x) * sin


class Qwen2Attention(nn.Module):
    """q/k/v with bias, o_proj without; RoPE on q and k; causal GQA attention (docs/model.md §5)."""

    def __init__(self, config: LlmConfig):
        super().__init__()
        d, h = config.hidden_size, config.head_dim
        self.heads, self.kv_heads = config.num_heads, config.num_kv_heads
        self.q_proj = nn.Linear(d, self.heads * h, bias=True)
        self.k_proj = nn.Linear(d, self.kv_heads * h, bias=True)
        self.v_proj = nn.Linear(d, self.kv_heads * h, bias=True)
        self.o_proj = nn.Linear(self.heads * h, d, bias=False)

    def forward(self, x, cos, sin, causal_mask):
        q = apply_rope(split_heads(self.q_proj(x), self.heads), cos, sin)
        k = apply_rope(split_heads(self.k_proj(x), self.kv_heads), cos, sin)
        v = split_heads(self.v_proj(x), self.kv_heads)
        return self.o_proj(merge_heads(scaled_dot_product_attention(q, k, v, causal_mask)))


class Qwen2MLP(nn.Module):
    """SwiGLU: down(silu(gate(x)) * up(x)), no biases (docs/model.md §5)."""

    def __init__(self, hidden_size, intermediate_size):
        super().__init__()
        self.gate_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.up_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.down_proj = nn.Linear(intermediate_size, hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Qwen2DecoderLayer(nn.Module):
    def __init__(self, config: LlmConfig):
        super().__init__()
        self.input_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.self_attn = Qwen2Attention(config)
        self.post_attention_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.mlp = Qwen2MLP(config.hidden_size, config.intermediate_size)

    def forward(self, x, cos, sin, causal_mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, causal_mask)
        return x + self.mlp(self.post_attention_layernorm(x))


# ---------------------------------------------------------------------------------------------
# Gated cross-attention (docs/model.md §7, project decision)
# ---------------------------------------------------------------------------------------------

class CrossAttention(nn.Module):
    """q from x (d -> n_h*h), k/v from memory (d -> n_kv*h), o_proj; no biases, no RoPE, GQA,
    scale 1/sqrt(h) (docs/model.md §7)."""

    def __init__(self, config: LlmConfig):
        super().__init__()
        d, h = config.hidden_size, config.head_dim
        self.heads, self.kv_heads = config.num_heads, config.num_kv_heads
        self.q_proj = nn.Linear(d, self.heads * h, bias=False)
        self.k_proj = nn.Linear(d, self.kv_heads * h, bias=False)
        self.v_proj = nn.Linear(d, self.kv_heads * h, bias=False)
        self.o_proj = nn.Linear(self.heads * h, d, bias=False)

    def forward(self, x, memory, mask):
        q = split_heads(self.q_proj(x), self.heads)
        k = split_heads(self.k_proj(memory), self.kv_heads)
        v = split_heads(self.v_proj(memory), self.kv_heads)
        return self.o_proj(merge_heads(scaled_dot_product_attention(q, k, v, mask[:, None])))


class GatedCrossAttention(nn.Module):
    """x = x + tanh(attn_gate) * XAttn(norm1(x), M); x = x + tanh(ff_gate) * SwiGLU(norm2(x)).
    Rows whose attention set is empty get exactly 0 from both terms (Mllama's row mask, docs/model.md §7)."""

    def __init__(self, config: LlmConfig):
        super().__init__()
        self.attn_gate = nn.Parameter(torch.zeros(1))
        self.ff_gate = nn.Parameter(torch.zeros(1))
        self.norm1 = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.attn = CrossAttention(config)
        self.norm2 = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.mlp = Qwen2MLP(config.hidden_size, config.intermediate_size)

    def forward(self, x, memory, mask):
        """x [B, T, d]; memory [B, M, d]; mask [B, T, M] bool."""
        has_memory = mask.any(dim=-1, keepdim=True)                     # [B, T, 1]
        # An empty row would softmax over nothing (NaN): let it attend everywhere, then zero it.
        safe_mask = mask | ~has_memory
        row = has_memory.to(x.dtype)
        x = x + torch.tanh(self.attn_gate).to(x.dtype) * (self.attn(self.norm1(x), memory, safe_mask) * row)
        return x + torch.tanh(self.ff_gate).to(x.dtype) * (self.mlp(self.norm2(x)) * row)


# ---------------------------------------------------------------------------------------------
# The language model: Qwen2 with optional cross-attention blocks (docs/model.md §5, §7)
# ---------------------------------------------------------------------------------------------

class Qwen2Model(nn.Module):
    def __init__(self, config: LlmConfig, xattn_every=None):
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(Qwen2DecoderLayer(config) for _ in range(config.num_layers))
        self.norm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        # A block sits before decoder layer i whenever (i+1) % every == 0 (docs/model.md §7).
        self.xattn_before = {}
        if xattn_every:
            slots = [i for i in range(config.num_layers) if (i + 1) % xattn_every == 0]
            self.xattn_layers = nn.ModuleList(GatedCrossAttention(config) for _ in slots)
            self.xattn_before = {layer: block for block, layer in enumerate(slots)}

    def forward(self, inputs_embeds, memory=None, memory_mask=None):
        t = inputs_embeds.shape[1]
        device = inputs_embeds.device
        cos, sin = rope_cos_sin(t, self.config.head_dim, self.config.rope_base(t), inputs_embeds.dtype, device)
        causal = torch.ones(t, t, dtype=torch.bool, device=device).tril()[None, None]
        x = inputs_embeds
        for i, layer in enumerate(self.layers):
            if i in self.xattn_before and memory is not None:
                x = self.xattn_layers[self.xattn_before[i]](x, memory, memory_mask)
            x = layer(x, cos, sin, causal)
        return self.norm(x)


class LanguageModel(nn.Module):
    """`language_model.model.*` and `language_model.lm_head.weight` (docs/model.md §9); lm_head is the
    embedding matrix when tie_word_embeddings (and then not a separate tensor)."""

    def __init__(self, config: LlmConfig, xattn_every=None):
        super().__init__()
        self.model = Qwen2Model(config, xattn_every)
        self.tied = config.tie_word_embeddings
        if not self.tied:
            self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)

    def forward(self, inputs_embeds, memory=None, memory_mask=None):
        hidden = self.model(inputs_embeds, memory, memory_mask)
        weight = self.model.embed_tokens.weight if self.tied else self.lm_head.weight
        return F.linear(hidden, weight.to(hidden.dtype))


# ---------------------------------------------------------------------------------------------
# Batch (docs/model.md §10)
# ---------------------------------------------------------------------------------------------

BATCH_FIELDS = ("input_ids", "labels", "pixel_values", "image_tiles", "image_row", "tile_tag_ids",
                "media_image", "media_tile")


@dataclass
class Batch:
    input_ids: torch.Tensor      # I64 [B, T]
    labels: torch.Tensor         # I64 [B, T]
    pixel_values: torch.Tensor   # F32 [N, 3, S, S]
    image_tiles: torch.Tensor    # I64 [I]
    image_row: torch.Tensor      # I64 [I]
    tile_tag_ids: torch.Tensor   # I64 [N, L]
    media_image: torch.Tensor    # I64 [B, T]
    media_tile: torch.Tensor     # I64 [B, T]

    @staticmethod
    def from_arrays(arrays, where="batch"):
        missing = [k for k in BATCH_FIELDS if k not in arrays]
        if missing:
            raise ValueError(f"{where}: missing tensors {missing}")
        t = {k: torch.from_numpy(np.array(arrays[k])) for k in BATCH_FIELDS}
        for k in BATCH_FIELDS:
            want = torch.float32 if k == "pixel_values" else torch.int64
            if t[k].dtype != want:
                raise ValueError(f"{where}: {k} has dtype {t[k].dtype}, expected {want}")
        batch = Batch(**t)
        batch.validate(where)
        return batch

    @staticmethod
    def load(path):
        return Batch.from_arrays(st_io.load_file(path), where=path)

    def to_arrays(self):
        return {k: getattr(self, k).cpu().numpy() for k in BATCH_FIELDS}

    def to(self, device):
        return Batch(**{k: getattr(self, k).to(device) for k in BATCH_FIELDS})

    @property
    def tile_offsets(self):
        """Index in pixel_values of each image's first tile."""
        return torch.cumsum(self.image_tiles, 0) - self.image_tiles

    def validate(self, where="batch"):
        b, t = self.input_ids.shape
        for k in ("labels", "media_image", "media_tile"):
            if tuple(getattr(self, k).shape) != (b, t):
                raise ValueError(f"{where}: {k} shape {tuple(getattr(self, k).shape)}, expected {(b, t)} like input_ids")
        n = self.pixel_values.shape[0]
        if self.pixel_values.dim() != 4 or self.pixel_values.shape[1] != 3:
            raise ValueError(f"{where}: pixel_values shape {tuple(self.pixel_values.shape)}, expected [N, 3, S, S]")
        images = self.image_tiles.shape[0]
        if self.image_row.shape != (images,):
            raise ValueError(f"{where}: image_row shape {tuple(self.image_row.shape)}, expected [{images}]")
        if int(self.image_tiles.sum()) != n or (images and int(self.image_tiles.min()) < 1):
            raise ValueError(f"{where}: image_tiles {self.image_tiles.tolist()} must be >= 1 and sum to "
                             f"the {n} tiles of pixel_values")
        if self.tile_tag_ids.dim() != 2 or self.tile_tag_ids.shape[0] != n:
            raise ValueError(f"{where}: tile_tag_ids shape {tuple(self.tile_tag_ids.shape)}, expected [{n}, L]")
        if images and (int(self.image_row.min()) < 0 or int(self.image_row.max()) >= b):
            raise ValueError(f"{where}: image_row {self.image_row.tolist()} outside rows 0..{b - 1}")
        if images > 1 and bool((self.image_row[1:] < self.image_row[:-1]).any()):
            raise ValueError(f"{where}: image_row {self.image_row.tolist()} is not in batch order (docs/model.md §10)")
        m = self.media_image
        if int(m.min()) < -1 or int(m.max()) >= images:
            raise ValueError(f"{where}: media_image values must be in [-1, {images}), got "
                             f"[{int(m.min())}, {int(m.max())}]")
        rows = torch.arange(b)[:, None].expand(b, t)
        seen = m >= 0
        if bool((self.image_row[m[seen]] != rows[seen]).any()):
            raise ValueError(f"{where}: media_image points to an image of another batch row (see image_row)")
        tile = self.media_tile
        if bool((tile[~seen] != -1).any()):
            raise ValueError(f"{where}: media_tile is set where media_image is -1")
        if bool((tile[seen] >= self.image_tiles[m[seen]]).any()) or int(tile.min()) < -1:
            raise ValueError(f"{where}: media_tile outside [-1, tiles of its image)")


# ---------------------------------------------------------------------------------------------
# The three architectures (docs/model.md §7, consuming a batch as docs/model.md §10 says)
# ---------------------------------------------------------------------------------------------

class NvlmModel(nn.Module):
    """Shared parts: InternViT -> pixel shuffle -> projector, and the language model."""

    def __init__(self, config: NvlmConfig):
        super().__init__()
        self.config = config
        self.vision_model = InternVisionModel(config.vision)
        self.mlp1 = projector(config)
        self.language_model = LanguageModel(config.llm, config.xattn_every)

    @property
    def embed_tokens(self):
        return self.language_model.model.embed_tokens

    def image_features(self, pixel_values):
        """[N, 3, S, S] -> [N, T_img, d] (docs/model.md §7)."""
        if pixel_values.shape[-1] != self.config.vision.image_size:
            raise ValueError(f"pixel_values tiles are {pixel_values.shape[-1]} px, config image_size is "
                             f"{self.config.vision.image_size}")
        return self.mlp1(pixel_shuffle(self.vision_model(pixel_values)))

    def embed_with_images(self, input_ids, features, what):
        """Embeddings of input_ids with the image-context positions replaced, in row-major order,
        by the rows of features [K, d] (docs/model.md §7 NVLM-D)."""
        embeds = self.embed_tokens(input_ids)
        context = (input_ids == self.config.token("image_context")).reshape(-1)
        count = int(context.sum())
        if count != features.shape[0]:
            raise ValueError(f"batch: input_ids holds {count} image-context tokens "
                             f"(id {self.config.token('image_context')}) but {what} gives {features.shape[0]} "
                             f"image tokens")
        if count == 0:
            return embeds
        b, t, d = embeds.shape
        flat = embeds.reshape(b * t, d).index_copy(0, context.nonzero().squeeze(1), features.to(embeds.dtype))
        return flat.reshape(b, t, d)

    def forward(self, batch: Batch):
        raise NotImplementedError

    def loss(self, batch: Batch):
        logits = self(batch)
        return logits, causal_lm_loss(logits, batch.labels)


class NvlmD(NvlmModel):
    """Decoder-only: the image-context positions receive all tiles' projected tokens in
    pixel_values order; their count must be N * T_img (docs/model.md §10)."""

    def forward(self, batch: Batch):
        n = batch.pixel_values.shape[0]
        if n:
            features = self.image_features(batch.pixel_values.to(self.embed_tokens.weight.dtype))
            features = features.reshape(-1, features.shape[-1])
        else:
            features = self.embed_tokens.weight.new_zeros(0, self.config.llm.hidden_size)
        what = f"pixel_values ({n} tiles x T_img {self.config.tokens_per_tile})"
        return self.language_model(self.embed_with_images(batch.input_ids, features, what))


def memory_layout(batch: Batch, tokens_per_tile, regular_tiles_only, tag_ids_before_tiles):
    """The cross-attention memory of each batch row, as indices.

    Each row's memory is its images' memories back to back, images in batch order. Returns
    (source [B, M]: index into the rows of cat(tile tokens [N*T_img], tag ids [K]) or -1 for
    padding, tag_ids [K]: the tag token ids to embed, slot_image [B, M], slot_tile [B, M]).
    X: every tile (thumbnail last). H: the regular tiles only, each preceded by its tag's tokens.
    """
    rows = batch.input_ids.shape[0]
    tiles = batch.image_tiles.tolist()
    offsets = batch.tile_offsets.tolist()
    tag_table = batch.tile_tag_ids.tolist()
    base = sum(tiles) * tokens_per_tile
    per_row = [([], [], []) for _ in range(rows)]
    tag_ids = []
    for m, (row, count, first) in enumerate(zip(batch.image_row.tolist(), tiles, offsets)):
        source, slot_image, slot_tile = per_row[row]
        # H: a single-tile image has no regular tiles (its tile went into the sequence).
        kept = range(count - 1) if regular_tiles_only else range(count)
        for k in kept:
            if tag_ids_before_tiles:
                for token in tag_table[first + k]:
                    if token >= 0:
                        source.append(base + len(tag_ids))
                        tag_ids.append(token)
                        slot_image.append(m)
                        slot_tile.append(k)
            start = (first + k) * tokens_per_tile
            source.extend(range(start, start + tokens_per_tile))
            slot_image.extend([m] * tokens_per_tile)
            slot_tile.extend([k] * tokens_per_tile)
    width = max([len(r[0]) for r in per_row] + [1])
    source = torch.full((rows, width), -1, dtype=torch.int64)
    slot_image = torch.full((rows, width), -2, dtype=torch.int64)  # -2: matches no media_image
    slot_tile = torch.full((rows, width), -2, dtype=torch.int64)
    for b, (s, i, k) in enumerate(per_row):
        source[b, :len(s)] = torch.tensor(s, dtype=torch.int64)
        slot_image[b, :len(i)] = torch.tensor(i, dtype=torch.int64)
        slot_tile[b, :len(k)] = torch.tensor(k, dtype=torch.int64)
    return source, torch.tensor(tag_ids, dtype=torch.int64), slot_image, slot_tile


def gather_memory(source, parts, hidden_size, like):
    """memory [B, M, d] = cat(parts)[source], padding slots (-1) zero."""
    pool = torch.cat([p.reshape(-1, hidden_size).to(like.dtype) for p in parts] + [like.new_zeros(1, hidden_size)])
    index = torch.where(source >= 0, source, torch.full_like(source, pool.shape[0] - 1)).to(like.device)
    return pool[index]


class NvlmX(NvlmModel):
    """Gated cross-attention: no image-context tokens in the sequence. Memory of image m = its
    tiles' tokens in order; media_tile = j attends to tile j only, other positions with
    media_image = m to all of m's tiles, media_image = -1 to nothing (docs/model.md §7, §10)."""

    def forward(self, batch: Batch):
        context = int((batch.input_ids == self.config.token("image_context")).sum())
        if context:
            raise ValueError(f"batch: NVLM-X takes no image-context tokens, input_ids holds {context} "
                             f"(id {self.config.token('image_context')})")
        embeds = self.embed_tokens(batch.input_ids)
        d = self.config.llm.hidden_size
        parts = []
        if batch.pixel_values.shape[0]:
            parts.append(self.image_features(batch.pixel_values.to(self.embed_tokens.weight.dtype)))
        source, _, slot_image, slot_tile = memory_layout(batch, self.config.tokens_per_tile, False, False)
        memory = gather_memory(source, parts, d, embeds)
        media_image, media_tile = batch.media_image[:, :, None], batch.media_tile[:, :, None]
        slot_image, slot_tile = slot_image.to(embeds.device)[:, None, :], slot_tile.to(embeds.device)[:, None, :]
        mask = (media_image == slot_image) & ((media_tile == -1) | (media_tile == slot_tile))
        return self.language_model(embeds, memory, mask)


class NvlmH(NvlmModel):
    """Hybrid: each image's thumbnail (its single tile when image_tiles = 1) goes into the
    sequence; memory of image m = per regular tile, emb(tag tokens) then the tile's tokens;
    media_image = m attends to all of m's memory (docs/model.md §7, §10)."""

    def forward(self, batch: Batch):
        d = self.config.llm.hidden_size
        t_img = self.config.tokens_per_tile
        images = batch.image_tiles.shape[0]
        parts = []
        if batch.pixel_values.shape[0]:
            features = self.image_features(batch.pixel_values.to(self.embed_tokens.weight.dtype))
            thumbnails = (batch.tile_offsets + batch.image_tiles - 1).to(features.device)
            parts.append(features)
            in_sequence = features[thumbnails].reshape(-1, d)
        else:
            in_sequence = self.embed_tokens.weight.new_zeros(0, d)
        embeds = self.embed_with_images(batch.input_ids, in_sequence,
                                        f"the thumbnails of {images} images x T_img {t_img}")
        source, tag_ids, slot_image, _ = memory_layout(batch, t_img, True, True)
        if tag_ids.numel():
            parts.append(self.embed_tokens(tag_ids.to(embeds.device)))
        if not parts:
            parts.append(embeds.new_zeros(0, d))
        memory = gather_memory(source, parts, d, embeds)
        mask = batch.media_image[:, :, None] == slot_image.to(embeds.device)[:, None, :]
        return self.language_model(embeds, memory, mask)


ARCHITECTURES = {"D": NvlmD, "X": NvlmX, "H": NvlmH}


def build_model(config: NvlmConfig):
    return ARCHITECTURES[config.architecture](config)


# ---------------------------------------------------------------------------------------------
# Loss (docs/model.md §8)
# ---------------------------------------------------------------------------------------------

def causal_lm_loss(logits, labels):
    """Logits at t predict labels at t+1; -100 ignored; mean over all labelled tokens of the batch."""
    shifted_logits = logits[:, :-1].reshape(-1, logits.shape[-1])
    targets = labels[:, 1:].reshape(-1).to(logits.device)
    count = int((targets != IGNORE_INDEX).sum())
    if count == 0:
        raise ValueError("batch: no labelled tokens after the shift (every label is -100)")
    total = F.cross_entropy(shifted_logits.to(_compute_dtype(shifted_logits)), targets,
                            ignore_index=IGNORE_INDEX, reduction="sum")
    return total / count


# ---------------------------------------------------------------------------------------------
# Checkpoints (docs/model.md §9): our names, transformers' InternVL names, strict loading
# ---------------------------------------------------------------------------------------------

# docs/model.md §9 name -> transformers' InternVLForConditionalGeneration name, for the names that map one
# to one. `{l}` is a vision layer index, `{rest}` any suffix. The Java loader mirrors this table.
HF_NAMES = {
    "vision_model.embeddings.class_embedding": "model.vision_tower.embeddings.cls_token",
    "vision_model.embeddings.position_embedding": "model.vision_tower.embeddings.position_embeddings",
    "vision_model.embeddings.patch_embedding.weight": "model.vision_tower.embeddings.patch_embeddings.projection.weight",
    "vision_model.embeddings.patch_embedding.bias": "model.vision_tower.embeddings.patch_embeddings.projection.bias",
    "vision_model.encoder.layers.{l}.attn.q_norm.weight": "model.vision_tower.encoder.layer.{l}.attention.q_norm.weight",
    "vision_model.encoder.layers.{l}.attn.k_norm.weight": "model.vision_tower.encoder.layer.{l}.attention.k_norm.weight",
    "vision_model.encoder.layers.{l}.attn.proj.weight": "model.vision_tower.encoder.layer.{l}.attention.projection_layer.weight",
    "vision_model.encoder.layers.{l}.attn.proj.bias": "model.vision_tower.encoder.layer.{l}.attention.projection_layer.bias",
    "vision_model.encoder.layers.{l}.ls1": "model.vision_tower.encoder.layer.{l}.lambda_1",
    "vision_model.encoder.layers.{l}.ls2": "model.vision_tower.encoder.layer.{l}.lambda_2",
    "vision_model.encoder.layers.{l}.mlp.fc1.weight": "model.vision_tower.encoder.layer.{l}.mlp.fc1.weight",
    "vision_model.encoder.layers.{l}.mlp.fc1.bias": "model.vision_tower.encoder.layer.{l}.mlp.fc1.bias",
    "vision_model.encoder.layers.{l}.mlp.fc2.weight": "model.vision_tower.encoder.layer.{l}.mlp.fc2.weight",
    "vision_model.encoder.layers.{l}.mlp.fc2.bias": "model.vision_tower.encoder.layer.{l}.mlp.fc2.bias",
    "vision_model.encoder.layers.{l}.norm1.weight": "model.vision_tower.encoder.layer.{l}.layernorm_before.weight",
    "vision_model.encoder.layers.{l}.norm1.bias": "model.vision_tower.encoder.layer.{l}.layernorm_before.bias",
    "vision_model.encoder.layers.{l}.norm2.weight": "model.vision_tower.encoder.layer.{l}.layernorm_after.weight",
    "vision_model.encoder.layers.{l}.norm2.bias": "model.vision_tower.encoder.layer.{l}.layernorm_after.bias",
    "mlp1.0.weight": "model.multi_modal_projector.layer_norm.weight",
    "mlp1.0.bias": "model.multi_modal_projector.layer_norm.bias",
    "mlp1.1.weight": "model.multi_modal_projector.linear_1.weight",
    "mlp1.1.bias": "model.multi_modal_projector.linear_1.bias",
    "mlp1.3.weight": "model.multi_modal_projector.linear_2.weight",
    "mlp1.3.bias": "model.multi_modal_projector.linear_2.bias",
    # The decoder, and the cross-attention blocks (no transformers counterpart: same prefix move).
    "language_model.model.{rest}": "model.language_model.{rest}",
    "language_model.lm_head.weight": "lm_head.weight",
}
# The fused vision qkv is three tensors in transformers: rows [0:W], [W:2W], [2W:3W] (docs/model.md §2).
HF_SPLIT_NAMES = {
    "vision_model.encoder.layers.{l}.attn.qkv.{kind}": (
        "model.vision_tower.encoder.layer.{l}.attention.q_proj.{kind}",
        "model.vision_tower.encoder.layer.{l}.attention.k_proj.{kind}",
        "model.vision_tower.encoder.layer.{l}.attention.v_proj.{kind}"),
}


def _template_regex(template):
    pattern = re.escape(template)
    pattern = pattern.replace(re.escape("{l}"), r"(?P<l>\d+)").replace(re.escape("{rest}"), r"(?P<rest>.+)")
    pattern = pattern.replace(re.escape("{kind}"), r"(?P<kind>weight|bias)")
    return re.compile("^" + pattern + "$")


def _translate(name, table):
    for source, target in table.items():
        match = _template_regex(source).match(name)
        if match:
            if isinstance(target, tuple):
                return tuple(t.format(**match.groupdict()) for t in target)
            return target.format(**match.groupdict())
    return None


def to_hf_names(tensors):
    """docs/model.md §9 names -> transformers' InternVL names (qkv split in three)."""
    out = {}
    for name, value in tensors.items():
        split = _translate(name, HF_SPLIT_NAMES)
        if split:
            for part, hf_name in zip(np.split(np.asarray(value), 3, axis=0), split):
                out[hf_name] = part
            continue
        hf_name = _translate(name, HF_NAMES)
        if hf_name is None:
            raise ValueError(f"no transformers name for {name!r}")
        out[hf_name] = value
    return out


def from_hf_names(tensors):
    """transformers' InternVL names -> docs/model.md §9 names (q/k/v joined); other names unchanged."""
    reverse = {v: k for k, v in HF_NAMES.items()}
    out, pieces = {}, {}
    split_reverse = {}
    for ours, parts in HF_SPLIT_NAMES.items():
        for position, hf in enumerate(parts):
            split_reverse[hf] = (ours, position)
    for name, value in tensors.items():
        found = None
        for hf, (ours, position) in split_reverse.items():
            match = _template_regex(hf).match(name)
            if match:
                found = (ours.format(**match.groupdict()), position)
                break
        if found:
            pieces.setdefault(found[0], {})[found[1]] = value
            continue
        ours = _translate(name, reverse)
        out[ours if ours is not None else name] = value
    for name, parts in pieces.items():
        if sorted(parts) != [0, 1, 2]:
            raise ValueError(f"checkpoint: {name!r} needs q_proj, k_proj and v_proj; found only parts {sorted(parts)}")
        out[name] = np.concatenate([parts[0], parts[1], parts[2]], axis=0)
    return out


def uses_hf_names(names):
    return any(n.startswith("model.") or n == "lm_head.weight" for n in names)


class CheckpointMismatch(ValueError):
    """Every missing, unexpected and wrong-shaped tensor of a checkpoint, in one error."""


def check_state_dict(model, tensors, where):
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    wrong = sorted(f"{k}: checkpoint {tuple(np.shape(tensors[k]))}, model {expected[k]}"
                   for k in set(expected) & set(tensors) if tuple(np.shape(tensors[k])) != expected[k])
    if missing or unexpected or wrong:
        lines = [f"{where}: checkpoint does not match the model"]
        lines += [f"  missing: {k}" for k in missing]
        lines += [f"  unexpected: {k}" for k in unexpected]
        lines += [f"  wrong shape: {k}" for k in wrong]
        raise CheckpointMismatch("\n".join(lines))


def load_model(model_dir, dtype=torch.float64, device="cpu"):
    """config.json + checkpoint (single or sharded, F32/BF16/F16, docs/model.md §9 or transformers names)
    -> model in `dtype` on `device`. Strict: any missing/unexpected/wrong-shaped tensor is an error."""
    config = NvlmConfig.load(model_dir)
    tensors = st_io.load_checkpoint(model_dir)
    if uses_hf_names(tensors):
        tensors = from_hf_names(tensors)
    pos = tensors.get("vision_model.embeddings.position_embedding")
    if pos is not None:
        grid = int(round(math.sqrt(pos.shape[1] - 1)))
        if grid * grid == pos.shape[1] - 1 and grid != config.vision.grid:
            config.vision.position_grid = grid
    model = build_model(config)
    check_state_dict(model, tensors, model_dir)
    model.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in tensors.items()},
                          strict=True)
    return model.to(device=device, dtype=dtype)


def state_dict_arrays(model):
    """Parameters as float32 numpy arrays, docs/model.md §9 names."""
    return {k: v.detach().to("cpu", torch.float32).numpy() for k, v in model.state_dict().items()}
