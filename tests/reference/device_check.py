#!/usr/bin/env python3
"""The checks that need the GPU machine (PyTorch 2.x with CUDA, transformers, safetensors).

    python3 device_check.py [--out DIR] [--budget-s S]

1. the self-tests under this PyTorch (CPU), warnings listed;
2. safetensors interop: st_io's files read by the `safetensors` package and the reverse, bf16 too;
3. transformers parity: a --hf-names NVLM-D checkpoint loads strictly into transformers'
   InternVLForConditionalGeneration and gives the reference's logits (6B and 300M vision);
4. device parity: run_ref on CUDA (float64, float32) and on CPU float32 against CPU float64;
5. training-step throughput (bench_train) on CUDA (float32, bf16) and on CPU with 2 threads.
Prints one JSON object and writes it to DIR/device_check.json.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import make_batch  # noqa: E402
import make_model  # noqa: E402
import nvlm_ref  # noqa: E402
import run_ref  # noqa: E402
import st_io  # noqa: E402

SCRATCH = tempfile.mkdtemp(prefix="nvlm-device-")


def relative_max(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def model_and_batch(arch, preset="tiny", tiles=(3, 1), rows=1, text_only_rows=1, **config_args):
    folder = os.path.join(SCRATCH, f"{arch}-{preset}-{len(os.listdir(SCRATCH))}")
    config = make_model.make_config(arch, preset, seed=4, random_gates=True, **config_args)
    make_model.write_model(folder, config, 4, random_gates=True)
    batch = os.path.join(folder, "batch.safetensors")
    arrays = make_batch.make_batch(nvlm_ref.NvlmConfig.from_dict(config), 4, rows=rows, tiles=list(tiles),
                                   text_only_rows=text_only_rows)
    st_io.save_file(arrays, batch)
    return folder, batch


def self_tests(out):
    proc = subprocess.run([sys.executable, "-W", "always", "-m", "unittest", "test_ref"], cwd=HERE,
                          capture_output=True, text=True)
    with open(os.path.join(out, "self_tests.log"), "w") as f:
        f.write(proc.stdout + proc.stderr)
    lines = proc.stderr.splitlines()
    warnings = sorted({l.strip() for l in lines if "Warning" in l and "tests/reference" in l})
    return {"ok": proc.returncode == 0, "summary": [l for l in lines if l.startswith(("Ran ", "OK", "FAILED"))],
            "failures": [l for l in lines if l.startswith(("FAIL:", "ERROR:"))], "our_warnings": warnings}


def safetensors_interop():
    import safetensors.numpy
    import safetensors.torch
    rng = np.random.default_rng(0)
    ours = {"f32": rng.standard_normal((3, 5)).astype(np.float32), "f16": rng.standard_normal(7).astype(np.float16),
            "i64": np.arange(4, dtype=np.int64), "i32": np.arange(6, dtype=np.int32).reshape(2, 3),
            "scalar": np.array(1.5, np.float32)}
    path = os.path.join(SCRATCH, "ours.safetensors")
    st_io.save_file(ours, path)
    theirs = safetensors.numpy.load_file(path)
    read_ok = all(np.array_equal(theirs[k], v) and theirs[k].dtype == v.dtype for k, v in ours.items())
    values = rng.standard_normal(1000).astype(np.float32)
    values[:4] = [1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8, -(1.0 + 2 ** -8), np.inf]  # ties and inf
    st_io.save_file({"w": values}, path, dtype="BF16")
    torch_bf16 = safetensors.torch.load_file(path)["w"]
    bf16_ok = torch.equal(torch_bf16, torch.from_numpy(values).to(torch.bfloat16))
    path2 = os.path.join(SCRATCH, "theirs.safetensors")
    source = {"a": torch.randn(3, 4).to(torch.bfloat16), "b": torch.randn(5).half(), "c": torch.arange(6),
              "d": torch.randn(2, 2), "e": torch.arange(3, dtype=torch.int32)}
    safetensors.torch.save_file(source, path2, metadata={"format": "pt"})
    back = st_io.load_file(path2)
    reverse_ok = all(np.array_equal(back[k], v.float().numpy() if v.dtype == torch.bfloat16 else v.numpy())
                     for k, v in source.items())
    return {"ok": read_ok and bf16_ok and reverse_ok, "safetensors_reads_st_io": read_ok,
            "bf16_rounding_equals_torch": bf16_ok, "st_io_reads_safetensors": reverse_ok,
            "safetensors_version": getattr(safetensors, "__version__", "?")}


def hf_parity(vision_style):
    import transformers
    from transformers import InternVLConfig, InternVLForConditionalGeneration
    config = make_model.make_config("D", "tiny", seed=5, vision_style=vision_style)
    # transformers' InternVL projector is LayerNorm -> 4C x d -> GELU -> d x d: hidden = d.
    config["projector"]["hidden_size"] = config["llm"]["hidden_size"]
    folder = os.path.join(SCRATCH, f"hf-{vision_style}")
    make_model.write_model(folder, config, 5, hf_names=True)
    v, l = config["vision"], config["llm"]
    vision_config = dict(hidden_size=v["hidden_size"], num_hidden_layers=v["num_layers"],
                         num_attention_heads=v["num_heads"], intermediate_size=v["intermediate_size"],
                         image_size=v["image_size"], patch_size=v["patch_size"], norm_type=v["norm_type"],
                         layer_norm_eps=v["norm_eps"], use_qk_norm=v["qk_normalization"],
                         attention_bias=v["qkv_bias"], hidden_act="gelu", use_mean_pooling=True,
                         layer_scale_init_value=0.1)
    text_config = dict(model_type="qwen2", vocab_size=l["vocab_size"], hidden_size=l["hidden_size"],
                       intermediate_size=l["intermediate_size"], num_hidden_layers=l["num_layers"],
                       num_attention_heads=l["num_heads"], num_key_value_heads=l["num_kv_heads"],
                       rms_norm_eps=l["rms_norm_eps"], tie_word_embeddings=False, max_position_embeddings=4096,
                       rope_parameters={"rope_type": "default", "rope_theta": l["rope_theta"]})
    common = dict(vision_config=vision_config, image_token_id=config["tokens"]["image_context"],
                  downsample_ratio=0.5, projector_hidden_act="gelu", vision_feature_layer=-1,
                  vision_feature_select_strategy="default", tie_word_embeddings=False)
    try:
        hf_config = InternVLConfig(text_config=text_config, **common)
    except TypeError:
        text_config.pop("rope_parameters")
        hf_config = InternVLConfig(text_config=dict(text_config, rope_theta=l["rope_theta"]), **common)
    hf = InternVLForConditionalGeneration(hf_config).eval()
    tensors = {k: torch.from_numpy(np.array(a)) for k, a in st_io.load_checkpoint(folder).items()}
    loaded = hf.load_state_dict(tensors, strict=False)
    ours = nvlm_ref.load_model(folder, torch.float64)
    batch = nvlm_ref.Batch.from_arrays(make_batch.make_batch(ours.config, 5, rows=1, tiles=[3, 1], text_only_rows=1))
    with torch.no_grad():
        reference = ours(batch).numpy()
        hf32 = hf(input_ids=batch.input_ids, pixel_values=batch.pixel_values).logits.double().numpy()
        hf64 = hf.double()(input_ids=batch.input_ids, pixel_values=batch.pixel_values.double()).logits.numpy()
    return {"ok": not loaded.missing_keys and not loaded.unexpected_keys and relative_max(hf32, reference) < 1e-4,
            "missing": list(loaded.missing_keys), "unexpected": list(loaded.unexpected_keys),
            "logits_max_rel_hf_f32_vs_ref_f64": relative_max(hf32, reference),
            "logits_max_rel_hf_f64_vs_ref_f64": relative_max(hf64, reference),
            "transformers_version": transformers.__version__}


def device_parity(arch):
    folder, batch = model_and_batch(arch)
    base_logits, base_loss, base_grads = run_ref.run(folder, batch, True, "float64", "cpu")
    out = {}
    for label, dtype, device in (("cuda_f64", "float64", "cuda"), ("cuda_f32", "float32", "cuda"),
                                 ("cpu_f32", "float32", "cpu")):
        logits, loss, grads = run_ref.run(folder, batch, True, dtype, device)
        grad_rel = max(float(np.linalg.norm(grads[k] - g) / np.linalg.norm(g))
                       for k, g in base_grads.items() if np.linalg.norm(g) > 0)
        out[label] = {"logits_max_rel": relative_max(logits, base_logits),
                      "loss_rel": abs(float(loss - base_loss)) / abs(float(base_loss)),
                      "worst_grad_rel_norm": grad_rel}
    out["ok"] = out["cuda_f64"]["logits_max_rel"] < 1e-10 and out["cuda_f32"]["logits_max_rel"] < 1e-4
    return out


def bench_cuda(preset):
    import bench_train
    out = {}
    for arch in ("D", "X", "H"):
        folder, batch = model_and_batch(arch, preset, tiles=(7, 7), rows=2, text_only_rows=0)
        for dtype in ("float32", "bf16"):
            r = bench_train.bench(folder, batch, steps=10, warmup=3, device="cuda", dtype=dtype)
            out[f"{arch}_{dtype}"] = {k: r[k] for k in ("torch_samples_per_s", "median_step_s", "tokens_per_row",
                                                         "tiles", "last_loss")}
    out["ok"] = True
    return out


def bench_cpu(preset, steps):
    out = {}
    for arch in ("D", "X", "H"):
        folder, batch = model_and_batch(arch, preset, tiles=(7, 7), rows=2, text_only_rows=0)
        proc = subprocess.run([sys.executable, os.path.join(HERE, "bench_train.py"), "--model", folder, "--batch",
                               batch, "--steps", str(steps), "--warmup", "1", "--threads", "2", "--json"],
                              capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(proc.stderr[-2000:])
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        out[arch] = {k: r[k] for k in ("torch_samples_per_s", "median_step_s", "tokens_per_row", "tiles")}
    out["ok"] = True
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--budget-s", type=float, default=400, help="skip the remaining checks after this many seconds")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    started = time.perf_counter()
    results = {"torch": torch.__version__, "cuda": torch.cuda.is_available(),
               "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    checks = [("self_tests", lambda: self_tests(args.out)),
              ("safetensors_interop", safetensors_interop),
              ("hf_parity_6b", lambda: hf_parity("6b")),
              ("hf_parity_300m", lambda: hf_parity("300m")),
              ("device_parity_D", lambda: device_parity("D")),
              ("device_parity_X", lambda: device_parity("X")),
              ("device_parity_H", lambda: device_parity("H")),
              ("bench_cuda_tiny", lambda: bench_cuda("tiny")),
              ("bench_cuda_small", lambda: bench_cuda("small")),
              ("bench_cpu_2threads_tiny", lambda: bench_cpu("tiny", 5)),
              ("bench_cpu_2threads_small", lambda: bench_cpu("small", 3))]
    for name, run in checks:
        if time.perf_counter() - started > args.budget_s:
            results[name] = {"ok": None, "skipped": "time budget"}
            continue
        t0 = time.perf_counter()
        try:
            results[name] = run()
        except Exception:
            results[name] = {"ok": False, "error": traceback.format_exc()[-3000:]}
        results[name]["seconds"] = round(time.perf_counter() - t0, 1)
        print(name, json.dumps(results[name])[:3000], flush=True)
    with open(os.path.join(args.out, "device_check.json"), "w") as f:
        json.dump(results, f, indent=1)
    print("ALL_OK" if all(r.get("ok") is not False for r in results.values() if isinstance(r, dict)) else "SOME_FAILED")


if __name__ == "__main__":
    main()
