#!/usr/bin/env python3
"""Generates the tokenizer parity fixtures under tests/data/tokenizer/ with the Hugging Face
`tokenizers` library (the reference implementation; spec model.md §5).

It trains a small byte-level BPE with LLaDA's pipeline (NFC normalizer, Split on LLaDA's regex R
with behaviour Isolated, ByteLevel without prefix space or regex, ByteLevel decoder) on a mixed,
generated corpus, adds LLaDA-like special tokens after the vocabulary (plus two that overlap, to
exercise leftmost-longest matching, one with lstrip/rstrip, and one non-special `normalized` token),
and records what the library produces for a few hundred test strings:

    tokenizer.json   the trained tokenizer, merges in the ["a", "b"] form of tokenizers >= 0.20
    cases.jsonl      {"text", "ids", "decoded", "decoded_skip"} per test string, and "pieces" (the
                     pre-tokenizer's output, ByteLevel alphabet) for strings without added tokens
    byte_level.jsonl the same for the embedded byte-level tokenizer (inputs/tokenizer/byte_level)
    pre_tokenizers.jsonl  {"pre_tokenizer", "text", "pieces", "ids"}: the byte-level tokenizer with
                     other pre-tokenizers (every Split behaviour, invert, literal patterns,
                     ByteLevel with prefix space and the GPT-2 regex, Sequence)

Deterministic: the corpus and the strings come from fixed seeds.

    ~/.cache/mdrl/venv-torch2.11.0/bin/python tools/gen_tokenizer_fixtures.py
"""
import json
import os
import random

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "tokenizer")

# LLaDA's Split pattern (spec model.md §5.1).
LLADA_REGEX = (r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|"
               r"\s+(?!\S)|\s+")

SPECIAL = (["<|startoftext|>", "<|endoftext|>", "[CLS]", "[gMASK]"]
           + [f"<|reserved_token_{i}|>" for i in range(12)]
           + ["<|mdm_mask|>", "<role>", "</role>", "<|arithmetic_start|>", "<|arithmetic_end|>",
              "<|number_start|>", "<|number_end|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
              "<sop>", "<sop><eop>"])
NORMALIZED_ADDED = "<calc>"
STRIPPED = "<|ws|>"  # lstrip and rstrip: absorbs the whitespace around it

WORDS = ("the of and to a in is you that it he was for on are as with his they I at be this have from or one "
         "had by word but not what all were we when your can said there use an each which she do how their if "
         "will up other about out many then them these so some her would make like him into time has look two "
         "more write go see number no way could people my than first water been call who oil its now find long "
         "down day did get come made may part apples oranges kilometers hours Natalia sold clips friends April "
         "May Weng earns babysitting minutes Betty saving money wallet costs parents grandparents Julie reading "
         "pages yesterday today tomorrow James writes letter week Mark garden flowers purple yellow green store "
         "price discount percent total answer reasoning solution puzzle Sudoku Countdown arithmetic expression "
         "evaluates target numbers exactly once operations").split()
CJK = ["中文", "测试", "模型", "数学", "问题", "答案", "日本語", "テキスト", "한국어", "텍스트", "汉字", "语言"]
EMOJI = ["🙂", "👩🏽\u200d💻", "🇺🇸", "❤️", "🎉", "🤖", "👍🏿", "🧮", "✅", "😀"]
ACCENTED = ["café", "cafe\u0301", "naïve", "Å", "A\u030a", "résumé", "Zürich", "jalapen\u0303o", "Ωmega", "ñandú"]
LATEX = [r"\frac{a}{b}", r"$x^2 + y^2 = z^2$", r"\boxed{42}", r"\sqrt{2}", r"\sum_{i=1}^{n} i", r"\alpha\beta",
         r"\left( \frac{1}{2} \right)", r"\int_0^1 f(x)\,dx"]
CODE = ["def f(x):\n    return x ** 2\n", "for (int i = 0; i < n; ++i) {\n  s += a[i];\n}", "x == y && z != w",
        "print('hello, world')", "a->b = c;", "if x >= 10:\n\tpass", "std::vector<int> v{1, 2, 3};",
        "#include <cstdio>\nint main() { return 0; }"]


def sentence(rng):
    words = [rng.choice(WORDS) for _ in range(rng.randint(3, 14))]
    if rng.random() < 0.4:
        words.insert(rng.randrange(len(words)), str(rng.choice([rng.randint(0, 99), rng.randint(100, 99999)])))
    s = " ".join(words)
    s = s[0].upper() + s[1:]
    return s + rng.choice([".", "?", "!", ",", ":", ""])


def corpus(rng, n):
    lines = []
    for _ in range(n):
        r = rng.random()
        if r < 0.55:
            lines.append(" ".join(sentence(rng) for _ in range(rng.randint(1, 3))))
        elif r < 0.65:
            lines.append(rng.choice(CODE))
        elif r < 0.72:
            lines.append("Compute " + rng.choice(LATEX) + " and " + rng.choice(LATEX))
        elif r < 0.80:
            lines.append("".join(rng.choice(CJK) for _ in range(rng.randint(2, 6))) + "。")
        elif r < 0.86:
            lines.append(sentence(rng) + " " + rng.choice(EMOJI))
        elif r < 0.92:
            lines.append(rng.choice(ACCENTED) + " " + sentence(rng))
        else:
            a, b = rng.randint(1, 999), rng.randint(1, 999)
            lines.append(f"{a} + {b} = <<{a}+{b}={a + b}>>{a + b}\n#### {a + b}")
    return lines


def test_strings(rng):
    fixed = [
        "", " ", "\n", "a", "hello world", "Hello World", " \t\n\r  x", "café Ω 中文", "cafe\u0301 A\u030a",
        "👩🏽\u200d💻🙂", "12", " 12", "123456789012345678901234567890", "3.14159", "1,234,567.89", "-42",
        "x=10^9", "2024-01-31", "$1,000.00", "0.5%", "a  b", "a   b", "   leading", "trailing   ", "\t\t",
        " \n \n", "a\r\nb", "\n\n\n", "  \n  x", "a\n\n\nb", "a \n b", "x\u00a0y", "x\u3000y", "x\u0085y",
        "x\u2028y", "\u0085\u0085", "a \u0085\u0085b", "x \u0085\n y", "a \u180e\u180eb", "x \u180e\n y", " \u180e ", " \u00a0 ", "\u200bzero\u200bwidth", "\r\r\n", "tab\tsep\tvalues",
        "中文测试", "日本語のテキスト", "한국어 텍스트", "混合 mixed 文本 text", "数字123和文字",
        "❤️", "🇺🇸 flag", "👍🏿👍🏻", "emoji🎉inside", "🤖 robots 🤖",
        "e\u0301\u0301", "\u1e9b\u0323", "\u1100\u1161\u11a8", "\u212b", "\ufb01", "Åström", "o\u0308\u0304",
        "\u0958", "\u2126", "\u00c5\u030a",
        r"\frac{a}{b}", r"$x^2 + y^2 = z^2$", r"\boxed{42}", r"\left( \frac{1}{2} \right)",
        "def f(x):\n    return x ** 2\n", "x == y && z != w", "    indented\n        more\n", "a->b", "i++;",
        "I'm", "you'RE", "it's", "He'LL", "we'Ve", "they'd", "'s", "don't", "O'Neil", "'\u017f", "'\u212a",
        "rock'n'roll", "''", "'''",
        "<|startoftext|>hello", "a<|eot_id|>b", "<|eot_id|><|eot_id|>", "< |eot_id|>", "<|eot_id", "<|eot_id|",
        "hi <|mdm_mask|> there", "<sop><eop>", "<sop>x<eop>", "<sop><sop><eop>", "<calc>", "Ca\u0301<calc>x",
        "<calc><|eot_id|><calc>", " <|endoftext|> ", "[CLS][gMASK]", "<role>user</role>",
        "<|reserved_token_1|><|reserved_token_10|><|reserved_token_11|>",
        "<|startoftext|><|start_header_id|>user<|end_header_id|>\n\nLily can run 12 kilometers per hour for 4 hours. "
        "After that, she runs 6 kilometers per hour. How many kilometers can she run in 8 hours?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
        "<|number_start|>3.5<|number_end|>", "<|arithmetic_start|>2*4-3<|arithmetic_end|>",
        "<reasoning>\nStep 1\n</reasoning>\n<answer>\n42\n</answer>",
        "a  <|ws|>  b", "<|ws|>\n", "x \u3000<|ws|>\t<|ws|> y", "  <|ws|>", "<|eot_id|> <|ws|> <|eot_id|>",
    ]
    pools = [WORDS, CJK, EMOJI, ACCENTED, LATEX, CODE, SPECIAL, [NORMALIZED_ADDED],
             [" ", "  ", "\n", "\t", "\r\n", "\u00a0", "\u3000", "\u0085"],
             [str(rng.randint(0, 10**12)) for _ in range(20)], list(".,;:!?'\"()[]{}<>-+*/=_#$%&@|\\~`^")]
    out = list(fixed)
    for _ in range(60):
        out.append(sentence(rng))
    for _ in range(140):
        parts = [rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, 8))]
        out.append(rng.choice(["", " ", ""]).join(parts))
    for _ in range(20):  # random code points across the planes (valid scalar values)
        cps = []
        for _ in range(rng.randint(1, 12)):
            c = rng.choice([rng.randint(0x20, 0x7e), rng.randint(0xa0, 0x24f), rng.randint(0x300, 0x36f),
                            rng.randint(0x4e00, 0x9fff), rng.randint(0x1f300, 0x1faff), rng.randint(0x1, 0x1f)])
            cps.append(chr(c))
        out.append("".join(cps))
    return out


def build_tokenizer(rng):
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLADA_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1200, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus(rng, 4000), trainer)
    # Added after training, so their ids follow the vocabulary as in LLaDA (spec §4.1).
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIAL])
    tok.add_tokens([AddedToken(NORMALIZED_ADDED, special=False, normalized=True)])
    tok.add_special_tokens([AddedToken(STRIPPED, special=True, normalized=False, lstrip=True, rstrip=True)])
    return tok


def record(tok, texts, path):
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            ids = tok.encode(t, add_special_tokens=False).ids
            row = {"text": t, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False),
                   "decoded_skip": tok.decode(ids, skip_special_tokens=True)}
            if not any(a.content in t for a in tok.get_added_tokens_decoder().values()):
                norm = tok.normalizer.normalize_str(t) if tok.normalizer else t
                row["pieces"] = [p for p, _ in tok.pre_tokenizer.pre_tokenize_str(norm)]
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


PRE_TOKENIZER_TEXTS = ["Hello world, it's 2024!", "  two  spaces  ", "a-b--c---", "x1y22z333", "tab\there\n\nnew",
                       "-lead and trail-", "café 中文 🙂", "'s 'S don't", "", "----", "a b c"]


def pre_tokenizer_variants():
    """(name, pre_tokenizer) pairs covering what the loader accepts besides LLaDA's pipeline."""
    bl = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    out = []
    for behavior in ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]:
        for invert in [False, True]:
            out.append(pre_tokenizers.Sequence([pre_tokenizers.Split("-", behavior=behavior, invert=invert), bl]))
        out.append(pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r"\d+|\s+"), behavior=behavior), bl]))
    out.append(pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True))
    out.append(pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True))
    out.append(pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r"\s+"), behavior="removed"),
                                        pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=False)]))
    return out


def record_pre_tokenizers(path):
    base = json.load(open(os.path.join(ROOT, "inputs", "tokenizer", "byte_level", "tokenizer.json"), encoding="utf-8"))
    with open(path, "w", encoding="utf-8") as f:
        for pre in pre_tokenizer_variants():
            tok = Tokenizer.from_str(json.dumps(base))
            tok.pre_tokenizer = pre
            spec = json.loads(tok.to_str())["pre_tokenizer"]
            for t in PRE_TOKENIZER_TEXTS:
                row = {"pre_tokenizer": spec, "text": t, "pieces": [p for p, _ in pre.pre_tokenize_str(t)],
                       "ids": tok.encode(t, add_special_tokens=False).ids}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(20240531)
    tok = build_tokenizer(rng)
    tok.save(os.path.join(OUT, "tokenizer.json"), pretty=False)
    texts = test_strings(random.Random(7))
    record(tok, texts, os.path.join(OUT, "cases.jsonl"))
    byte_level = Tokenizer.from_file(os.path.join(ROOT, "inputs", "tokenizer", "byte_level", "tokenizer.json"))
    record(byte_level, texts[:120], os.path.join(OUT, "byte_level.jsonl"))
    record_pre_tokenizers(os.path.join(OUT, "pre_tokenizers.jsonl"))
    print(f"wrote {OUT}: tokenizer.json ({tok.get_vocab_size()} tokens), {len(texts)} cases")


if __name__ == "__main__":
    main()
