#!/usr/bin/python3
"""Independent PyTorch reference for grm's C++ Llama decoder (tests/model/test_reference.cpp).

Written in the style of Meta's llama reference code (complex-number rotary embeddings on adjacent
pairs, repeat_interleave for grouped-query attention), sharing no code with the C++ side. Qwen2
(cfg "arch": "qwen2") as Hugging Face writes it: q/k/v biases and rotate_half rotary embeddings.
Run with Debian's python3-torch: /usr/bin/python3 torch_reference.py DIR

DIR/manifest.json (written by the C++ test) names the config, the train options, the parameters
(raw little-endian f32 files DIR/<name>.bin in torch layout) and the batches. Outputs:
  DIR/ref_logits.bin         logits of batch 0 with the initial weights, [B, T, V] f32
  DIR/ref_grad/<name>.bin    gradient of the batch-0 loss for each parameter
  DIR/ref_out.json           {"loss": batch-0 loss, "losses": loss of each AdamW step}
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope_freqs(cfg, positions):
    """Unit complex numbers e^{i pos theta_k}, [B, T, 1, hd/2], angles in float64."""
    hd = cfg["n_embd"] // cfg["n_head"]
    theta = float(cfg["rope_theta"]) ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    if cfg.get("rope_freq_factors"):  # Llama 3.1 scaling as llama.cpp's rope_freqs.weight
        theta = theta / torch.tensor(cfg["rope_freq_factors"], dtype=torch.float64)
    angles = positions.to(torch.float64)[..., None] * theta
    freqs = torch.polar(torch.ones_like(angles), angles)
    return freqs.to(torch.complex64)[:, :, None, :]


def apply_rope(x, freqs):
    # Adjacent pairs (x[2k], x[2k+1]) are the real and imaginary parts of one complex number.
    xc = torch.view_as_complex(x.float().reshape(*x.shape[:-1], -1, 2))
    return torch.view_as_real(xc * freqs).flatten(3)


def apply_rope_neox(x, freqs):
    # Hugging Face's rotate_half: x[i] and x[i + hd/2] are rotated together (cos/sin repeated).
    cos = torch.cat([freqs.real, freqs.real], -1)
    sin = torch.cat([freqs.imag, freqs.imag], -1)
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos + torch.cat([-x2, x1], -1) * sin


def forward(P, cfg, tokens, positions, doc):
    """Logits [B, T, V] for packed rows: attention within a document (doc ids) and causal."""
    B, T = tokens.shape
    H, Hkv = cfg["n_head"], cfg["n_head_kv"]
    hd = cfg["n_embd"] // H
    eps = cfg["rms_eps"]
    freqs = rope_freqs(cfg, positions)
    rope = apply_rope_neox if cfg.get("arch", "llama") == "qwen2" else apply_rope
    allowed = (doc[:, :, None] == doc[:, None, :]) & torch.ones(T, T, dtype=torch.bool).tril()
    x = F.embedding(tokens, P["token_embd.weight"])
    for l in range(cfg["n_layer"]):
        p = lambda n: P[f"blk.{l}.{n}.weight"]

        def linear(h, n):
            b = P.get(f"blk.{l}.{n}.bias")
            return h @ p(n).T if b is None else h @ p(n).T + b

        h = rms_norm(x, p("attn_norm"), eps)
        q = rope(linear(h, "attn_q").view(B, T, H, hd), freqs)
        k = rope(linear(h, "attn_k").view(B, T, Hkv, hd), freqs)
        v = linear(h, "attn_v").view(B, T, Hkv, hd)
        k = k.repeat_interleave(H // Hkv, dim=2)
        v = v.repeat_interleave(H // Hkv, dim=2)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        scores = scores.masked_fill(~allowed[:, None], float("-inf"))
        y = (F.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(B, T, H * hd)
        x = x + y @ p("attn_output").T
        h = rms_norm(x, p("ffn_norm"), eps)
        x = x + (F.silu(h @ p("ffn_gate").T) * (h @ p("ffn_up").T)) @ p("ffn_down").T
    x = rms_norm(x, P["output_norm.weight"], eps)
    out = P.get("output.weight", P["token_embd.weight"])
    return x @ out.T


def masked_loss(P, cfg, batch):
    logits = forward(P, cfg, batch["tokens"], batch["positions"], batch["doc"])
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch["targets"].reshape(-1), reduction="none")
    return (ce * batch["mask"].reshape(-1)).sum() / batch["mask"].sum().clamp(min=1), logits


def lr_at(o, step):
    if step < o["warmup"]:
        return o["lr"] * (step + 1) / o["warmup"]
    decay = max(1, o["steps"] - o["warmup"] - 1)
    t = min(1.0, (step - o["warmup"]) / decay)
    lo = o["lr"] * o["min_lr_ratio"]
    return lo + 0.5 * (o["lr"] - lo) * (1 + math.cos(math.pi * t))


def make_adamw(P, o):
    decay = [t for t in P.values() if t.dim() >= 2]
    rest = [t for t in P.values() if t.dim() < 2]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": o["weight_decay"]}, {"params": rest, "weight_decay": 0.0}],
        lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])


def train_step(P, cfg, o, opt, step, batch):
    opt.zero_grad()
    loss, _ = masked_loss(P, cfg, batch)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(list(P.values()), o["clip"] if o["clip"] > 0 else 1e30)
    for g in opt.param_groups:
        g["lr"] = lr_at(o, step)
    opt.step()
    return loss.item()


def init_params(cfg, seed):
    """Random parameters with the C++ names and shapes (for the benchmark)."""
    g = torch.Generator().manual_seed(seed)
    d, hd, V, ff = cfg["n_embd"], cfg["n_embd"] // cfg["n_head"], cfg["n_vocab"], cfg["n_ff"]
    kv = cfg["n_head_kv"] * hd
    shapes = {"token_embd.weight": (V, d)}
    for l in range(cfg["n_layer"]):
        for n, s in [("attn_norm", (d,)), ("attn_q", (d, d)), ("attn_k", (kv, d)), ("attn_v", (kv, d)),
                     ("attn_output", (d, d)), ("ffn_norm", (d,)), ("ffn_gate", (ff, d)), ("ffn_up", (ff, d)),
                     ("ffn_down", (d, ff))]:
            shapes[f"blk.{l}.{n}.weight"] = s
            if cfg.get("qkv_bias", False) and n in ("attn_q", "attn_k", "attn_v"):
                shapes[f"blk.{l}.{n}.bias"] = s[:1]
    shapes["output_norm.weight"] = (d,)
    if not cfg.get("tied_embeddings", True):
        shapes["output.weight"] = (V, d)
    P = {}
    for n, s in shapes.items():
        t = (torch.zeros(s) if n.endswith(".bias") else torch.ones(s)) if len(s) == 1 else torch.randn(s, generator=g) * 0.02
        P[n] = t.requires_grad_(True)
    return P


def main(d):
    with open(os.path.join(d, "manifest.json")) as f:
        m = json.load(f)
    cfg, o = m["config"], m["train"]
    P = {}
    for p in m["params"]:
        a = np.fromfile(os.path.join(d, p["name"] + ".bin"), dtype="<f4").reshape(p["shape"])
        P[p["name"]] = torch.from_numpy(a.copy()).requires_grad_(True)
    batches = []
    for b in m["batches"]:
        shape = b["shape"]
        t = lambda k, dt: torch.tensor(b[k], dtype=dt).reshape(shape)
        batches.append({"tokens": t("tokens", torch.long), "targets": t("targets", torch.long),
                        "positions": t("positions", torch.long), "doc": t("doc", torch.long),
                        "mask": t("mask", torch.float32)})

    loss, logits = masked_loss(P, cfg, batches[0])
    loss.backward()
    logits.detach().numpy().astype("<f4").tofile(os.path.join(d, "ref_logits.bin"))
    os.makedirs(os.path.join(d, "ref_grad"), exist_ok=True)
    for n, t in P.items():
        t.grad.numpy().astype("<f4").tofile(os.path.join(d, "ref_grad", n + ".bin"))

    opt = make_adamw(P, o)
    losses = [train_step(P, cfg, o, opt, step, batches[step]) for step in range(o["steps"])]
    with open(os.path.join(d, "ref_out.json"), "w") as f:
        json.dump({"loss": loss.item(), "losses": losses, "torch": torch.__version__}, f)


if __name__ == "__main__":
    main(sys.argv[1])
