#!/usr/bin/env python3
"""An independent reader of safetensors files (numpy only, REFERENCE.md section 6), used to check
files the Java writer produced:

  python3 read_safetensors.py FILE...

prints one JSON object: {"torch": bool, "safetensors": bool, "files": {FILE: {"metadata": {...},
"tensors": {NAME: {"dtype", "shape", "sha256", "bits"}}}}}, where "bits" are the elements as
integers: I32/I64 values, F32 bits, and BF16/F16 widened to float32 bits (so Java can compare its
own widening). When PyTorch is importable, BF16 and F16 are also widened by torch and must agree;
when the safetensors package is importable, it loads each file too and must agree.
Exits non-zero with a message on any violation of the format.
"""
import hashlib
import json
import struct
import sys

import numpy as np

try:
    import torch
except ImportError:
    torch = None
try:
    import safetensors.numpy as st_numpy
except ImportError:
    st_numpy = None

SIZES = {"F32": 4, "BF16": 2, "F16": 2, "I32": 4, "I64": 8, "BOOL": 1}


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def widen_to_f32_bits(dtype, raw):
    if dtype == "BF16":
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
    elif dtype == "F16":
        bits = np.frombuffer(raw, dtype="<f2").astype(np.float32).view(np.uint32)
    elif dtype == "F32":
        bits = np.frombuffer(raw, dtype="<u4")
    elif dtype == "I32":
        return np.frombuffer(raw, dtype="<i4").astype(np.int64)
    elif dtype == "BOOL":
        return np.frombuffer(raw, dtype="u1").astype(np.int64)
    else:
        return np.frombuffer(raw, dtype="<i8")
    if torch is not None and dtype in ("BF16", "F16") and len(raw) > 0:
        t = torch.frombuffer(bytearray(raw), dtype=torch.bfloat16 if dtype == "BF16" else torch.float16)
        via_torch = t.float().numpy().view(np.uint32)
        ours = bits.view(np.float32)
        theirs = via_torch.view(np.float32)
        same = (bits == via_torch) | (np.isnan(ours) & np.isnan(theirs))
        if not np.all(same):
            fail(f"torch widens {dtype} differently")
    return bits


def read(path):
    data = open(path, "rb").read()
    if len(data) < 8:
        fail(f"{path}: shorter than 8 bytes")
    (n,) = struct.unpack("<Q", data[:8])
    if n % 8 != 0:
        fail(f"{path}: header length {n} is not a multiple of 8")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    buffer = data[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    end = 0
    for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"]):
        dtype, shape, (begin, stop) = info["dtype"], info["shape"], info["data_offsets"]
        if begin != end:
            fail(f"{path}: {name} begins at {begin}, previous tensor ends at {end}")
        if (8 + n + begin) % SIZES[dtype] != 0:
            fail(f"{path}: {name} is not naturally aligned")
        if stop - begin != int(np.prod(shape, dtype=np.int64)) * SIZES[dtype]:
            fail(f"{path}: {name} size disagrees with its shape")
        end = stop
        raw = buffer[begin:stop]
        tensors[name] = {
            "dtype": dtype,
            "shape": shape,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "bits": [int(v) for v in widen_to_f32_bits(dtype, raw)],
        }
    if end != len(buffer):
        fail(f"{path}: tensors end at {end} but the buffer has {len(buffer)} bytes")
    if st_numpy is not None:
        loaded = st_numpy.load_file(path) if "BF16" not in {t["dtype"] for t in tensors.values()} else None
        if loaded is not None:
            for name, array in loaded.items():
                if hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest() != tensors[name]["sha256"]:
                    fail(f"{path}: safetensors reads {name} differently")
    return {"metadata": metadata, "tensors": tensors}


def main():
    files = {path: read(path) for path in sys.argv[1:]}
    print(json.dumps({"torch": torch is not None, "safetensors": st_numpy is not None, "files": files}))


if __name__ == "__main__":
    main()
