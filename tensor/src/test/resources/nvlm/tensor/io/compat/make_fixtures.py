#!/usr/bin/env python3
"""Writes the safetensors compatibility fixtures with numpy only, following the format itself
(REFERENCE.md section 6), independently of the Java code under test.

  python3 make_fixtures.py OUT_DIR

aligned.safetensors  : the layout of the Rust writer since 0.3 (header padded with spaces to a
                       multiple of 8; tensors widest dtype first, then by name).
legacy_unpadded.safetensors : the layout of older writers (no padding, tensors in name order), so
                       tensors sit at odd file offsets.
SafetensorsCompatibilityTest checks the values below, and that this script still writes the
checked-in bytes.
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np


def bf16(values):
    """float32 -> bfloat16 bits by truncation; every value used is exact in bfloat16."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32)
    assert np.all(bits & 0xFFFF == 0), "not exact in bfloat16"
    return (bits >> 16).astype("<u2")


TENSORS = {
    # name: (safetensors dtype, shape, little-endian array)
    "bf16": ("BF16", [2, 3], bf16([-2.0, -1.5, 0.0, 0.5, 1.0, 3.25])),
    "f16": ("F16", [4], np.array([0.1, -65504.0, 6.103515625e-05, np.inf], dtype="<f2")),
    "f32": ("F32", [2, 2], np.array([1.5, -0.0, 3.4028234663852886e38, 1e-45], dtype="<f4")),
    "i32": ("I32", [3], np.array([-2147483648, 0, 2147483647], dtype="<i4")),
    "i64": ("I64", [2, 1], np.array([-9223372036854775808, 42], dtype="<i8")),
    "scalar": ("F32", [], np.array(7.25, dtype="<f4")),
    "empty": ("I64", [0, 3], np.zeros((0, 3), dtype="<i8")),
}
METADATA = {"format": "pt", "source": "numpy"}
RUST_DTYPE_ORDER = ["F16", "BF16", "I32", "F32", "I64"]  # the Rust Dtype enum, ascending


def write(path, names, pad):
    header = {"__metadata__": METADATA}
    offset = 0
    for name in names:
        dtype, shape, array = TENSORS[name]
        size = array.nbytes
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    if pad:
        text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in names:
            f.write(np.ascontiguousarray(TENSORS[name][2]).tobytes())


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    aligned = sorted(TENSORS, key=lambda n: (-RUST_DTYPE_ORDER.index(TENSORS[n][0]), n))
    write(out / "aligned.safetensors", aligned, pad=True)
    write(out / "legacy_unpadded.safetensors", sorted(TENSORS), pad=False)


if __name__ == "__main__":
    main()
