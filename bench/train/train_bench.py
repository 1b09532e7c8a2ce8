#!/usr/bin/python3
"""Python PyTorch side of bench/train: the Python trainer's own model and loss (scripts/train_torch.py:
dense masked attention, as PyTorch 1.13 has no fused kernel) trained with its AdamW on random full
rows; prints one JSON line with the step times.
Run with Debian's python3-torch: /usr/bin/python3 train_bench.py --config CFG.json ..."""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import train_torch as tt  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup-steps", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    with open(a.config) as f:
        cfg = json.load(f)
    P = tt.init_params(cfg, 0, "cpu")
    decay = [t for t in P.values() if t.dim() >= 2]
    rest = [t for t in P.values() if t.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    g = torch.Generator().manual_seed(1)
    B, T = a.batch, a.seq
    tokens = torch.randint(3, cfg["n_vocab"], (B, T + 1), generator=g)
    batch = {"tokens": tokens[:, :T], "targets": tokens[:, 1:], "positions": torch.arange(T).expand(B, T),
             "doc": torch.zeros(B, T, dtype=torch.long), "mask": torch.ones(B, T)}
    times = []
    for step in range(a.warmup_steps + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = tt.masked_loss(P, cfg, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(P.values()), 1.0)
        opt.step()
        loss.item()
        if step >= a.warmup_steps:
            times.append(time.perf_counter() - t0)
    print(json.dumps({"step_seconds": times, "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
