#!/usr/bin/env python3
"""Fixtures for BicubicResamplerTest and DynamicTilerTest: Pillow's bicubic resize and InternVL's
tile pixels. Needs Pillow and numpy (Debian's /usr/bin/python3 has Pillow 9.4).

Run from this folder: /usr/bin/python3 pil_resize_fixtures.py
Writes resize_in_*.png, resize_out_*.png (named in resize_cases.tsv) and tiles_*.f32 (float32
little-endian [tiles, 3, S, S]) with tiles_cases.tsv.
"""
import numpy as np
import PIL
from PIL import Image

rng = np.random.default_rng(20240911)


def noise(w, h):
    return Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8), "RGB")


def smooth(w, h):
    y, x = np.mgrid[0:h, 0:w]
    r = 127 + 120 * np.sin(x / 7.0) * np.cos(y / 5.0)
    g = 255.0 * x / max(w - 1, 1)
    b = 255.0 * ((x + y) % 17 < 8)
    a = np.stack([r, g, b], axis=-1) + rng.normal(0, 6, size=(h, w, 3))
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")


inputs = {
    "noise37x23": noise(37, 23),
    "smooth200x150": smooth(200, 150),
    "strip5x300": smooth(5, 300),
}
targets = {
    "noise37x23": [(112, 112), (224, 112), (13, 7), (37, 50), (1, 1)],
    "smooth200x150": [(112, 112), (96, 224), (61, 45), (199, 151)],
    "strip5x300": [(112, 224), (3, 7)],
}

with open("resize_cases.tsv", "w") as f:
    f.write("# Pillow %s Image.resize(size, Image.BICUBIC)\n" % PIL.__version__)
    f.write("input\twidth\theight\texpected\n")
    for name, img in inputs.items():
        img.save("resize_in_%s.png" % name)
        for (w, h) in targets[name]:
            out = "resize_out_%s_%dx%d.png" % (name, w, h)
            img.resize((w, h), Image.BICUBIC).save(out)
            f.write("resize_in_%s.png\t%d\t%d\t%s\n" % (name, w, h, out))

# InternVL's preprocessing (dynamic_preprocess + build_transform) on small tiles, written out as floats.
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def internvl_tiles(img, cols, rows, s, thumbnail):
    resized = img.resize((s * cols, s * rows), Image.BICUBIC)
    crops = []
    for i in range(cols * rows):
        box = ((i % cols) * s, (i // cols) * s, ((i % cols) + 1) * s, ((i // cols) + 1) * s)
        crops.append(resized.crop(box))
    if thumbnail:
        crops.append(img.resize((s, s), Image.BICUBIC))
    out = []
    for c in crops:
        a = np.asarray(c, dtype=np.uint8).astype(np.float32) / np.float32(255)  # ToTensor
        a = (a - MEAN) / STD  # Normalize
        out.append(a.transpose(2, 0, 1))
    return np.stack(out).astype("<f4")


with open("tiles_cases.tsv", "w") as f:
    f.write("input\ttile_size\tcols\trows\tthumbnail\texpected\n")
    # grids as the tiler decides them (checked by the Java test against its own plan)
    for name, s, cols, rows, thumb in [("smooth200x150", 28, 3, 2, True), ("strip5x300", 16, 1, 6, True),
                                       ("noise37x23", 14, 3, 2, True)]:
        data = internvl_tiles(inputs[name], cols, rows, s, thumb)
        out = "tiles_%s_%d.f32" % (name, s)
        data.tofile(out)
        f.write("resize_in_%s.png\t%d\t%d\t%d\t%s\t%s\n" % (name, s, cols, rows, str(thumb).lower(), out))
