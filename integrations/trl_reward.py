"""TRL GRPO reward function: train a GRM with trl.GRPOTrainer, rewarded by grm's rule.

    from trl_reward import grm_rule_reward
    GRPOTrainer(..., reward_funcs=grm_rule_reward, train_dataset=ds)   # ds has a `label` column

TRL passes every dataset column as a keyword list; `label` is the one `grm rl export` writes.
Completions may be strings or chat messages ([{"role": "assistant", "content": ...}]). Rows without
a label get None (TRL leaves them to the other reward functions). Why a judgment was unscorable goes
to the completions table through TRL's `log_extra` when the trainer offers it.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from grm_client import post  # noqa: E402


def _text(completion):
    return completion if isinstance(completion, str) else completion[-1]["content"]


def grm_rule_reward(prompts, completions, label=None, **kwargs):
    labels = label if label is not None else [None] * len(completions)
    rows = [i for i, l in enumerate(labels) if l is not None]
    out = post("/rule_reward", {"judgments": [_text(completions[i]) for i in rows], "labels": [labels[i] for i in rows]})
    rewards = [None] * len(completions)
    reasons = ["no label"] * len(completions)
    for k, i in enumerate(rows):
        rewards[i], reasons[i] = out["rewards"][k], out["reasons"][k]
    if callable(kwargs.get("log_extra")):
        kwargs["log_extra"]("grm_reason", reasons)
    return rewards
