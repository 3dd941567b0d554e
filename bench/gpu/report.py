#!/usr/bin/env python3
"""Prints the device check's one table from the Java and PyTorch results (no torch import).

    report.py java.json torch.json

Targets: parity checks pass; BF16 GEMM at 8192^3 >= 0.95x torch.matmul; training
samples/s of D, X and H at the small preset >= 0.8x PyTorch eager (the Java default, bf16
products, against the faster of PyTorch's float32 and bf16-autocast runs).
"""
import json
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except Exception as e:  # noqa: BLE001 - a missing side still gets a table
        return {"errors": [f"{path}: {type(e).__name__}: {e}"]}


def fmt(v, spec=".3g"):
    return "-" if v is None else format(v, spec)


def main():
    java = load(sys.argv[1])
    torch = load(sys.argv[2])
    rows = []

    def add(section, item, ours, peer, ratio, target, verdict):
        rows.append((section, item, ours, peer, ratio, target, verdict))

    ops = java.get("ops", [])
    failed = [o for o in ops if not o.get("passed")]
    add("ops vs CPU", f"{len(ops)} checks, 2 seeds", f"{len(ops) - len(failed)} pass", "", "", "all pass",
        "PASS" if ops and not failed else "FAIL")
    for o in failed[:8]:
        add("  failed", o["name"], fmt(o.get("error")), f"tol {fmt(o.get('tolerance'), '.0e')}", "", "",
            (o.get("detail") or "")[:40])
    for m in java.get("models", []):
        ours = (f"logit {fmt(m.get('logits_max_rel'), '.1e')} grad {fmt(m.get('grad_worst_rel'), '.1e')}"
                if "error" not in m else m["error"][:40])
        add("model vs CPU", f"{m['name']} {m['precision'].lower()}", ours, "", "", "tol", "PASS" if m.get("passed") else "FAIL")

    peer_gemm = {g["size"]: g for g in torch.get("gemm", [])}
    for g in java.get("gemm", []):
        p = peer_gemm.get(g["size"], {})
        ratio = g.get("binding_tflops") / p["torch_tflops"] if g.get("binding_tflops") and p.get("torch_tflops") else None
        target = ">=0.95" if g["size"] == 8192 else ""
        verdict = "" if g["size"] != 8192 else ("PASS" if ratio and ratio >= 0.95 else "FAIL")
        add("gemm bf16 TFLOP/s", f"{g['size']}^3 cuBLAS binding", fmt(g.get("binding_tflops"), ".1f"),
            fmt(p.get("torch_tflops"), ".1f"), fmt(ratio, ".3f"), target, verdict)
        add("", f"{g['size']}^3 Backend.matmul f32 out", fmt(g.get("backend_tflops"), ".1f"), "", "", "", "")

    peer_attn = {(a["tokens"], a["dtype"]): a for a in torch.get("attention", [])}
    for a in java.get("attention", []):
        p32 = peer_attn.get((a["tokens"], "f32"), {})
        p16 = peer_attn.get((a["tokens"], "bf16"), {})
        ours = (a.get("forward_ms") or 0) + (a.get("backward_ms") or 0) if "error" not in a else None
        peer = (p32.get("forward_ms") or 0) + (p32.get("backward_ms") or 0) if p32 else None
        add("attention ms f32", f"T={a['tokens']} fwd+bwd (fwd/bwd)",
            f"{fmt(ours, '.2f')} ({fmt(a.get('forward_ms'), '.2f')}/{fmt(a.get('backward_ms'), '.2f')})",
            f"{fmt(peer, '.2f')} (bf16 {fmt((p16.get('forward_ms') or 0) + (p16.get('backward_ms') or 0) if p16 else None, '.2f')})",
            fmt(peer / ours if ours and peer else None, ".3f"), "report", "")

    peer_train = {}
    for t in torch.get("train", []):
        peer_train[(t["arch"], t["dtype"])] = t.get("torch_samples_per_s")
    java_train = {(t["arch"], t["precision"]): t for t in java.get("train", [])}
    for arch in ("D", "X", "H"):
        bf16 = java_train.get((arch, "BF16"), {})
        f32 = java_train.get((arch, "F32"), {})
        tf32, tbf16 = peer_train.get((arch, "float32")), peer_train.get((arch, "bf16"))
        best = max([v for v in (tf32, tbf16) if v] or [0]) or None
        ours = bf16.get("samples_per_s")
        ratio = ours / best if ours and best else None
        add("train small samples/s", f"{arch} java bf16 | f32", f"{fmt(ours, '.1f')} | {fmt(f32.get('samples_per_s'), '.1f')}",
            f"f32 {fmt(tf32, '.1f')} bf16 {fmt(tbf16, '.1f')}", fmt(ratio, ".2f"), ">=0.8",
            "PASS" if ratio and ratio >= 0.8 else "FAIL")
        if bf16.get("launches_per_step"):
            add("", f"{arch} per step (bf16)", f"{bf16['launches_per_step']:.0f} launches {bf16['gemms_per_step']:.0f} gemm",
                f"{bf16.get('median_step_ms', 0):.1f} ms", "", "", f"{bf16.get('waits_per_step', 0):.0f} waits")

    nccl = java.get("nccl", {})
    if nccl:
        checks = nccl.get("checks", [])
        passed = sum(1 for c in checks if c.get("passed"))
        add("nccl, one rank", f"version {nccl.get('version', '?')}: collectives, Reducer",
            f"{passed}/{len(checks)} pass", "", "", "all", "PASS" if checks and passed == len(checks) else "FAIL")
        for c in checks:
            if not c.get("passed"):
                add("  failed", c["name"], c.get("error") or "wrong result", "", "", "", "")
        if nccl.get("reducer_buckets"):
            add("", "D gradients: buckets (during backward)",
                f"{nccl['reducer_buckets']} ({nccl.get('reducer_launched_during_backward')})", "", "", "", "")

    device = java.get("device", {})
    print()
    print(f"== nvlm CUDA backend device check: {device.get('name', '?')} | torch {torch.get('torch', '?')} "
          f"on {torch.get('device', '?')} | seed {java.get('seed', '?')} | kernels compiled in "
          f"{fmt(device.get('kernel_compile_s'), '.1f')} s")
    widths = [22, 34, 30, 26, 7, 8, 10]
    header = ("section", "item", "java", "torch", "ratio", "target", "result")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for r in rows:
        print("  ".join(str(c)[:w].ljust(w) for c, w in zip(r, widths)))
    for e in java.get("errors", []) + torch.get("errors", []) + ([device["error"]] if "error" in device else []):
        print("ERROR", e[:200])


if __name__ == "__main__":
    main()
