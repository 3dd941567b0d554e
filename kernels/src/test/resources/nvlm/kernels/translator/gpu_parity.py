"""Runs translated kernels on a GPU and compares with what their Java methods computed on the CPU.

Reads DIR/manifest.json (written by ParityCase.writeForGpu, e.g. through
`mvn test -Dnvlm.gpuParityDir=DIR`): per launch, the kernel's CUDA C (compiled here with NVRTC
through CuPy, as a CUDA runtime would, with the case's options), its grid, its scalar arguments
and input buffers, and the buffers the Java method left on the CPU, with a tolerance
(atol + rtol * |expected|; 0 and 0 means bit for bit; integers always exactly).
Usage: python3 gpu_parity.py DIR
"""
import json
import struct
import sys
import time

import cupy as cp
import numpy as np

np.seterr(all="ignore")  # NaN and infinity are compared explicitly

DTYPES = {"f32": np.float32, "bf16": np.uint16, "f16": np.uint16, "i32": np.int32, "i64": np.int64, "i8": np.int8}


def as_float(dtype, raw):
    if dtype == "bf16":
        return (raw.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    if dtype == "f16":
        return raw.view(np.float16).astype(np.float64)
    return raw.astype(np.float64)


def compare(a, expected, actual, atol, rtol):
    """(message or None, worst error / tolerance)."""
    dtype = a["dtype"]
    if dtype in ("i32", "i64", "i8"):
        if np.array_equal(expected, actual):
            return None, 0.0
        bad = int(np.argmax(expected != actual))
        return f"{a['file']} element {bad}: {actual[bad]} expected {expected[bad]}", float("inf")
    e, g = as_float(dtype, expected), as_float(dtype, actual)
    if atol == 0 and rtol == 0:
        same = (np.isnan(e) & np.isnan(g)) | (expected.view(np.uint8).reshape(len(expected), -1) ==
                                              actual.view(np.uint8).reshape(len(actual), -1)).all(axis=1)
        if same.all():
            return None, 0.0
        bad = int(np.argmin(same))
        return f"{a['file']} element {bad}: {g[bad]!r} expected {e[bad]!r} (bit for bit)", float("inf")
    finite = np.isfinite(e)
    ok = np.where(np.isnan(e), np.isnan(g), np.where(finite, np.abs(g - e) <= atol + rtol * np.abs(e), e == g))
    ratio = np.where(finite & np.isfinite(g), np.abs(g - e) / (atol + rtol * np.abs(np.where(finite, e, 0.0))), 0.0)
    worst = float(np.max(ratio, initial=0.0))
    if ok.all():
        return None, worst
    bad = int(np.argmin(ok))
    return f"{a['file']} element {bad}: {g[bad]!r} expected {e[bad]!r}", worst


def main(folder):
    manifest = json.load(open(f"{folder}/manifest.json"))
    functions, failures = {}, 0
    started = time.time()
    for case in manifest["cases"]:
        entry, options = case["entry"], tuple(case["options"])
        if (entry, options) not in functions:
            source = open(f"{folder}/{entry}.cu").read()
            functions[(entry, options)] = cp.RawModule(code=source, backend="nvrtc", options=options).get_function(entry)
        args, buffers = [], []
        for a in case["args"]:
            kind = a["kind"]
            if kind == "buffer":
                device = cp.asarray(np.fromfile(f"{folder}/{a['file']}.in", dtype=DTYPES[a["dtype"]]))
                args.append(device)
                buffers.append((a, device))
            elif kind == "int":
                args.append(np.int32(a["value"]))
            elif kind == "long":
                args.append(np.int64(a["value"]))
            elif kind == "float":
                args.append(np.float32(struct.unpack("<f", struct.pack("<i", a["bits"]))[0]))
            else:
                args.append(np.float64(struct.unpack("<d", struct.pack("<q", a["bits"]))[0]))
        functions[(entry, options)](tuple(case["grid"]), tuple(case["block"]), tuple(args))
        cp.cuda.runtime.deviceSynchronize()
        problems, worst = [], 0.0
        for a, device in buffers:
            expected = np.fromfile(f"{folder}/{a['file']}.out", dtype=DTYPES[a["dtype"]])
            message, ratio = compare(a, expected, cp.asnumpy(device), case["atol"], case["rtol"])
            worst = max(worst, ratio)
            if message:
                problems.append(message)
        failures += bool(problems)
        status = "FAIL " + "; ".join(problems) if problems else "ok"
        print(f"{case['label']:34s} {entry:42s} error/tolerance {worst:8.3f}  {status}", flush=True)
    print(f"{folder}: {len(manifest['cases'])} launches of {len(functions)} kernels, {failures} failed, "
          f"{time.time() - started:.1f} s", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
