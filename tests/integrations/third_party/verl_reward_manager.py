# Vendored from verl (Apache License 2.0), https://github.com/volcengine/verl, commit
# b178a3cd56f58b2d502255daba591e92833930a7:
#   verl/trainer/ppo/reward.py: _call_with_kwargs, get_custom_reward_fn (custom_reward_function.path/name/reward_kwargs)
#   verl/utils/import_utils.py: load_module, load_extern_object
#   verl/workers/reward_manager/naive.py: NaiveRewardManager.__call__'s per-item compute_score call
# Trimmed: torch, ray, DataProto and the tokenizer. naive_rewards() takes items that already hold the
# decoded response (what NaiveRewardManager decodes from token ids) and returns the per-item rewards
# and reward_extra_info instead of writing them into a reward tensor; load_module keeps only the
# file-path branch (no "pkg://" / "file://" prefixes, no sys.modules registration); the async branch of get_custom_reward_fn is dropped.
import importlib.util
import os
from collections import defaultdict
from functools import partial


def load_module(module_path, module_name=None):
    if not os.path.exists(module_path):
        raise FileNotFoundError(f"Custom module file not found: {module_path=}")
    # Use the provided module_name for the spec, or derive a unique name to avoid collisions.
    spec_name = module_name or f"custom_module_{hash(os.path.abspath(module_path))}"
    spec = importlib.util.spec_from_file_location(spec_name, module_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"Could not load module from {module_path=}")

    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        raise RuntimeError(f"Error loading module from {module_path=}") from e
    return module


def load_extern_object(module_path, object_name):
    module = load_module(module_path)

    if not hasattr(module, object_name):
        raise AttributeError(f"Object not found in module: {object_name=}, {module_path=}.")

    return getattr(module, object_name)


def _call_with_kwargs(raw_fn, extra_kwargs, *args, **kwargs):
    merged_kwargs = {**kwargs, **extra_kwargs}
    return raw_fn(*args, **merged_kwargs)


def get_custom_reward_fn(config):
    reward_fn_config = config.get("custom_reward_function") or {}
    module_path = reward_fn_config.get("path")
    if not module_path:
        return None

    fn_name = reward_fn_config.get("name")
    assert fn_name is not None

    raw_fn = load_extern_object(module_path=module_path, object_name=fn_name)

    reward_kwargs = dict(reward_fn_config.get("reward_kwargs", {}))
    return partial(_call_with_kwargs, raw_fn, reward_kwargs)


def naive_rewards(compute_score, items, reward_fn_key="data_source"):
    """items: dicts with response_str, reward_model.ground_truth, data_source, extra_info (the non_tensor_batch)."""
    rewards = []
    reward_extra_info = defaultdict(list)
    for data_item in items:
        response_str = data_item["response_str"]
        ground_truth = data_item["reward_model"]["ground_truth"]
        data_source = data_item[reward_fn_key]
        extra_info = data_item.get("extra_info", {})
        num_turns = data_item.get("__num_turns__", None)
        rollout_reward_scores = data_item.get("reward_scores", {})
        extra_info["num_turns"] = num_turns
        extra_info["rollout_reward_scores"] = rollout_reward_scores

        score = compute_score(
            data_source=data_source,
            solution_str=response_str,
            ground_truth=ground_truth,
            extra_info=extra_info,
        )

        if isinstance(score, dict):
            reward = score["score"]
            # Store the information including original reward
            for key, value in score.items():
                reward_extra_info[key].append(value)
        else:
            reward = score
        rewards.append(reward)
    return rewards, reward_extra_info
