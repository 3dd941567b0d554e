"""numpy (OpenBLAS) peer for `./nvlm bench gemm`.

Runs as a server so the Java side can interleave its own timings with these in one run (on a
shared machine, load changes between minutes, and interleaving keeps the ratio honest).
Protocol, one JSON object per line:
  started:  prints {"ready": true, "numpy": version, "blas": config summary}
            or {"error": why} and exits (numpy missing, ...)
  request:  {"batch": B, "m": M, "n": N, "k": K, "layout": "nn" | "nt" | "tn", "samples": S,
             "min_seconds": T}   (batch > 1: B independent products, numpy's stacked matmul)
  reply:    {"seconds": [per-call seconds of each sample]}
The thread count is the caller's: it sets OPENBLAS_NUM_THREADS / OMP_NUM_THREADS before start.
"""
import json
import sys
import time


def main():
    try:
        import numpy as np
    except Exception as e:  # any import failure means no peer, never a crash of the benchmark
        print(json.dumps({"error": "numpy is not importable by %s: %s" % (sys.executable, e)}), flush=True)
        return
    blas = "unknown"
    try:
        cfg = np.show_config(mode="dicts")
        info = cfg.get("Build Dependencies", {}).get("blas", {})
        blas = "%s %s" % (info.get("name", "?"), info.get("version", "?"))
    except Exception:
        pass
    print(json.dumps({"ready": True, "numpy": np.__version__, "blas": blas}), flush=True)
    rng = np.random.default_rng(0)
    cache = {}
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        batch, m, n, k = req.get("batch", 1), req["m"], req["n"], req["k"]
        layout = req.get("layout", "nn")
        key = (batch, m, n, k, layout)
        if key not in cache:
            cache.clear()  # keep one shape's operands alive at a time
            lead = (batch,) if batch > 1 else ()
            a = rng.uniform(-1, 1, lead + ((k, m) if layout == "tn" else (m, k))).astype(np.float32)
            b = rng.uniform(-1, 1, lead + ((n, k) if layout == "nt" else (k, n))).astype(np.float32)
            # Transposed views: numpy hands BLAS the transpose flag, it does not copy.
            a = np.swapaxes(a, -1, -2) if layout == "tn" else a
            b = np.swapaxes(b, -1, -2) if layout == "nt" else b
            cache[key] = (a, b, np.empty(lead + (m, n), dtype=np.float32))
        a, b, c = cache[key]
        np.matmul(a, b, out=c)  # warm-up: thread pool start, page faults of c
        start = time.perf_counter()
        iters = 0
        while iters < 2 or time.perf_counter() - start < 0.02:
            np.matmul(a, b, out=c)
            iters += 1
        once = (time.perf_counter() - start) / iters
        per_sample = max(1, int(req.get("min_seconds", 0.05) / once))
        seconds = []
        for _ in range(req.get("samples", 5)):
            start = time.perf_counter()
            for _ in range(per_sample):
                np.matmul(a, b, out=c)
            seconds.append((time.perf_counter() - start) / per_sample)
        # OpenBLAS workers busy-wait for a while after a call; let them go idle before the Java
        # side times its next sample, or they would steal its cores.
        time.sleep(0.1)
        print(json.dumps({"seconds": seconds}), flush=True)


if __name__ == "__main__":
    main()
