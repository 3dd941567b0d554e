"""Compare two training run folders: per-step loss (metrics.jsonl) and every tensor of RUN/model/.

    python3 bench/python/compare_runs.py RUN_A RUN_B

Prints the largest relative loss difference, the worst tensor (largest difference over that tensor's
largest magnitude) and the fraction of elements that differ by more than 1e-5 of their tensor's
scale. Used for the hand-run checks of docs/results.md (a TP x DP grid against one process). The
model folders are read with tests/reference/st_io.py (single file or sharded, BF16 widened).
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "reference"))
import st_io  # noqa: E402


def losses(path):
    return [json.loads(line)["loss"] for line in open(path) if '"loss"' in line]


def main(a, b):
    la, lb = losses(f"{a}/metrics.jsonl"), losses(f"{b}/metrics.jsonl")
    if len(la) != len(lb):
        raise SystemExit(f"{a} logged {len(la)} losses, {b} {len(lb)}")
    print(f"losses: {len(la)} steps, largest relative difference {max(abs(x - y) / abs(x) for x, y in zip(la, lb)):.3g}")
    ta, tb = st_io.load_checkpoint(f"{a}/model"), st_io.load_checkpoint(f"{b}/model")
    if ta.keys() != tb.keys():
        raise SystemExit(f"the models hold different tensors: {sorted(set(ta) ^ set(tb))}")
    worst, worst_name, off, total = 0.0, None, 0, 0
    for name in ta:
        scale = float(np.abs(ta[name]).max()) or 1.0
        diff = np.abs(ta[name] - tb[name])
        if diff.max() / scale > worst:
            worst, worst_name = float(diff.max() / scale), name
        off += int((diff > 1e-5 * scale).sum())
        total += ta[name].size
    print(f"weights: {len(ta)} tensors, worst {worst:.3g} of its scale ({worst_name}); "
          f"{off} of {total} elements ({off / total:.2g}) off by more than 1e-5 of their tensor's scale")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
