#!/usr/bin/env python3
"""Writes the embedded default's tokenizer (inputs/tokenizer/byte_level/): a byte-level BPE
tokenizer.json with no merges, whose 256 byte tokens have the ids LLaDA gives them (GPT-2
bytes_to_unicode order, spec model.md §5.1), followed by the special tokens the model and the
chat template need (spec §4.1), and a tokenizer_config.json naming BOS, EOS, PAD and the mask.

No normalizer and no regex split: with no merges neither would change an id, and without them
any byte string (valid UTF-8 or not) round-trips exactly. Built with the Hugging Face `tokenizers`
library, so the file is one that library reads as is; mdrl embeds it at build time.

    ~/.cache/mdrl/venv-torch2.11.0/bin/python tools/make_byte_level_tokenizer.py [out_dir]
"""
import json
import os
import sys

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

SPECIAL = ["<|startoftext|>", "<|endoftext|>", "<|mdm_mask|>",
           "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]


def byte_alphabet():
    """GPT-2's byte -> character map, and the byte order of the vocabulary ids."""
    printable = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars = {}
    extra = 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(0x100 + extra)
            extra += 1
    order = printable + [b for b in range(256) if b not in printable]
    return chars, order


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "inputs", "tokenizer", "byte_level")
    os.makedirs(out, exist_ok=True)
    chars, order = byte_alphabet()
    vocab = {chars[b]: i for i, b in enumerate(order)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIAL])
    tok.save(os.path.join(out, "tokenizer.json"), pretty=True)
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "mask_token": "<|mdm_mask|>",
        "add_bos_token": False,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
    }
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    # Check: every byte round-trips and the specials follow the bytes.
    data = bytes(range(256)).decode("latin-1")
    assert tok.token_to_id("<|startoftext|>") == 256 and tok.token_to_id("<|eot_id|>") == 261
    assert tok.encode("hello").ids == [vocab[c] for c in "hello"]
    assert tok.decode(tok.encode(data).ids) == data
    print(f"wrote {out}/tokenizer.json ({len(vocab)} byte tokens + {len(SPECIAL)} special) and tokenizer_config.json")


if __name__ == "__main__":
    main()
