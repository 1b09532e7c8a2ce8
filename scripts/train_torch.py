#!/usr/bin/env python3
"""Train grm's Llama-family decoder in PyTorch, on a GPU when there is one.

The accelerator path beside `grm train` (libtorch, CPU): the same model (tests/model/torch_reference.py
is its independent reference, and --self-check compares this file's fast forward with it), the same
data (`grm tokenize` writes it), the same loss (completion tokens only, documents packed with
per-document attention), AdamW with cosine decay. The result is a raw parameter directory
(manifest.json + weights.bin) that `grm import` turns into a checkpoint.

  grm tokenize --data train.jsonl --vocab vocab.gguf -o train.tok
  python3 scripts/train_torch.py --data train.tok --config model.json --out params/ --steps 4000 \
      --batch 64 --seq 1024 --lr 1e-3 --time-budget 480
  grm import --params params/ -o run/ && grm export --checkpoint run/ --vocab vocab.gguf -o model.gguf

--time-budget S sets the number of steps from the speed of steps 10-30 so that the whole cosine
fits in S seconds (the schedule is fixed from step 30 on; --steps stays the upper bound). --self-check runs on the CPU.

Every save (--save-every seconds, --until STEP, the end) writes the parameters and state.pt (step,
schedule, optimizer moments, data order and the parameters again, so that one atomic file holds a
consistent state); --resume --out DIR continues from there exactly as if the run had not stopped
(bit-identical on the CPU), for leases shorter than the run.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------------
# data: grm token files (layout in src/model/torch_exchange.h)


def read_token_file(path):
    """(ids int64 [n_tokens], lengths int64 [n_examples], n_prompt int64 [n_examples], n_vocab)."""
    with open(path, "rb") as f:
        head = f.read(32)
        if head[:8] != b"GRMTOK01":
            sys.exit(f"{path}: not a grm token file (magic GRMTOK01)")
        width, n_vocab = np.frombuffer(head[8:16], "<u4")
        n_ex, n_tok = np.frombuffer(head[16:32], "<u8")
        lens = np.fromfile(f, "<u4", int(n_ex)).astype(np.int64)
        n_prompt = np.fromfile(f, "<u4", int(n_ex)).astype(np.int64)
        ids = np.fromfile(f, "<u2" if width == 2 else "<i4", int(n_tok)).astype(np.int64)
    if ids.size != n_tok or lens.sum() != n_tok or (n_prompt > lens).any():
        sys.exit(f"{path}: truncated or inconsistent ({ids.size} of {n_tok} tokens)")
    return ids, lens, n_prompt, int(n_vocab)


class Data:
    """Examples as flat ids with each example's start, length and prompt length."""

    def __init__(self, ids, lens, n_prompt, n_vocab):
        self.ids, self.lens, self.n_prompt, self.n_vocab = ids, lens, n_prompt, n_vocab
        self.starts = np.concatenate([[0], np.cumsum(lens)[:-1]])


def load_data(paths):
    """One Data of several token files."""
    parts = [read_token_file(p) for p in paths]
    vocabs = {p[3] for p in parts}
    if len(vocabs) != 1:
        sys.exit(f"the token files have different vocabulary sizes {sorted(vocabs)}")
    return Data(*(np.concatenate([p[k] for p in parts]) for k in range(3)), vocabs.pop())


def pack_rows(data, seq, rng):
    """First-fit packing of whole examples (longer ones cut into windows of `seq` overlapping by
    one) in a seeded order into rows of `seq` positions: tokens, targets, positions (from 0 in each
    document), doc ids (-1 on padding) and the loss mask (targets after the prompt); [R, seq] each."""
    ex, win = [], []  # units: (example, window start)
    for i, n in enumerate(data.lens):
        for s in range(0, max(1, int(n) - 1), seq - 1):
            if min(seq, n - s) >= 2 and s + min(seq, n - s) - 1 >= data.n_prompt[i]:
                ex.append(i)
                win.append(s)
    ex, win = np.array(ex, np.int64), np.array(win, np.int64)
    n_pos = np.minimum(seq, data.lens[ex] - win) - 1  # positions a unit fills (its inputs)
    order = rng.permutation(len(ex))
    row, off, doc = np.empty(len(ex), np.int64), np.empty(len(ex), np.int64), np.empty(len(ex), np.int64)
    free, count = [], []
    for u in order:  # first fit among the last 8 open rows
        n = n_pos[u]
        for r in range(max(0, len(free) - 8), len(free)):
            if free[r] >= n:
                break
        else:
            r = len(free)
            free.append(seq)
            count.append(0)
        row[u], off[u], doc[u] = r, seq - free[r], count[r]
        free[r] -= n
        count[r] += 1
    R = len(free)
    within = np.arange(n_pos.sum()) - np.repeat(np.cumsum(n_pos) - n_pos, n_pos)
    unit = np.repeat(np.arange(len(ex)), n_pos)
    dest = row[unit] * seq + off[unit] + within
    src = data.starts[ex[unit]] + win[unit] + within
    out = {k: np.zeros(R * seq, np.int64) for k in ("tokens", "targets", "positions")}
    out["doc"] = np.full(R * seq, -1, np.int64)
    out["mask"] = np.zeros(R * seq, np.float32)
    out["tokens"][dest] = data.ids[src]
    out["targets"][dest] = data.ids[src + 1]
    out["positions"][dest] = within
    out["doc"][dest] = doc[unit]
    out["mask"][dest] = (win[unit] + within + 1 >= data.n_prompt[ex[unit]])
    return {k: torch.from_numpy(v.reshape(R, seq)) for k, v in out.items()}


# ---------------------------------------------------------------------------------------------
# model: parameters named and shaped as the C++ Transformer registers them (GGUF names)


def init_params(cfg, seed, device):
    """As TransformerImpl::init_weights: N(0, 0.02), residual projections N(0, 0.02/sqrt(2L)), norms 1."""
    g = torch.Generator().manual_seed(seed)
    d, hd, V, ff = cfg["n_embd"], cfg["n_embd"] // cfg["n_head"], cfg["n_vocab"], cfg["n_ff"]
    kv = cfg["n_head_kv"] * hd
    shapes = {"token_embd.weight": (V, d)}
    for l in range(cfg["n_layer"]):
        for n, s in [("attn_norm", (d,)), ("attn_q", (d, d)), ("attn_k", (kv, d)), ("attn_v", (kv, d)),
                     ("attn_output", (d, d)), ("ffn_norm", (d,)), ("ffn_gate", (ff, d)), ("ffn_up", (ff, d)),
                     ("ffn_down", (d, ff))]:
            shapes[f"blk.{l}.{n}.weight"] = s
    shapes["output_norm.weight"] = (d,)
    if not cfg["tied_embeddings"]:
        shapes["output.weight"] = (V, d)
    resid_sd = 0.02 / math.sqrt(2 * cfg["n_layer"])
    P = {}
    for n, s in shapes.items():
        if len(s) == 1:
            t = torch.ones(s)
        else:
            sd = resid_sd if ("attn_output" in n or "ffn_down" in n) else 0.02
            t = torch.randn(s, generator=g) * sd
        P[n] = t.to(device).requires_grad_(True)
    return P


def rope_tables(cfg, positions):
    """cos, sin [B, T, 1, hd/2] for adjacent-pair rotation, angles in float64 as in the C++ model."""
    hd = cfg["n_embd"] // cfg["n_head"]
    inv = float(cfg["rope_theta"]) ** (-torch.arange(0, hd, 2, dtype=torch.float64, device=positions.device) / hd)
    a = positions.to(torch.float64)[..., None] * inv
    return torch.cos(a).float()[:, :, None, :], torch.sin(a).float()[:, :, None, :]


def rope(x, cos, sin):
    """x [B, T, H, hd]: pairs (x[2k], x[2k+1]) rotated by the position's angle k."""
    xe, xo = x[..., 0::2].float(), x[..., 1::2].float()
    return torch.stack((xe * cos - xo * sin, xe * sin + xo * cos), dim=-1).flatten(-2).to(x.dtype)


def rms_norm(x, w, eps):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * w


def attention(q, k, v, allowed):
    """softmax(q k^T / sqrt(hd)) v over the allowed keys; q, k, v [B, H, T, hd], allowed [B, 1, T, T]."""
    if hasattr(F, "scaled_dot_product_attention"):  # fused kernels (PyTorch >= 2.0)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    s = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    return F.softmax(s.masked_fill(~allowed, float("-inf")), dim=-1) @ v


def forward(P, cfg, tokens, positions, doc):
    """Logits [B, T, V]: attention causal and within a document (doc ids; -1 is padding)."""
    B, T = tokens.shape
    H, Hkv = cfg["n_head"], cfg["n_head_kv"]
    hd, eps = cfg["n_embd"] // H, cfg["rms_eps"]
    cos, sin = rope_tables(cfg, positions)
    causal = torch.ones(T, T, dtype=torch.bool, device=tokens.device).tril()
    allowed = ((doc[:, :, None] == doc[:, None, :]) & causal)[:, None]  # [B, 1, T, T]; padding (-1) sees padding
    x = F.embedding(tokens, P["token_embd.weight"])
    for l in range(cfg["n_layer"]):
        p = lambda n: P[f"blk.{l}.{n}.weight"]
        h = rms_norm(x, p("attn_norm"), eps)
        q = rope(F.linear(h, p("attn_q")).view(B, T, H, hd), cos, sin).transpose(1, 2)
        k = rope(F.linear(h, p("attn_k")).view(B, T, Hkv, hd), cos, sin).transpose(1, 2)
        v = F.linear(h, p("attn_v")).view(B, T, Hkv, hd).transpose(1, 2)
        k = k.repeat_interleave(H // Hkv, dim=1)
        v = v.repeat_interleave(H // Hkv, dim=1)
        y = attention(q, k, v, allowed)
        x = x + F.linear(y.transpose(1, 2).reshape(B, T, H * hd), p("attn_output"))
        h = rms_norm(x, p("ffn_norm"), eps)
        x = x + F.linear(F.silu(F.linear(h, p("ffn_gate"))) * F.linear(h, p("ffn_up")), p("ffn_down"))
    x = rms_norm(x, P["output_norm.weight"], eps)
    return F.linear(x, P.get("output.weight", P["token_embd.weight"]))


def masked_loss(P, cfg, b):
    logits = forward(P, cfg, b["tokens"], b["positions"], b["doc"])
    ce = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), b["targets"].reshape(-1), reduction="none")
    m = b["mask"].reshape(-1)
    return (ce * m).sum() / m.sum().clamp(min=1)


def lr_at(a, steps, step):
    """Linear warmup, then cosine to min_lr_ratio x lr: the C++ trainer's schedule."""
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    t = min(1.0, (step - a.warmup) / max(1, steps - a.warmup - 1))
    lo = a.lr * a.min_lr_ratio
    return lo + 0.5 * (a.lr - lo) * (1 + math.cos(math.pi * t))


# ---------------------------------------------------------------------------------------------
# raw parameter directories (layout in src/model/torch_exchange.h)


def save_params(out, cfg, P):
    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, f"weights.bin.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        for t in P.values():
            f.write(t.detach().float().cpu().contiguous().numpy().astype("<f4").tobytes())
    os.replace(tmp, os.path.join(out, "weights.bin"))
    m = {"config": cfg, "params": [{"name": n, "shape": list(t.shape)} for n, t in P.items()]}
    with open(os.path.join(out, "manifest.json.tmp"), "w") as f:
        json.dump(m, f, indent=1)
    os.replace(os.path.join(out, "manifest.json.tmp"), os.path.join(out, "manifest.json"))


def save_state(out, state):
    tmp = os.path.join(out, f"state.pt.tmp-{os.getpid()}")
    torch.save(state, tmp)
    os.replace(tmp, os.path.join(out, "state.pt"))


def load_params(d, cfg, device):
    with open(os.path.join(d, "manifest.json")) as f:
        m = json.load(f)
    w = np.fromfile(os.path.join(d, "weights.bin"), "<f4")
    P, at = {}, 0
    for e in m["params"]:
        n = int(np.prod(e["shape"]))
        P[e["name"]] = torch.from_numpy(w[at:at + n].reshape(e["shape"]).copy()).to(device).requires_grad_(True)
        at += n
    if at != w.size or m["config"]["n_embd"] != cfg["n_embd"] or m["config"]["n_layer"] != cfg["n_layer"]:
        sys.exit(f"{d}: parameters do not match the config")
    return P


def full_config(path, n_vocab):
    with open(path) as f:
        c = json.load(f)
    c.setdefault("n_head_kv", c["n_head"])
    c.setdefault("rms_eps", 1e-5)
    c.setdefault("rope_theta", 10000.0)
    c.setdefault("tied_embeddings", True)
    if c.get("arch", "llama") != "llama" or c.get("qkv_bias", False):
        sys.exit(f"{path}: only llama configs without q/k/v biases train here (arch {c.get('arch')})")
    if not c.get("n_vocab"):
        c["n_vocab"] = n_vocab
    if c["n_vocab"] != n_vocab:
        sys.exit(f"config n_vocab {c['n_vocab']} differs from the token file's {n_vocab}")
    return c


# ---------------------------------------------------------------------------------------------


def self_check():
    """This file's forward and loss against tests/model/torch_reference.py on random weights."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "model"))
    import torch_reference as ref
    cfg = {"n_vocab": 61, "n_ctx": 32, "n_embd": 24, "n_layer": 2, "n_head": 4, "n_head_kv": 2, "n_ff": 40,
           "rms_eps": 1e-5, "rope_theta": 10000.0, "tied_embeddings": True}
    rng = np.random.default_rng(3)
    shape = [(9, 4), (14, 10), (5, 2), (30, 3), (40, 20)]
    lens = np.array([n for n, _ in shape])
    data = Data(rng.integers(3, 61, int(lens.sum())), lens, np.array([p for _, p in shape]), 61)
    b = pack_rows(data, 16, np.random.default_rng(0))
    P = init_params(cfg, 1, "cpu")
    got = forward(P, cfg, b["tokens"], b["positions"], b["doc"])
    want = ref.forward(P, cfg, b["tokens"], b["positions"], b["doc"])
    real = b["doc"] >= 0
    err = (got - want).abs()[real].max().item()
    n_targets = int(b["mask"].sum().item())
    expect = sum(n - p for n, p in shape)
    print(json.dumps({"rows": int(b["tokens"].shape[0]), "max_abs_logit_diff": err, "targets": n_targets,
                      "expected_targets": expect}))
    same_doc = (b["doc"][:, 1:] == b["doc"][:, :-1]) & (b["doc"][:, 1:] >= 0)
    chained = bool((b["targets"][:, :-1] == b["tokens"][:, 1:])[same_doc].all())  # each document is one run of ids
    if err > 1e-4 or n_targets != expect or not chained:
        sys.exit("self-check failed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", nargs="+", help="grm token files (grm tokenize), trained on as one set")
    ap.add_argument("--config", help="model config JSON, as grm train --config")
    ap.add_argument("--out", help="raw parameter directory to write")
    ap.add_argument("--init", help="raw parameter directory to start from")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--time-budget", type=float, default=0, help="seconds for the whole run (0: --steps)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr-ratio", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--save-every", type=float, default=120, help="seconds between saves of --out")
    ap.add_argument("--until", type=int, default=0, help="save and stop after this step (the schedule still ends at --steps)")
    ap.add_argument("--resume", action="store_true", help="continue the run saved in --out (same --data and --config)")
    ap.add_argument("--self-check", action="store_true")
    a = ap.parse_args()
    if a.self_check:
        return self_check()
    if not (a.data and a.config and a.out):
        ap.error("--data, --config and --out are required")
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = True
    data = load_data(a.data)
    cfg = full_config(a.config, data.n_vocab)
    if a.seq > cfg["n_ctx"]:
        sys.exit(f"--seq {a.seq} exceeds n_ctx {cfg['n_ctx']}")
    st = torch.load(os.path.join(a.out, "state.pt"), map_location=dev) if a.resume else None
    if st:
        P = {n: t.to(dev).requires_grad_(True) for n, t in st["params"].items()}
    else:
        P = load_params(a.init, cfg, dev) if a.init else init_params(cfg, a.seed, dev)
    decay = [t for t in P.values() if t.dim() >= 2]
    rest = [t for t in P.values() if t.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay}, {"params": rest, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8, **({"fused": True} if dev == "cuda" else {}))
    rng = np.random.default_rng(a.seed)
    n_params = sum(t.numel() for t in P.values())
    n_tokens = int(data.lens.sum())
    os.makedirs(a.out, exist_ok=True)
    log = open(os.path.join(a.out, "log.jsonl"), "a")
    print(json.dumps({"device": torch.cuda.get_device_name() if dev == "cuda" else "cpu", "torch": torch.__version__,
                      "params": n_params, "examples": len(data.lens), "tokens": n_tokens, "config": cfg}), flush=True)
    steps, step, epoch, t0, last_save, start = a.steps, 0, 0, time.time(), time.time(), 0
    t10, epoch_rng = t0, rng.bit_generator.state
    if st:  # the epoch's packing and order are redrawn from the saved generator state, then skipped to `pos`
        steps, step, epoch, start = st["steps"], st["step"], st["epoch"], st["pos"]
        opt.load_state_dict(st["opt"])
        rng.bit_generator.state = st["epoch_rng"]
        print(json.dumps({"resumed": step, "steps": steps}), flush=True)

    def save(pos):
        save_params(a.out, cfg, P)
        save_state(a.out, {"step": step, "steps": steps, "epoch": epoch, "pos": pos, "epoch_rng": epoch_rng,
                           "opt": opt.state_dict(), "params": {n: t.detach().cpu() for n, t in P.items()}})

    while step < steps:
        epoch_rng = rng.bit_generator.state
        rows = pack_rows(data, a.seq, rng)
        order = torch.from_numpy(rng.permutation(rows["tokens"].shape[0]))
        for i in range(start, len(order) - a.batch + 1, a.batch):
            if step >= steps or (a.until and step >= a.until):
                break
            b = {k: v[order[i:i + a.batch]].to(dev, non_blocking=True) for k, v in rows.items()}
            for g in opt.param_groups:
                g["lr"] = lr_at(a, steps, step)
            with torch.autocast(dev, dtype=torch.bfloat16, enabled=(dev == "cuda")):
                loss = masked_loss(P, cfg, b)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(P.values()), a.clip if a.clip > 0 else 1e30)
            opt.step()
            step += 1
            if step in (10, 30) and dev == "cuda":
                torch.cuda.synchronize()
            if step == 10:
                t10 = time.time()
            if step == 30 and a.time_budget > 0:  # steps 10..30 time the step; the rest of the budget sets the schedule
                per = (time.time() - t10) / 20
                steps = min(a.steps, max(31, 30 + int((a.time_budget - (time.time() - t0)) / per)))
            if step % 50 == 0 or step == steps:
                rec = {"step": step, "steps": steps, "epoch": epoch, "loss": loss.item(),
                       "lr": lr_at(a, steps, step - 1), "seconds": round(time.time() - t0, 1)}
                print(json.dumps(rec), flush=True)
                log.write(json.dumps(rec) + "\n")
                log.flush()
            if time.time() - last_save > a.save_every or step == a.until:
                save(i + a.batch)
                last_save = time.time()
        if a.until and step >= a.until:
            print(json.dumps({"stopped": step, "steps": steps, "seconds": round(time.time() - t0, 1)}), flush=True)
            return
        start = 0
        epoch += 1
    save(0)
    print(json.dumps({"done": step, "epochs": epoch, "seconds": round(time.time() - t0, 1)}), flush=True)


if __name__ == "__main__":
    main()
