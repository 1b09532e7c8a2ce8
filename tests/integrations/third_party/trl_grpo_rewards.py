# Vendored from TRL (Apache License 2.0), https://github.com/huggingface/trl, commit
# f2cd57710ae345ea6428ae95363267fcf38a3dc8:
#   trl/trainer/grpo_trainer.py: GRPOTrainer._calculate_rewards (how reward functions are called:
#     every dataset column but prompt/completion/completion_ids as a keyword list, plus trainer_state,
#     log_extra, log_metric; None -> NaN), and how completions are built for chat prompts
#     (_generate_and_score_completions: [{"role": "assistant", "content": text}] per completion)
#   trl/data_utils.py: is_conversational
# Trimmed: torch (a list of rows instead of the rewards_per_func tensor, float("nan") for torch.nan),
# accelerate, the nn.Module reward-model branch, the async branch, profiling_context, environments.
import math
from collections import defaultdict


def is_conversational(example):
    supported_keys = ["prompt", "chosen", "rejected", "completion", "messages"]
    example_keys = {key for key in example.keys() if key in supported_keys}

    # It must have one of the supported keys
    if example_keys:
        key = example_keys.pop()  # take the first supported key
        maybe_messages = example[key]
        # It must be a list of messages
        if isinstance(maybe_messages, list):
            maybe_message = maybe_messages[0]
            # Each message must a list of dictionaries with keys "role" and "content"
            if isinstance(maybe_message, dict) and "role" in maybe_message:
                return True

    return False


def completions_from_texts(prompts, contents):
    """The completions GRPOTrainer hands reward functions for decoded texts `contents`."""
    if is_conversational({"prompt": prompts[0]}):
        return [[{"role": "assistant", "content": content}] for content in contents]
    return contents


class GRPOTrainerRewards:
    def __init__(self, reward_funcs):
        self.reward_funcs = reward_funcs
        self.state = None
        self._pending_extra_logs = defaultdict(list)
        self._pending_metrics = defaultdict(list)

    def _log_completion_extra(self, column, values):
        self._pending_extra_logs[column].extend(values)

    def _log_metric(self, name, value):
        self._pending_metrics[name].append(value)

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = [[0.0] * len(self.reward_funcs) for _ in prompts]

        # Repeat all input columns (but "prompt", "completion", and "completion_ids") to match the num of generations
        keys = [key for key in inputs[0] if key not in ["prompt", "completion", "completion_ids"]]
        reward_kwargs = {key: [example[key] for example in inputs] for key in keys}

        # This allows for dynamic reward shaping based on training progress.
        reward_kwargs["trainer_state"] = self.state

        # Allow reward functions to log extra columns to the completions table.
        reward_kwargs["log_extra"] = self._log_completion_extra

        # Allow reward functions to log additional scalar metrics.
        reward_kwargs["log_metric"] = self._log_metric

        for i, reward_func in enumerate(self.reward_funcs):
            output_reward_func = reward_func(
                prompts=prompts, completions=completions, completion_ids=completion_ids_list, **reward_kwargs
            )
            # Convert None values to NaN
            output_reward_func = [reward if reward is not None else math.nan for reward in output_reward_func]
            for row, reward in enumerate(output_reward_func):
                rewards_per_func[row][i] = float(reward)
        return rewards_per_func
