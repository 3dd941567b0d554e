#!/usr/bin/env python3
"""Time full training steps of the reference: the PyTorch peer of `./nvlm bench train`.

    bench_train.py --model DIR --batch B.safetensors --steps N [--warmup W] [--threads 2]
                   [--device cpu|cuda] [--dtype float32|bf16] [--freeze-vision] [--json]
    bench_train.py --model DIR --batch B.safetensors --serve [--warmup W] [...]

--serve is for interleaved timing (`./nvlm bench train`): after loading and W warm-up steps it
prints {"ready": true, ...}, then for each line K read on stdin runs K steps and prints
{"seconds": [...], "losses": [...]}; it ends at end of input. Its threads wait passively between
requests, so the other side of the comparison runs on a quiet machine.

A step is forward, loss, backward and an AdamW step over every trainable parameter (all of them,
or all but the vision encoder with --freeze-vision, as in docs/model.md §11's recipe). After W warm-up
steps, N steps are timed one by one (CUDA synchronised around each); the figure is
batch rows / median step time. --json prints one JSON object whose first field is
"torch_samples_per_s". bf16 means float32 weights under bf16 autocast (mixed precision).

Threads: on CPU, torch.set_num_threads(threads) and OpenBLAS's pool of the same size; OpenMP
threads wait passively by default (--omp-wait-policy). On a shared, loaded machine the default
active spinning of libgomp made a 2-thread step 20-60x slower than 1 thread here; both are
environment variables read once when torch loads, so they are set before importing it.
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def _torch():
    """torch and the reference, imported on first use so that main() can set the thread
    environment first."""
    import torch
    import nvlm_ref
    return torch, nvlm_ref


def train_step_timer(model, batch, optimizer, device, autocast_dtype):
    torch, _ = _torch()

    def step():
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        if autocast_dtype is not None:
            with torch.autocast(device_type=device, dtype=autocast_dtype):
                _, loss = model.loss(batch)
        else:
            _, loss = model.loss(batch)
        loss.backward()
        optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - started, float(loss.detach())
    return step


def prepare(model_dir, batch_path, threads=2, device="cpu", dtype="float32", freeze_vision=False, lr=1e-5):
    """The step function and batch of one timed configuration (model and optimizer inside)."""
    torch, nvlm_ref = _torch()
    if device == "cpu":
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = nvlm_ref.load_model(model_dir, dtype=torch.float32, device=device)
    model.train()
    if freeze_vision:
        model.vision_model.requires_grad_(False)
    batch = nvlm_ref.Batch.load(batch_path).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    # docs/model.md §11's AdamW settings (betas, weight decay) at a small learning rate.
    optimizer = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95), weight_decay=0.05)
    step = train_step_timer(model, batch, optimizer, device, torch.bfloat16 if dtype == "bf16" else None)
    return step, batch, params


def bench(model_dir, batch_path, steps, warmup=2, threads=2, device="cpu", dtype="float32",
          freeze_vision=False, lr=1e-5):
    torch, _ = _torch()
    step, batch, params = prepare(model_dir, batch_path, threads, device, dtype, freeze_vision, lr)
    for _ in range(warmup):
        step()
    times, losses = [], []
    for _ in range(steps):
        seconds, loss = step()
        times.append(seconds)
        losses.append(loss)
    median = statistics.median(times)
    rows = int(batch.input_ids.shape[0])
    return {
        "torch_samples_per_s": rows / median,
        "median_step_s": median,
        "batch_rows": rows,
        "tokens_per_row": int(batch.input_ids.shape[1]),
        "tiles": int(batch.pixel_values.shape[0]),
        "steps": steps,
        "warmup": warmup,
        "threads": threads if device == "cpu" else None,
        "device": device,
        "dtype": dtype,
        "freeze_vision": freeze_vision,
        "trainable_parameters": sum(p.numel() for p in params),
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "torch_version": torch.__version__,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
    }


def serve(args):
    """Interleaved timing: K steps per request line on stdin, one JSON line of their times back."""
    torch, _ = _torch()
    step, batch, _ = prepare(args.model, args.batch, args.threads, args.device, args.dtype, args.freeze_vision, args.lr)
    for _ in range(args.warmup):
        step()
    print(json.dumps({"ready": True, "batch_rows": int(batch.input_ids.shape[0]),
                      "tokens_per_row": int(batch.input_ids.shape[1]), "torch_version": torch.__version__,
                      "threads": args.threads if args.device == "cpu" else None}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        k = int(line)
        seconds, losses = [], []
        for _ in range(k):
            t, loss = step()
            seconds.append(t)
            losses.append(loss)
        print(json.dumps({"seconds": seconds, "losses": losses}), flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads on CPU")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--dtype", default="float32", choices=["float32", "bf16"])
    ap.add_argument("--freeze-vision", action="store_true")
    ap.add_argument("--lr", type=float, default=1e-5)
    ap.add_argument("--omp-wait-policy", default="passive", choices=["passive", "active"])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--serve", action="store_true", help="interleaved timing: K steps per line of stdin")
    args = ap.parse_args(argv)
    # Before torch loads: libgomp and OpenBLAS read these once.
    os.environ.setdefault("OMP_WAIT_POLICY", args.omp_wait_policy.upper())
    if args.device == "cpu":
        os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    torch, _ = _torch()
    if args.steps < 1:
        raise SystemExit("bench_train.py: --steps must be >= 1")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench_train.py: --device cuda but torch.cuda.is_available() is false")
    if args.serve:
        serve(args)
        return
    result = bench(args.model, args.batch, args.steps, args.warmup, args.threads, args.device, args.dtype,
                   args.freeze_vision, args.lr)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['torch_samples_per_s']:.2f} samples/s (median step {result['median_step_s'] * 1e3:.1f} ms, "
              f"{result['batch_rows']} rows x {result['tokens_per_row']} tokens, {result['tiles']} tiles, "
              f"{args.device} {args.dtype}, torch {torch.__version__})")


if __name__ == "__main__":
    main()
