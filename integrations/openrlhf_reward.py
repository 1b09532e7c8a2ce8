"""OpenRLHF custom reward function: train a GRM with GRPO/PPO in OpenRLHF, rewarded by grm's rule.

    --reward.remote_url /path/to/integrations/openrlhf_reward.py   (older releases: --remote_rm_url)
    --label_key label   (the column `grm rl export` writes)

OpenRLHF calls reward_func(queries, prompts, labels): query = prompt + generated judgment with the
special tokens kept; grm splits off the prompt, parses the judgment's \\boxed{} scores and checks them
against the label (Eq. 10): reward +1 / -1, score 1 / 0. `reasons` (why a judgment was unscorable)
rides along; OpenRLHF ignores keys it does not know.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from grm_client import post  # noqa: E402


def reward_func(queries, prompts, labels, **kwargs):
    out = post("/rule_reward", {"query": list(queries), "prompts": list(prompts), "labels": list(labels)})
    return {"rewards": out["rewards"], "scores": out["scores"], "extra_logs": out["extra_logs"], "reasons": out["reasons"]}
