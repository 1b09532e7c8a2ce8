#!/usr/bin/python3
# Independent PyTorch reference for the stage-2 losses (run with Debian's /usr/bin/python3):
# GRPO clipped-ratio loss + beta * k3 KL, BCE with logits, Bradley-Terry. Reads in.json from the
# directory given as argv[1], writes out.json with the losses and their input gradients.
import json
import sys

import torch

d = sys.argv[1]
with open(d + "/in.json") as f:
    x = json.load(f)
t = lambda k: torch.tensor(x[k], dtype=torch.float64)

# GRPO: written from the formula, token by token, not from the C++ code's tensor expressions.
logp = t("logp").requires_grad_(True)
old, ref, mask, adv = t("old"), t("ref"), t("mask"), t("adv")
eps, beta = x["clip_eps"], x["beta"]
B, C = logp.shape
total = 0.0
for b in range(B):
    seq, n = 0.0, 0.0
    for c in range(C):
        if mask[b, c] == 0:
            continue
        r = torch.exp(logp[b, c] - old[b, c])
        pg = -torch.minimum(r * adv[b], torch.clamp(r, 1 - eps, 1 + eps) * adv[b])
        kl = torch.exp(ref[b, c] - logp[b, c]) - (ref[b, c] - logp[b, c]) - 1
        seq = seq + pg + beta * kl
        n += 1
    total = total + seq / max(n, 1.0)
grpo = total / B
grpo.backward()

scores = t("scores").requires_grad_(True)
labels = t("labels")
bce = torch.nn.BCEWithLogitsLoss()(scores, labels)
bce.backward()

rc = t("rc").requires_grad_(True)
rr = t("rr").requires_grad_(True)
bt = -torch.nn.functional.logsigmoid(rc - rr).mean()
bt.backward()

out = {
    "grpo": grpo.item(), "grpo_grad": logp.grad.tolist(),
    "bce": bce.item(), "bce_grad": scores.grad.tolist(),
    "bt": bt.item(), "bt_grad_c": rc.grad.tolist(), "bt_grad_r": rr.grad.tolist(),
}
with open(d + "/out.json", "w") as f:
    json.dump(out, f)
