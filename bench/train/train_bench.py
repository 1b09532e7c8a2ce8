#!/usr/bin/python3
"""Python PyTorch side of bench/train: the reference decoder from tests/model/torch_reference.py
trained with AdamW on random full rows; prints one JSON line with the step times.
Run with Debian's python3-torch: /usr/bin/python3 train_bench.py --config CFG.json ..."""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "model"))
import torch_reference as ref  # noqa: E402


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
    o = {"steps": 1000, "warmup": 10, "lr": 1e-3, "min_lr_ratio": 0.1, "weight_decay": 0.1,
         "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "clip": 1.0}
    P = ref.init_params(cfg, 0)
    opt = ref.make_adamw(P, o)
    g = torch.Generator().manual_seed(1)
    B, T = a.batch, a.seq
    tokens = torch.randint(3, cfg["n_vocab"], (B, T + 1), generator=g)
    batch = {"tokens": tokens[:, :T], "targets": tokens[:, 1:], "positions": torch.arange(T).expand(B, T),
             "doc": torch.zeros(B, T, dtype=torch.long), "mask": torch.ones(B, T)}
    times = []
    for step in range(a.warmup_steps + a.steps):
        t0 = time.perf_counter()
        ref.train_step(P, cfg, o, opt, step, batch)
        if step >= a.warmup_steps:
            times.append(time.perf_counter() - t0)
    print(json.dumps({"step_seconds": times, "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
