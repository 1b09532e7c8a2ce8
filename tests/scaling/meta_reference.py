#!/usr/bin/python3
"""Independent PyTorch reference of a sequence-classification RM (tests/scaling/test_meta_import.cpp).

One logit = score.weight [1, d] (+ score.bias) applied to the final-norm hidden state of the last
token, for two decoder architectures written from their definitions, sharing no code with grm or
llama.cpp:
  llama   RMSNorm * w, rotary embeddings on adjacent pairs (the GGUF layout of q/k), SiLU-gated MLP.
  gemma2  embeddings * sqrt(d); RMSNorm whose weights are used as the GGUF stores them (llama.cpp's
          converter writes Gemma's (1 + w)); NEOX rotary embeddings (halves); queries scaled by
          query_pre_attn_scalar ** -0.5; attention logits soft-capped (cap * tanh(x / cap)); even
          layers attend to the last sliding_window positions only; GELU-tanh gated MLP; the
          attention and MLP outputs RMS-normed (post_attention_norm, post_ffw_norm) before the
          residual adds. The final logit soft-cap is on the LM logits only, not on the hidden state.
One implementation detail of ggml is mirrored on purpose: its CPU GELU looks f32 inputs up in an f16
table (GGML_GELU_FP16: input and output rounded to f16; x <= -10 -> 0, x >= 10 -> x), which moves a
score by more than the test's tolerance.

Usage: /usr/bin/python3 meta_reference.py DIR. DIR/manifest.json (written by the C++ test):
  {"arch", "config": {...}, "backbone": file of GGUF-named tensors (F32 safetensors, torch layout),
   "hf_dir": the checkpoint holding score.weight, "tokens": [[ids]]}
Writes DIR/reference.json: {"scores": [...]}. The head is read here from the checkpoint (single file
or shards; F32, F16 or BF16), independently of grm's reader.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        b, e = v["data_offsets"]
        buf = raw[8 + n + b:8 + n + e]
        if v["dtype"] == "F32":
            a = np.frombuffer(buf, dtype="<f4").astype(np.float64)
        elif v["dtype"] == "F16":
            a = np.frombuffer(buf, dtype="<f2").astype(np.float64)
        elif v["dtype"] == "BF16":  # the high half of an f32
            a = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        else:
            raise ValueError(f"{path}: {name}: dtype {v['dtype']}")
        out[name] = torch.from_numpy(a.copy()).reshape(v["shape"])
    return out


def read_checkpoint(d):
    index = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    out = {}
    for name in files:
        out.update(read_safetensors(os.path.join(d, name)))
    return out


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, base, neox):
    """x [T, H, hd]; position t rotates pair k by t * base^(-2k/hd)."""
    T, _, hd = x.shape
    inv = base ** (-torch.arange(0, hd, 2) / hd)
    ang = torch.arange(T)[:, None] * inv[None, :]  # [T, hd/2]
    cos, sin = torch.cos(ang)[:, None, :], torch.sin(ang)[:, None, :]
    if neox:  # pairs (k, k + hd/2)
        a, b = x[..., : hd // 2], x[..., hd // 2:]
        return torch.cat([a * cos - b * sin, a * sin + b * cos], -1)
    a, b = x[..., 0::2], x[..., 1::2]  # adjacent pairs (2k, 2k + 1)
    return torch.stack([a * cos - b * sin, a * sin + b * cos], -1).reshape(x.shape)


def ggml_gelu(x):
    h = x.to(torch.float32).to(torch.float16).to(torch.float32)
    g = 0.5 * h * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * h * (1.0 + 0.044715 * h * h)))
    y = g.to(torch.float16).to(torch.float64)
    return torch.where(x <= -10.0, torch.zeros_like(x), torch.where(x >= 10.0, x, y))


def attention(q, k, v, scale, softcap, window):
    """q [T, H, hd], k/v [T, Hkv, hd]: causal, optionally soft-capped and windowed."""
    T, H, _ = q.shape
    rep = H // k.shape[1]
    k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
    s = torch.einsum("thd,shd->hts", q * scale, k)
    if softcap:
        s = softcap * torch.tanh(s / softcap)
    i, j = torch.arange(T)[:, None], torch.arange(T)[None, :]
    allowed = j <= i
    if window:
        allowed = allowed & (i - j < window)
    s = s.masked_fill(~allowed, float("-inf"))
    return torch.einsum("hts,shd->thd", torch.softmax(s, -1), v).reshape(T, -1)


def hidden_last(arch, cfg, W, ids):
    x = W["token_embd.weight"][torch.tensor(ids)]
    eps, d, H, Hkv = cfg["rms_eps"], cfg["n_embd"], cfg["n_head"], cfg["n_head_kv"]
    gemma = arch == "gemma2"
    hd = cfg["head_dim"] if gemma else d // H
    if gemma:
        x = x * math.sqrt(d)
    T = x.shape[0]
    for l in range(cfg["n_layer"]):
        p = lambda n: W[f"blk.{l}.{n}.weight"]
        h = rms_norm(x, p("attn_norm"), eps)
        q = rope((h @ p("attn_q").T).reshape(T, H, hd), cfg["rope_theta"], gemma)
        k = rope((h @ p("attn_k").T).reshape(T, Hkv, hd), cfg["rope_theta"], gemma)
        v = (h @ p("attn_v").T).reshape(T, Hkv, hd)
        if gemma:
            window = cfg["sliding_window"] if l % 2 == 0 else 0
            a = attention(q, k, v, cfg["query_pre_attn_scalar"] ** -0.5, cfg["attn_softcap"], window)
            x = x + rms_norm(a @ p("attn_output").T, p("post_attention_norm"), eps)
            h = rms_norm(x, p("ffn_norm"), eps)
            m = (ggml_gelu(h @ p("ffn_gate").T) * (h @ p("ffn_up").T)) @ p("ffn_down").T
            x = x + rms_norm(m, p("post_ffw_norm"), eps)
        else:
            a = attention(q, k, v, hd ** -0.5, 0, 0)
            x = x + a @ p("attn_output").T
            h = rms_norm(x, p("ffn_norm"), eps)
            x = x + (torch.nn.functional.silu(h @ p("ffn_gate").T) * (h @ p("ffn_up").T)) @ p("ffn_down").T
    return rms_norm(x, W["output_norm.weight"], eps)[-1]


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "manifest.json")) as f:
        man = json.load(f)
    W = read_safetensors(man["backbone"])
    hf = read_checkpoint(man["hf_dir"])
    w = hf["score.weight"].reshape(-1)
    b = float(hf["score.bias"].reshape(-1)[0]) if "score.bias" in hf else 0.0
    scores = [float(hidden_last(man["arch"], man["config"], W, ids) @ w + b) for ids in man["tokens"]]
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump({"scores": scores}, f)


if __name__ == "__main__":
    main()
