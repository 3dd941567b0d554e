#!/usr/bin/env python3
"""Regenerate the golden fixtures of the Java parity tests.

    make_goldens.py [--out tests/reference/golden] [--check]

For each architecture, `tiny-<arch>/` holds config.json, batch.safetensors and
expected.safetensors (logits F32 [B,T,V], loss F32 [], grad.<name> F32 for every parameter),
computed in float64 from the f32 weights. The weights themselves are not stored: config.json's
"init" block names the counter-based scheme and seed that rebuild them bit for bit
(README.md, "Weight initialisation"), which keeps the fixtures small.

`tiny-h-hf-bf16-sharded/` is a full checkpoint as a Hugging Face tool would write it
(transformers' InternVL names, BF16, sharded with an index) with the logits and loss of
tiny-h's batch on it: the "checkpoint written by the Python side" acceptance fixture.

--check regenerates into a temporary folder and compares with the files in --out.
"""
import argparse
import os
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import make_batch  # noqa: E402
import make_model  # noqa: E402
import nvlm_ref  # noqa: E402
import run_ref  # noqa: E402
import st_io  # noqa: E402

SEED = 20240911  # the paper's arXiv month, any fixed number would do
HF_VARIANT = "tiny-h-hf-bf16-sharded"


def write_golden(folder, arch, scratch):
    config = make_model.make_config(arch, "tiny", seed=SEED, random_gates=True)
    model_dir = os.path.join(scratch, arch)
    make_model.write_model(model_dir, config, SEED, random_gates=True)
    os.makedirs(folder, exist_ok=True)
    shutil.copy(os.path.join(model_dir, "config.json"), os.path.join(folder, "config.json"))
    # One image of 2x1 tiles + thumbnail and one single-tile image in one row, a text-only row.
    arrays = make_batch.make_batch(nvlm_ref.NvlmConfig.from_dict(config), SEED, rows=1, tiles=[3, 1],
                                   text_only_rows=1)
    batch_path = os.path.join(folder, "batch.safetensors")
    st_io.save_file(arrays, batch_path)
    logits, loss, grads = run_ref.run(model_dir, batch_path, grads=True, dtype="float64")
    expected = {"logits": logits, "loss": loss}
    expected.update({"grad." + k: v for k, v in grads.items()})
    st_io.save_file(expected, os.path.join(folder, "expected.safetensors"), dtype="F32")


def write_hf_variant(folder, batch_path):
    config = make_model.make_config("H", "tiny", seed=SEED, random_gates=True)
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    make_model.write_model(folder, config, SEED, dtype="bf16", shard_bytes=1_000_000, hf_names=True,
                           random_gates=True)
    logits, loss, _ = run_ref.run(folder, batch_path, grads=False, dtype="float64")
    st_io.save_file({"logits": logits, "loss": loss}, os.path.join(folder, "expected.safetensors"), dtype="F32")


def generate(out):
    scratch = tempfile.mkdtemp(prefix="nvlm-golden-")
    try:
        for arch in ("D", "X", "H"):
            write_golden(os.path.join(out, f"tiny-{arch.lower()}"), arch, scratch)
        write_hf_variant(os.path.join(out, HF_VARIANT), os.path.join(out, "tiny-h", "batch.safetensors"))
    finally:
        shutil.rmtree(scratch)


def compare(expected_dir, actual_dir):
    """Differences between two golden trees, as readable lines (empty when they agree)."""
    problems = []
    for root, _, files in os.walk(expected_dir):
        for name in sorted(files):
            if name == "README.md":
                continue
            want_path = os.path.join(root, name)
            got_path = os.path.join(actual_dir, os.path.relpath(want_path, expected_dir))
            if not os.path.exists(got_path):
                problems.append(f"{got_path}: not regenerated")
            elif name.endswith(".safetensors") and name.startswith("expected"):
                want, got = st_io.load_file(want_path), st_io.load_file(got_path)
                for key in sorted(set(want) | set(got)):
                    if key not in want or key not in got:
                        problems.append(f"{want_path}: tensor {key} only on one side")
                        continue
                    scale = max(float(np.abs(want[key]).max(initial=0.0)), 1e-30)
                    # float64 results rounded to F32: BLAS summation order may move the last bit.
                    if float(np.abs(want[key] - got[key]).max(initial=0.0)) > 1e-6 * scale:
                        problems.append(f"{want_path}: tensor {key} differs")
            else:
                with open(want_path, "rb") as a, open(got_path, "rb") as b:
                    if a.read() != b.read():
                        problems.append(f"{want_path}: bytes differ")
    return problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "golden"))
    ap.add_argument("--check", action="store_true", help="regenerate elsewhere and compare with --out")
    args = ap.parse_args(argv)
    if not args.check:
        generate(args.out)
        print(f"wrote goldens under {args.out}")
        return
    fresh = tempfile.mkdtemp(prefix="nvlm-golden-check-")
    try:
        generate(fresh)
        problems = compare(args.out, fresh)
    finally:
        shutil.rmtree(fresh)
    if problems:
        raise SystemExit("goldens differ from a fresh run:\n" + "\n".join(problems))
    print(f"goldens under {args.out} are reproduced")


if __name__ == "__main__":
    main()
