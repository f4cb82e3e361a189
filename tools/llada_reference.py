#!/usr/bin/env python3
"""Independent reference for mdrl's LLaDA forward: Hugging Face transformers' Llama with the causal
mask switched off (spec model.md §2.8/§3.4: LLaDA = Llama with bidirectional attention, MHA, OLMo
tensor names). Reads a LLaDA checkpoint folder (config.json + safetensors) and token ids, writes the
logits, so tests can compare the C++ model with code no one here wrote.

    llada_reference.py <checkpoint folder> <ids.safetensors> <out.safetensors>

ids.safetensors holds "ids" [B, T] int64; out.safetensors gets "logits" [B, T, V] float32.
Exit status 77 when transformers is not installed (the test skips).
"""
import json
import sys
from pathlib import Path

try:
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import LlamaConfig, LlamaForCausalLM
except ImportError as e:  # pragma: no cover
    print(f"llada_reference: {e}; skipping", file=sys.stderr)
    sys.exit(77)

# LLaDA (OLMo) name -> Llama name, below "model.transformer." (spec model.md §3.4).
BLOCK_MAP = {
    "attn_norm": "input_layernorm", "q_proj": "self_attn.q_proj", "k_proj": "self_attn.k_proj",
    "v_proj": "self_attn.v_proj", "attn_out": "self_attn.o_proj", "ff_norm": "post_attention_layernorm",
    "ff_proj": "mlp.gate_proj", "up_proj": "mlp.up_proj", "ff_out": "mlp.down_proj",
}


def load_llada_weights(folder: Path) -> dict:
    index = folder / "model.safetensors.index.json"
    files = sorted(set(json.loads(index.read_text())["weight_map"].values())) if index.exists() else ["model.safetensors"]
    weights = {}
    for f in files:
        weights.update(load_file(str(folder / f)))
    return weights


def to_llama(weights: dict) -> dict:
    out = {}
    for name, t in weights.items():
        rest = name.removeprefix("model.transformer.")
        if rest == "wte.weight":
            out["model.embed_tokens.weight"] = t
        elif rest == "ln_f.weight":
            out["model.norm.weight"] = t
        elif rest == "ff_out.weight":
            out["lm_head.weight"] = t
        else:
            _, layer, module, leaf = rest.split(".")
            out[f"model.layers.{layer}.{BLOCK_MAP[module]}.{leaf}"] = t
    return out


def main() -> int:
    folder, ids_path, out_path = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    c = json.loads((folder / "config.json").read_text())
    cfg = LlamaConfig(
        vocab_size=c["embedding_size"], hidden_size=c["d_model"], intermediate_size=c["mlp_hidden_size"],
        num_hidden_layers=c["n_layers"], num_attention_heads=c["n_heads"], num_key_value_heads=c["n_kv_heads"],
        max_position_embeddings=c["max_sequence_length"], rms_norm_eps=c["rms_norm_eps"],
        rope_theta=c["rope_theta"], tie_word_embeddings=False, attention_bias=False, mlp_bias=False,
        hidden_act="silu", attn_implementation="sdpa")
    model = LlamaForCausalLM(cfg).eval()
    missing, unexpected = model.load_state_dict(to_llama(load_llada_weights(folder)), strict=False)
    missing = [m for m in missing if "rotary" not in m]
    if missing or unexpected:
        print(f"llada_reference: missing {missing}, unexpected {unexpected}", file=sys.stderr)
        return 1
    # Bidirectional attention: with no padding the mask is skipped and SDPA takes is_causal from here.
    for layer in model.model.layers:
        layer.self_attn.is_causal = False
    ids = load_file(ids_path)["ids"]
    with torch.no_grad():
        logits = model(input_ids=ids).logits.float().contiguous()
    save_file({"logits": logits}, out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
