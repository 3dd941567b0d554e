"""Folders as published on Hugging Face, read onto this reference with the published code's semantics.

Three layouts (docs/model.md §9, §10; ../shared/REAL_MODELS.md for the checked facts):
- `NVLM_D` (NVLM-D-72B): InternViT-6B style vision (RMSNorm, qk-norm, no qkv bias) with zero-padded
  dummy heads up to a multiple of 8 heads, `mlp1` without linear biases and a hidden width of the
  LLM's intermediate size, a Qwen2 decoder that the config calls "llama" (q/k/v biases), dynamic NTK
  RoPE when `rope_scaling` asks for it;
- `internvl_chat` (InternVL2): InternViT-300M style vision (LayerNorm, qkv bias), `mlp1` with biases
  and the LLM's hidden width, a Qwen2 decoder;
- `qwen2` (a bare `Qwen2ForCausalLM`): the decoder alone, stored as `model.*` and `lm_head.weight`.

The image-context id is the tokenizer's `<|vision_pad|>` (NVLM-D) or `<IMG_CONTEXT>` (InternVL2),
read from `tokenizer_config.json`'s `added_tokens_decoder`.
"""
import json
import os

import numpy as np
import torch

import nvlm_ref
import st_io


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def added_tokens(model_dir):
    """content -> id of tokenizer_config.json's added_tokens_decoder."""
    config = _read_json(os.path.join(model_dir, "tokenizer_config.json"))
    return {v["content"]: int(k) for k, v in config["added_tokens_decoder"].items()}


def llm_config(l):
    """A published Qwen2 (or NVLM-D's "llama"-typed Qwen2) config -> the reference's LlmConfig."""
    if l.get("architectures") != ["Qwen2ForCausalLM"]:
        raise ValueError(f"architectures {l.get('architectures')!r}: only Qwen2ForCausalLM is read")
    factor = 1.0
    scaling = l.get("rope_scaling")
    if scaling:
        kind = scaling.get("rope_type", scaling.get("type"))
        if kind == "dynamic":
            factor = float(scaling["factor"])
        elif kind != "default":
            raise ValueError(f"rope_scaling type {kind!r}: only dynamic is read")
    return nvlm_ref.LlmConfig(
        hidden_size=l["hidden_size"], num_layers=l["num_hidden_layers"], num_heads=l["num_attention_heads"],
        num_kv_heads=l.get("num_key_value_heads", l["num_attention_heads"]), intermediate_size=l["intermediate_size"],
        vocab_size=l["vocab_size"], rms_norm_eps=l.get("rms_norm_eps", 1e-6), rope_theta=l.get("rope_theta", 1e6),
        tie_word_embeddings=l.get("tie_word_embeddings", False), rope_scaling_factor=factor,
        max_position_embeddings=l.get("max_position_embeddings", 32768))


def read_config(model_dir):
    """-> ("qwen2", LlmConfig) for a bare Qwen2 folder, else (model_type, NvlmConfig of architecture D)."""
    cfg = _read_json(os.path.join(model_dir, "config.json"))
    kind = cfg.get("model_type")
    if kind == "qwen2":
        return kind, llm_config(cfg)
    if kind not in ("NVLM_D", "internvl_chat"):
        raise ValueError(f"{model_dir}: model_type {kind!r}: NVLM_D, internvl_chat or qwen2")
    nvlm = kind == "NVLM_D"
    v = cfg["vision_config"]
    heads = v["num_attention_heads"]
    vision = nvlm_ref.VisionConfig(
        image_size=v["image_size"], patch_size=v["patch_size"], hidden_size=v["hidden_size"], num_heads=heads,
        num_layers=v["num_hidden_layers"], intermediate_size=v["intermediate_size"], norm_type=v["norm_type"],
        norm_eps=v.get("layer_norm_eps", 1e-6), qk_normalization=v.get("qk_normalization", False),
        qkv_bias=v.get("qkv_bias", False),
        # NVLM-D's InternViT-6B pads its 25 heads with zero heads to 32 (REAL_MODELS.md).
        num_dummy_heads=(8 - heads % 8) % 8 if nvlm else 0)
    llm = llm_config(cfg["llm_config"])
    tokens = added_tokens(model_dir)
    context = tokens["<|vision_pad|>" if nvlm else "<IMG_CONTEXT>"]
    return kind, nvlm_ref.NvlmConfig(
        architecture="D", vision=vision, llm=llm, downsample_ratio=cfg.get("downsample_ratio", 0.5),
        projector_hidden_size=llm.intermediate_size if nvlm else llm.hidden_size, projector_bias=not nvlm,
        tokens={"image_context": context})


class TextModel(torch.nn.Module):
    """A bare Qwen2ForCausalLM: `model.*` and `lm_head.weight`, exactly the reference LanguageModel's names."""

    def __init__(self, config: nvlm_ref.LlmConfig):
        super().__init__()
        self.language_model = nvlm_ref.LanguageModel(config)

    def forward(self, batch):
        if batch.pixel_values.shape[0]:
            raise ValueError("a text-only model takes no images")
        lm = self.language_model
        return lm(lm.model.embed_tokens(batch.input_ids))


def build(model_dir):
    """The model a published folder describes, with random (not yet loaded) weights, and its name map."""
    kind, config = read_config(model_dir)
    if kind == "qwen2":
        return kind, config, TextModel(config)
    return kind, config, nvlm_ref.build_model(config)


def stored_names(kind, model):
    """Reference parameter name -> the name the published folder stores it under."""
    names = model.state_dict().keys()
    if kind == "qwen2":
        return {n: n[len("language_model."):] for n in names}
    return {n: n for n in names}


def load(model_dir, dtype=torch.float64):
    """A published folder's model with its weights (strict: every name and shape), in `dtype`."""
    kind, config, model = build(model_dir)
    tensors = st_io.load_checkpoint(model_dir)
    names = stored_names(kind, model)
    renamed = {ref: tensors[stored] for ref, stored in names.items() if stored in tensors}
    nvlm_ref.check_state_dict(model, renamed, model_dir)
    unexpected = sorted(set(tensors) - set(names.values()))
    if unexpected:
        raise nvlm_ref.CheckpointMismatch(f"{model_dir}: unexpected tensors {unexpected}")
    model.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in renamed.items()}, strict=True)
    return kind, config, model.to(dtype=dtype)
