#!/usr/bin/env python3
"""Run the reference on a model folder and a batch; write logits, loss and gradients (docs/model.md §10).

    run_ref.py --model DIR --batch B.safetensors --out O.safetensors [--grads]
               [--dtype float64|float32] [--device cpu|cuda]

Output: `logits` F32 [B,T,V], `loss` F32 [] and, with --grads, `grad.<name>` F32 for every
parameter (vision included), docs/model.md §9 names whatever names the checkpoint used. The default
float64 casts the stored weights up: the goldens are the exact function, rounded once to F32.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import nvlm_ref  # noqa: E402
import st_io  # noqa: E402

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def run(model_dir, batch_path, grads=False, dtype="float64", device="cpu"):
    """(logits, loss, {name: grad}) as numpy float32 arrays."""
    model = nvlm_ref.load_model(model_dir, dtype=DTYPES[dtype], device=device)
    batch = nvlm_ref.Batch.load(batch_path).to(device)
    model.zero_grad(set_to_none=True)
    with torch.set_grad_enabled(grads):
        logits, loss = model.loss(batch)
        if grads:
            loss.backward()
    gradients = {}
    if grads:
        for name, param in model.named_parameters():
            g = param.grad if param.grad is not None else torch.zeros_like(param)
            gradients[name] = g.detach().to("cpu", torch.float32).numpy()
    return (logits.detach().to("cpu", torch.float32).numpy(),
            loss.detach().to("cpu", torch.float32).numpy().reshape(()), gradients)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--grads", action="store_true", help="also write grad.<name> for every parameter")
    ap.add_argument("--dtype", default="float64", choices=sorted(DTYPES))
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = ap.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("run_ref.py: --device cuda but torch.cuda.is_available() is false")
    started = time.perf_counter()
    logits, loss, gradients = run(args.model, args.batch, args.grads, args.dtype, args.device)
    out = {"logits": logits, "loss": loss}
    out.update({"grad." + name: g for name, g in gradients.items()})
    st_io.save_file(out, args.out, dtype="F32")
    print(f"wrote {args.out}: logits {list(logits.shape)}, loss {float(loss):.6f}, "
          f"{len(gradients)} gradients, {args.dtype} on {args.device}, {time.perf_counter() - started:.2f}s")


if __name__ == "__main__":
    main()
