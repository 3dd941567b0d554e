"""safetensors read/write in pure numpy (no `safetensors` package on this machine).

Format: ../../../shared/REFERENCE.md section 6. An 8-byte little-endian header length N, N bytes
of JSON (padded with spaces to a multiple of 8 so every tensor is aligned), then the byte buffer.
Sharded checkpoints: `model.safetensors.index.json` with a `weight_map` (REFERENCE.md 6).

BF16 has no numpy type: in memory it is widened to float32 (exact); on disk it is the upper 16
bits of the float32 pattern, rounded to nearest even (NaN stays a quiet NaN).
"""
import json
import os
import struct
import tempfile

import numpy as np

# dtype name -> (numpy storage type, bytes per element). BF16 is stored as uint16 bit patterns.
_STORAGE = {
    "F64": (np.dtype("<f8"), 8),
    "F32": (np.dtype("<f4"), 4),
    "F16": (np.dtype("<f2"), 2),
    "BF16": (np.dtype("<u2"), 2),
    "I64": (np.dtype("<i8"), 8),
    "I32": (np.dtype("<i4"), 4),
}
_HEADER_LIMIT = 100_000_000  # the reader's limit on N (REFERENCE.md 6, HeaderTooLarge)
INDEX_FILE = "model.safetensors.index.json"
_UMASK = os.umask(0)
os.umask(_UMASK)
SINGLE_FILE = "model.safetensors"


class SafetensorsError(ValueError):
    """A malformed or unexpected safetensors file; the message names the file and the tensor."""


def f32_to_bf16_bits(a):
    """float32 array -> uint16 bf16 bit patterns, round to nearest even."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    rounding = ((bits >> 16) & 1) + np.uint32(0x7FFF)
    out = ((bits + rounding) >> 16).astype(np.uint16)
    nan = np.isnan(np.asarray(a, dtype=np.float32))
    out[nan] = np.uint16(0x7FC0)
    return out


def bf16_bits_to_f32(u):
    """uint16 bf16 bit patterns -> float32 (exact)."""
    return (np.asarray(u, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def _dtype_name_of(array):
    kind = array.dtype
    if kind == np.float64:
        return "F64"
    if kind == np.float32:
        return "F32"
    if kind == np.float16:
        return "F16"
    if kind == np.int64:
        return "I64"
    if kind == np.int32:
        return "I32"
    raise SafetensorsError(f"no safetensors dtype for numpy {kind}")


def _encode(name, array, dtype_name):
    """The little-endian bytes of `array` stored as `dtype_name`."""
    if dtype_name == "BF16":
        if array.dtype.kind != "f":
            raise SafetensorsError(f"tensor {name!r}: BF16 needs a float array, got {array.dtype}")
        return f32_to_bf16_bits(array).astype("<u2").tobytes()
    if dtype_name not in _STORAGE:
        raise SafetensorsError(f"tensor {name!r}: unsupported dtype {dtype_name}")
    storage = _STORAGE[dtype_name][0]
    if (array.dtype.kind == "f") != (storage.kind == "f"):
        raise SafetensorsError(f"tensor {name!r}: cannot store numpy {array.dtype} as {dtype_name}")
    return np.ascontiguousarray(array, dtype=storage).tobytes()


def _atomic_write(path, write):
    """Write through a temp file in the same folder, then rename: no partial file on failure."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_file(tensors, path, dtype=None, metadata=None):
    """Write a dict name -> numpy array. `dtype`: None (from each array), one name ("BF16"), or a
    dict name -> dtype name; integer arrays always keep their own type."""
    entries = []
    for name, array in tensors.items():
        array = np.asarray(array)
        if isinstance(dtype, dict):
            target = dtype.get(name) or _dtype_name_of(array)
        elif dtype is not None and array.dtype.kind == "f":
            target = dtype
        else:
            target = _dtype_name_of(array)
        entries.append((name, target, list(array.shape), _encode(name, array, target)))
    # Widest dtype first, then by name, as the safetensors writers do (REFERENCE.md 6): aligned.
    entries.sort(key=lambda e: (-_STORAGE[e[1]][1], e[0]))
    header = {"__metadata__": dict(metadata or {"format": "pt"})}
    offset = 0
    for name, target, shape, data in entries:
        header[name] = {"dtype": target, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)

    def write(f):
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for entry in entries:
            f.write(entry[3])

    _atomic_write(path, write)


def read_header(path):
    """(entries: name -> {dtype, shape, data_offsets}, metadata, data_start); validated as the
    safetensors reader does (REFERENCE.md 6)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise SafetensorsError(f"{path}: {size} bytes, shorter than the 8-byte header length")
        n = struct.unpack("<Q", head)[0]
        if n > _HEADER_LIMIT:
            raise SafetensorsError(f"{path}: header length {n} exceeds {_HEADER_LIMIT}")
        if 8 + n > size:
            raise SafetensorsError(f"{path}: header length {n} runs past the end of the {size}-byte file")
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise SafetensorsError(f"{path}: header is not valid UTF-8 JSON: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: header is not a JSON object")
    metadata = header.pop("__metadata__", {}) or {}
    expected = 0
    for name, e in sorted(header.items(), key=lambda kv: tuple(kv[1].get("data_offsets", [-1, -1]))):
        dt, shape, offs = e.get("dtype"), e.get("shape"), e.get("data_offsets")
        if dt not in _STORAGE:
            raise SafetensorsError(f"{path}: tensor {name!r} has unsupported dtype {dt!r}")
        if not isinstance(shape, list) or not isinstance(offs, list) or len(offs) != 2:
            raise SafetensorsError(f"{path}: tensor {name!r} has a malformed shape or data_offsets")
        begin, end = offs
        if begin != expected or end < begin:
            raise SafetensorsError(f"{path}: tensor {name!r} data_offsets {offs}, expected to begin at {expected}")
        nbytes = int(np.prod(shape, dtype=np.int64)) * _STORAGE[dt][1]
        if nbytes != end - begin:
            raise SafetensorsError(f"{path}: tensor {name!r} shape {shape} {dt} needs {nbytes} bytes, "
                                   f"data_offsets give {end - begin}")
        expected = end
    if 8 + n + expected != size:
        raise SafetensorsError(f"{path}: tensors end at byte {8 + n + expected} but the file has {size}")
    return header, metadata, 8 + n


def load_file(path):
    """dict name -> numpy array (BF16 widened to float32), in header order."""
    header, _, start = read_header(path)
    with open(path, "rb") as f:
        raw = f.read()
    out = {}
    for name, e in header.items():
        storage = _STORAGE[e["dtype"]][0]
        begin, end = e["data_offsets"]
        array = np.frombuffer(raw, dtype=storage, count=(end - begin) // storage.itemsize,
                              offset=start + begin).reshape(e["shape"])
        out[name] = bf16_bits_to_f32(array) if e["dtype"] == "BF16" else array.astype(storage.newbyteorder("="))
    return out


def file_dtypes(path):
    """dict name -> stored dtype name."""
    return {name: e["dtype"] for name, e in read_header(path)[0].items()}


def _shard_paths(model_dir):
    """The safetensors files of a checkpoint folder and, when sharded, the index's weight_map."""
    index_path = os.path.join(model_dir, INDEX_FILE)
    if os.path.exists(index_path):
        with open(index_path, encoding="utf-8") as f:
            index = json.load(f)
        weight_map = index.get("weight_map")
        if not isinstance(weight_map, dict):
            raise SafetensorsError(f"{index_path}: no weight_map object")
        files = sorted(set(weight_map.values()))
        return [os.path.join(model_dir, name) for name in files], weight_map
    single = os.path.join(model_dir, SINGLE_FILE)
    if not os.path.exists(single):
        raise SafetensorsError(f"{model_dir}: neither {SINGLE_FILE} nor {INDEX_FILE}")
    return [single], None


def load_checkpoint(model_dir):
    """All tensors of a checkpoint folder (single file or sharded), BF16/F16 widened to float32."""
    paths, weight_map = _shard_paths(model_dir)
    out = {}
    for path in paths:
        for name, array in load_file(path).items():
            if name in out:
                raise SafetensorsError(f"{path}: tensor {name!r} also appears in another shard")
            if weight_map is not None and os.path.join(model_dir, weight_map.get(name, "")) != path:
                raise SafetensorsError(f"{path}: tensor {name!r} is not mapped to this file in {INDEX_FILE}")
            out[name] = array.astype(np.float32) if array.dtype == np.float16 else array
    if weight_map is not None:
        missing = sorted(set(weight_map) - set(out))
        if missing:
            raise SafetensorsError(f"{model_dir}: {INDEX_FILE} maps tensors found in no shard: {missing}")
    return out


def checkpoint_dtypes(model_dir):
    """dict name -> stored dtype name over all shards."""
    out = {}
    for path in _shard_paths(model_dir)[0]:
        out.update(file_dtypes(path))
    return out


def checkpoint_shapes(model_dir):
    """dict name -> shape over all shards, read from the headers only."""
    out = {}
    for path in _shard_paths(model_dir)[0]:
        out.update({name: tuple(e["shape"]) for name, e in read_header(path)[0].items()})
    return out


def save_checkpoint(tensors, model_dir, dtype="F32", shard_bytes=None):
    """Write `model.safetensors`, or with shard_bytes shards `model-0000k-of-0000n.safetensors` of
    at most shard_bytes tensor bytes each (a larger tensor gets a shard of its own) and the index."""
    os.makedirs(model_dir, exist_ok=True)
    if not shard_bytes:
        save_file(tensors, os.path.join(model_dir, SINGLE_FILE), dtype=dtype)
        return
    width = 2 if dtype in ("BF16", "F16") else 4
    shards, current, used, total = [], [], 0, 0
    for name in sorted(tensors):
        nbytes = np.asarray(tensors[name]).size * width
        total += nbytes
        if current and used + nbytes > shard_bytes:
            shards.append(current)
            current, used = [], 0
        current.append(name)
        used += nbytes
    if current:
        shards.append(current)
    weight_map = {}
    for k, names in enumerate(shards):
        file_name = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file({n: tensors[n] for n in names}, os.path.join(model_dir, file_name), dtype=dtype)
        weight_map.update({n: file_name for n in names})
    # total_size is the sum of tensor bytes, not of file sizes (REFERENCE.md 6).
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    text = json.dumps(index, indent=2, sort_keys=True).encode("utf-8")
    _atomic_write(os.path.join(model_dir, INDEX_FILE), lambda f: f.write(text))
