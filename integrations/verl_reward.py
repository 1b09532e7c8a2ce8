"""verl custom reward function: train a GRM in verl, rewarded by grm's rule.

    custom_reward_function.path=/path/to/integrations/verl_reward.py
    custom_reward_function.name=compute_score

ground_truth is the `label` of `grm rl export` (put it in reward_model.ground_truth of the parquet).
Returns {"score": +1/-1, "correct": 1/0, "reason": "none" | why unscorable}; verl takes "score" as the
reward and keeps the other keys as per-sample extra info.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from grm_client import post  # noqa: E402


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    out = post("/rule_reward", {"judgments": [solution_str], "labels": [ground_truth]})
    return {"score": out["rewards"][0], "correct": out["scores"][0], "reason": out["reasons"][0]}
