#!/usr/bin/env python3
"""The PyTorch side of the CUDA backend's device check (bench/gpu/device-check.sh), in one process
so torch is imported once:

    torch_peers.py --work WORK --out torch.json [--sections gemm,attention,train] [--train-steps 10]

- gemm: torch.matmul of random bf16 [n, n] matrices (uniform in [-1, 1)) at n = 4096 and 8192;
  CUDA events around each product, 5 warm-ups, median of 20 (never time zeros).
- attention: F.scaled_dot_product_attention, B=4, H=8, T=1024 and 4096, d=64, causal, forward and
  backward timed separately (events), in float32 (what the Java kernels compute) and bfloat16.
- train: tests/reference/bench_train.py's bench() on the small-preset model folders and batches the
  Java check wrote (WORK/models/{d,x,h}), float32 and bf16 autocast, eager mode.
Every section is in its own try; results (and errors) go to the JSON file.
"""
import argparse
import json
import os
import statistics
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "..", "tests", "reference")
sys.path.insert(0, REFERENCE)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def timed(fn, warmup, repeats):
    """Milliseconds of each call after warm-up, from CUDA events around it."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return times


def gemm():
    rows = []
    for n in (4096, 8192):
        g = torch.Generator(device="cuda").manual_seed(n)
        a = torch.rand(n, n, device="cuda", dtype=torch.bfloat16, generator=g) * 2 - 1
        b = torch.rand(n, n, device="cuda", dtype=torch.bfloat16, generator=g) * 2 - 1
        ms = timed(lambda: torch.matmul(a, b), 5, 20)
        median = statistics.median(ms)
        rows.append({"size": n, "torch_ms": median, "torch_tflops": 2 * n ** 3 / (median * 1e-3) / 1e12,
                     "spread_ms": [min(ms), max(ms)]})
        print(f"TORCH gemm bf16 {n}^3: median {median:.3f} ms = {rows[-1]['torch_tflops']:.1f} TFLOP/s", flush=True)
        del a, b
    return rows


def attention():
    rows = []
    batch, heads, d = 4, 8, 64
    for t in (1024, 4096):
        for dtype in (torch.float32, torch.bfloat16):
            g = torch.Generator(device="cuda").manual_seed(t)
            q, k, v, dout = (torch.randn(batch, heads, t, d, device="cuda", dtype=dtype, generator=g) for _ in range(4))
            q.requires_grad_(True)
            k.requires_grad_(True)
            v.requires_grad_(True)
            repeats = 5 if t > 2048 else 10
            fwd = statistics.median(timed(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True), 1, repeats))
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)

            def backward():
                torch.autograd.grad(out, (q, k, v), dout, retain_graph=True)
            bwd = statistics.median(timed(backward, 1, repeats))
            name = "f32" if dtype == torch.float32 else "bf16"
            rows.append({"tokens": t, "dtype": name, "forward_ms": fwd, "backward_ms": bwd})
            print(f"TORCH sdpa {name} causal B={batch} H={heads} T={t} d={d}: forward {fwd:.3f} ms, "
                  f"backward {bwd:.3f} ms", flush=True)
            del q, k, v, dout, out
    return rows


def train(work, steps):
    import bench_train
    rows = []
    for arch in ("d", "x", "h"):
        model_dir = os.path.join(work, "models", arch)
        batch = os.path.join(model_dir, "batch.safetensors")
        for dtype in ("float32", "bf16"):
            row = {"arch": arch.upper(), "dtype": dtype}
            try:
                result = bench_train.bench(model_dir, batch, steps, warmup=3, device="cuda", dtype=dtype)
                row.update(result)
                print(f"TORCH train small {arch.upper()} {dtype}: {result['torch_samples_per_s']:.2f} samples/s "
                      f"(median step {result['median_step_s'] * 1e3:.1f} ms, loss {result['first_loss']:.4f} -> "
                      f"{result['last_loss']:.4f})", flush=True)
            except Exception as e:  # noqa: BLE001 - one failure must not hide the other runs
                row["error"] = f"{type(e).__name__}: {e}"
                traceback.print_exc()
            rows.append(row)
            torch.cuda.empty_cache()
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sections", default="gemm,attention,train")
    ap.add_argument("--train-steps", type=int, default=10)
    args = ap.parse_args()
    report = {"torch": torch.__version__, "errors": []}
    try:
        report["device"] = torch.cuda.get_device_name(0)
    except Exception as e:  # noqa: BLE001 - write the JSON anyway, with the reason
        report["errors"].append(f"no CUDA device: {type(e).__name__}: {e}")
        with open(args.out, "w") as f:
            json.dump(report, f, indent=2)
        raise SystemExit(f"torch_peers.py: no CUDA device ({e})")
    for section in args.sections.split(","):
        started = time.perf_counter()
        try:
            if section == "gemm":
                report["gemm"] = gemm()
            elif section == "attention":
                report["attention"] = attention()
            elif section == "train":
                report["train"] = train(args.work, args.train_steps)
            else:
                raise ValueError(f"unknown section {section}")
        except Exception as e:  # noqa: BLE001
            report["errors"].append(f"{section}: {type(e).__name__}: {e}")
            traceback.print_exc()
        print(f"TORCH section {section} done in {time.perf_counter() - started:.1f} s", flush=True)
        with open(args.out + ".tmp", "w") as f:
            json.dump(report, f, indent=2)
        os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
