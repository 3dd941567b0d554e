#!/usr/bin/env python3
"""Write a random but valid batch (docs/model.md §10) for a model folder.

    make_batch.py --model DIR --seed S --out B.safetensors [--rows R] [--images N]
                  [--tiles K1,K2,...] [--text-only-rows R0] [--tag-mode 1d|none]
                  [--tag-spelling special|bytes] [--max-text L]

Each row is a chatml conversation (docs/model.md §6): a system turn, then per image of the row a user turn
opening with the image block and an assistant answer; a row without images has one text-only
exchange. Labels (docs/model.md §8) are the answer tokens and their closing <|im_end|>; everything else
-100. Rows are right-padded with the pad id, labels -100. Tile counts are 1 (a single tile, no
thumbnail) or cols*rows + 1 (tiles then the thumbnail). pixel_values are standard normal.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import nvlm_ref  # noqa: E402
import st_io  # noqa: E402


def valid_tile_counts(max_tiles):
    """1, or i*j + 1 for every grid with 2 <= i*j <= max_tiles (docs/model.md §1)."""
    return [1] + sorted({i * j + 1 for i in range(1, max_tiles + 1) for j in range(1, max_tiles + 1)
                         if 2 <= i * j <= max_tiles})


class RowBuilder:
    """Appends tokens to one row, tracking labels, media_image and media_tile (docs/model.md §10)."""

    def __init__(self):
        self.ids, self.labels, self.media_image, self.media_tile = [], [], [], []
        self.current_image = -1

    def add(self, tokens, labelled=False, tile=-1, opens_image=None):
        for token in tokens:
            if opens_image is not None:
                self.current_image = opens_image  # <Image> itself already belongs to the image
            self.ids.append(int(token))
            self.labels.append(int(token) if labelled else nvlm_ref.IGNORE_INDEX)
            self.media_image.append(self.current_image)
            self.media_tile.append(tile if self.current_image >= 0 else -1)


class BatchGenerator:
    def __init__(self, config: nvlm_ref.NvlmConfig, rng, tag_mode="1d", tag_spelling="special", max_text=8):
        self.config, self.rng = config, rng
        self.tag_mode, self.tag_spelling, self.max_text = tag_mode, tag_spelling, max_text
        vocab = config.llm.vocab_size
        special = set(int(config.token(k)) for k in nvlm_ref.DEFAULT_TOKENS)
        special |= {i for ids in config.tag_tokens.values() for i in ids}
        self.bytes_are_tokens = vocab > 256 and not any(i < 256 for i in special)
        self.text_ids = np.array([i for i in range(vocab) if i not in special], dtype=np.int64)
        if tag_spelling == "bytes" and not self.bytes_are_tokens:
            raise ValueError(f"--tag-spelling bytes needs ids 0..255 to be byte tokens (vocab {vocab})")

    def text(self, low=1, high=None):
        n = int(self.rng.integers(low, (high or self.max_text) + 1))
        return self.rng.choice(self.text_ids, size=n).tolist()

    def spelled(self, word):
        """A role name as byte tokens when the vocabulary has them, else random text."""
        return list(word.encode("utf-8")) if self.bytes_are_tokens else self.text(len(word), len(word))

    def tag(self, tile, tiles):
        """Token ids of tile `tile`'s tag (docs/model.md §6, 1d): <tile_k> for regular tiles, the thumbnail
        (and a single tile) <tile_global_thumbnail>; [] in tag mode none."""
        if self.tag_mode == "none":
            return []
        name = "<tile_global_thumbnail>" if tiles == 1 or tile == tiles - 1 else f"<tile_{tile + 1}>"
        if self.tag_spelling == "bytes":
            return list(name.encode("utf-8"))
        if name not in self.config.tag_tokens:
            raise ValueError(f"config tag_tokens has no {name!r}")
        return list(self.config.tag_tokens[name])

    def image_block(self, row, image, tiles):
        """<Image> + per-architecture tile blocks + </Image> (docs/model.md §7)."""
        c = self.config
        t_img, context = c.tokens_per_tile, c.token("image_context")
        row.add([c.token("image_start")], opens_image=image)
        if c.architecture == "H":
            thumbnail = tiles - 1  # the thumbnail, or the single tile
            row.add(self.tag(thumbnail, tiles), tile=thumbnail)
            row.add([context] * t_img)
        else:
            for k in range(tiles):
                row.add(self.tag(k, tiles), tile=k)
                if c.architecture == "D":
                    row.add([context] * t_img)
        row.add([c.token("image_end")])

    def conversation(self, images):
        """images: list of (batch image index, tile count) for this row."""
        c = self.config
        start, end = c.token("im_start"), c.token("im_end")
        row = RowBuilder()
        row.add([start] + self.spelled("system\n") + self.text() + [end])
        for image, tiles in (images or [(None, 0)]):
            row.add([start] + self.spelled("user\n"))
            if image is not None:
                self.image_block(row, image, tiles)
            row.add(self.text() + [end])
            row.add([start] + self.spelled("assistant\n"))
            row.add(self.text() + [end], labelled=True)
        return row

    def batch(self, rows, tile_counts, text_only_rows):
        """tile_counts: per image; images go to the image rows in turn, batch order kept."""
        image_rows = rows - text_only_rows
        if tile_counts and image_rows < 1:
            raise ValueError(f"{len(tile_counts)} images but no row without --text-only-rows to hold them")
        per_row = [[] for _ in range(rows)]
        row_of = sorted(m % image_rows for m in range(len(tile_counts))) if tile_counts else []
        for m, (r, tiles) in enumerate(zip(row_of, tile_counts)):
            per_row[r].append((m, tiles))
        built = [self.conversation(per_row[r]) for r in range(rows)]
        length = max(len(r.ids) for r in built)
        pad = self.config.token("pad")
        for r in built:
            extra = length - len(r.ids)
            r.ids += [pad] * extra
            r.labels += [nvlm_ref.IGNORE_INDEX] * extra
            r.media_image += [r.current_image] * extra
            r.media_tile += [-1] * extra
        tags = [self.tag(k, tiles) for tiles in tile_counts for k in range(tiles)]
        width = max([len(t) for t in tags] + [1])
        tile_tag_ids = np.full((len(tags), width), -1, dtype=np.int64)
        for i, t in enumerate(tags):
            tile_tag_ids[i, :len(t)] = t
        s = self.config.vision.image_size
        n = sum(tile_counts)
        return {
            "input_ids": np.array([r.ids for r in built], dtype=np.int64),
            "labels": np.array([r.labels for r in built], dtype=np.int64),
            "pixel_values": self.rng.standard_normal((n, 3, s, s)).astype(np.float32),
            "image_tiles": np.array(tile_counts, dtype=np.int64).reshape(-1),
            "image_row": np.array(row_of, dtype=np.int64).reshape(-1),
            "tile_tag_ids": tile_tag_ids,
            "media_image": np.array([r.media_image for r in built], dtype=np.int64),
            "media_tile": np.array([r.media_tile for r in built], dtype=np.int64),
        }


def make_batch(config, seed, rows=2, images=3, tiles=None, text_only_rows=1, tag_mode="1d",
               tag_spelling="special", max_text=8):
    """The batch as a dict of numpy arrays, validated against docs/model.md §10."""
    rng = np.random.default_rng(seed)
    valid = valid_tile_counts(int(config.tiling.get("max_tiles", 6)))
    if tiles is None:
        tiles = [int(rng.choice(valid)) for _ in range(images)]
    bad = [t for t in tiles if t not in valid]
    if bad:
        raise ValueError(f"--tiles {bad}: a tile count is 1 or cols*rows+1, one of {valid}")
    generator = BatchGenerator(config, rng, tag_mode, tag_spelling, max_text)
    arrays = generator.batch(rows + text_only_rows, list(tiles), text_only_rows)
    nvlm_ref.Batch.from_arrays(arrays)  # validates
    return arrays


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="model folder (reads config.json only)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="batch .safetensors to write")
    ap.add_argument("--rows", type=int, default=2, help="rows holding the images")
    ap.add_argument("--images", type=int, default=3)
    ap.add_argument("--tiles", default=None, help="comma-separated tile count per image (overrides --images)")
    ap.add_argument("--text-only-rows", type=int, default=1, help="extra rows without images")
    ap.add_argument("--tag-mode", default="1d", choices=["1d", "none"])
    ap.add_argument("--tag-spelling", default="special", choices=["special", "bytes"],
                    help="tags as the config's tag tokens, or spelled as byte tokens (multi-token tags)")
    ap.add_argument("--max-text", type=int, default=8, help="longest random text span in tokens")
    args = ap.parse_args(argv)
    config = nvlm_ref.NvlmConfig.load(args.model)
    tiles = [int(t) for t in args.tiles.split(",")] if args.tiles else None
    arrays = make_batch(config, args.seed, args.rows, args.images, tiles, args.text_only_rows, args.tag_mode,
                        args.tag_spelling, args.max_text)
    st_io.save_file(arrays, args.out)
    b, t = arrays["input_ids"].shape
    print(f"wrote {args.out}: {b} rows x {t} tokens, images {arrays['image_tiles'].tolist()} tiles "
          f"in rows {arrays['image_row'].tolist()}")


if __name__ == "__main__":
    main()
