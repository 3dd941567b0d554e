#!/usr/bin/env python3
"""Parity fixtures for the Java tokenizers, made with Hugging Face `tokenizers` (0.22.2 here).

1. Trains a small byte-level BPE with Qwen2's exact normalizer, pre-tokenizer and decoder
   (REFERENCE.md section 7) on the corpus below and saves it twice: qwen2_style_tokenizer.json
   (merges as ["a","b"] pairs, the tokenizers >= 0.20 form) and qwen2_style_tokenizer_legacy.json
   (the same merges as "a b" strings).
2. Encodes tricky strings with it and with project_tokenizer.json (written by
   ProjectTokenizer.toJson(); a Java test checks the committed file is current) and decodes some
   id sequences, writing the expected results to hf_expected.json.

Run from this folder with a Python that has tokenizers (a venv from the wheel in /opt/pypi/files):
  python hf_tokenizer_fixtures.py
"""
import json
import random

import tokenizers
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")

CORPUS = [
    "The quick brown fox jumps over the lazy dog. It's what we've said they'll do, I'm sure he'd agree.",
    "Describe the image in detail. The chart shows revenue growing from 2019 to 2024 by 37.5 percent.",
    "<|im_start|>user\nWhat is in the picture?<|im_end|><|im_start|>assistant\nA cat on a sofa.<|im_end|>",
    "def tokenize(text):\n    return [t for t in text.split(' ') if t]\n\n\tindent\r\nwindows line",
    "Grüße aus München! Straße, Größe, naïve café, résumé. Ångström, Ωmega, ΑΒΓ αβγ.",
    "你好，世界。图像中有一只猫。今天是2024年9月11日。",
    "こんにちは、カタカナとひらがな。한국어 텍스트도 있습니다.",
    "Emoji: 😀🐱‍👤👍🏽 and flags 🇩🇪🇯🇵. Math: x² + y² = z², ½ ¾, Ⅻ, ٣٤٥ ١٢.",
    "Numbers 1234567890 and 3.14159 and -42 and 1,000,000 and 0x1F.",
    "Tags <tile_1><tile_2><tile_global_thumbnail> and <tile_x0_y1> and <tile_bbox_0.00_0.50_0.33_1.00>.",
    "    many   spaces   here    \n\n\n  and newlines\n",
    "UPPER CASE WORDS DON'T MATTER, IT'S FINE, WE'LL SEE, THEY'RE HERE, I'VE GOT IT, I'D GO.",
]

TRICKY = [
    "",
    "a",
    " ",
    "  ",
    "hello world",
    "Hello  world  ",
    "it's they're we've I'm you'll he'd IT'S THEY'RE",
    "'s 's' ''s x's",
    "don'ſ'ſ'K",  # long s and Kelvin sign under Unicode case folding
    "12345 3.14 -7 1,000",
    "٣٤٥ Ⅻ ½ x²",
    "line1\nline2\r\nline3\n\n\nend\n",
    " \n \n  \n",
    "trailing spaces   ",
    "\ttab\t\ttabs",
    "Grüße Straße naïve café",
    "e\u0301 cafe\u0301 A\u030a",  # decomposed: NFC composes these
    "\uac00\u11a8 \u1100\u1161\u11a8",  # Hangul syllable + jamo, decomposed jamo
    "你好，世界。",
    "😀🐱‍👤👍🏽🇩🇪",
    "<|im_start|>system\nYou are helpful.<|im_end|><|im_start|>user\nHi<|im_end|>",
    "<|im_start|><|im_end|><|im_start|>",
    "x<|im_end|>y <|im_end|> z",
    "<|im_end|\u0338",  # a combining mark after a non-special '>'-like prefix
    "<|im_end|>\u0338after",  # combining mark right after a special token
    "<|vision_pad|><|vision_pad|>",
    "<tile_1><tile_2><tile_global_thumbnail>",
    "<Image><tile_x0_y0></Image>",
    "<tile_bbox_0.00_0.50_0.33_1.00>",
    "a\u00a0b\u2003c\u3000d",  # no-break, em and ideographic spaces
    "\x1c\x1d\x1e\x1f\x0b\x0c\x85",
    "word\u200bjoined",
    "mixed123abc456",
    "ÀÁÂÃÄÅ àáâãäå",
    "The quick brown fox jumps over the lazy dog.",
    "def f(x):\n    return x**2  # square\n",
    "https://example.com/path?q=1&r=2#frag",
    "!!!???...,,,;;;",
    "a" * 300,
    " " * 40 + "x",
]


def qwen2_style(vocab_size=700):
    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False, ignore_merges=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tok.train_from_iterator(CORPUS * 3, trainer=trainer)
    tok.add_special_tokens(["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_pad|>"])
    return tok


def main():
    tok = qwen2_style()
    tok.save("qwen2_style_tokenizer.json", pretty=True)
    data = json.load(open("qwen2_style_tokenizer.json"))
    assert all(isinstance(m, list) for m in data["model"]["merges"]), "expected the pair form"
    legacy = json.loads(json.dumps(data))
    legacy["model"]["merges"] = [a + " " + b for a, b in data["model"]["merges"]]
    json.dump(legacy, open("qwen2_style_tokenizer_legacy.json", "w"), ensure_ascii=False, indent=2)
    reloaded = Tokenizer.from_file("qwen2_style_tokenizer_legacy.json")

    project = Tokenizer.from_file("project_tokenizer.json")
    rng = random.Random(7)
    expected = {"tokenizers_version": tokenizers.__version__, "qwen2_style": [], "project": [], "decode": []}
    for text in TRICKY + CORPUS:
        ids = tok.encode(text, add_special_tokens=False).ids
        assert reloaded.encode(text, add_special_tokens=False).ids == ids, "legacy merges differ for %r" % text
        normalized = tok.normalizer.normalize_str(text)
        pieces = [piece for piece, _ in tok.pre_tokenizer.pre_tokenize_str(normalized)]
        expected["qwen2_style"].append({"text": text, "ids": ids, "normalized": normalized, "pieces": pieces})
        expected["project"].append({"text": text, "ids": project.encode(text, add_special_tokens=False).ids})
    # Decoding: byte tokens in random orders (invalid UTF-8 included) and specials.
    for n in range(40):
        ids = [rng.randrange(tok.get_vocab_size()) for _ in range(rng.randrange(1, 12))]
        expected["decode"].append({"tokenizer": "qwen2_style", "ids": ids,
                                   "text": tok.decode(ids, skip_special_tokens=False)})
    for n in range(40):
        ids = [rng.choice([rng.randrange(256), 0xe4, 0xbd, 0xa0, 0xf0, 0x9f, 0x98, 0x80, 0xed, 0xa0, 0xc0, 0xff,
                           rng.randrange(256, project.get_vocab_size())]) for _ in range(rng.randrange(1, 10))]
        expected["decode"].append({"tokenizer": "project", "ids": ids,
                                   "text": project.decode(ids, skip_special_tokens=False)})
    json.dump(expected, open("hf_expected.json", "w"), ensure_ascii=False, indent=1)
    print("vocab", tok.get_vocab_size(), "merges", len(data["model"]["merges"]))


if __name__ == "__main__":
    main()
