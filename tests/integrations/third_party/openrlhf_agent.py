# Vendored from OpenRLHF (Apache License 2.0), https://github.com/OpenRLHF/OpenRLHF
# path openrlhf/utils/agent.py, commit 3c3be6234e0cb353e76bb8019947db9dfe99fca7:
# SingleTurnAgentExecutor's reward half: how --reward.remote_url is read (a .py file is loaded and
# its reward_func(queries, prompts, labels) called; else the URLs are POSTed {"query", "prompts",
# "labels"}, the batch sharded over them) and how the reply's rewards/scores/extra_logs are taken.
# Trimmed: the vLLM generation half of execute() (tokenizer, llm_engine, logprobs, images): score()
# below is execute()'s "Compute reward/score after generation" block, given the decoded query;
# logging_utils.init_logger -> logging.getLogger; aiohttp -> urllib in a thread (same payload, URL,
# retries, raise_for_status and JSON body; aiohttp is not a grm test dependency).
import asyncio
import json
import logging
import urllib.request

logger = logging.getLogger(__name__)


class SingleTurnAgentExecutor:
    """Single-turn agent executor with optional reward post-processing."""

    def __init__(self, remote_rm_url=None):
        reward_endpoints = [remote_rm_url] if isinstance(remote_rm_url, str) else remote_rm_url
        self.reward_endpoints = reward_endpoints or []

        # Optional user-provided reward_func from a Python file.
        self.reward_func = None
        if self.reward_endpoints and self.reward_endpoints[0].endswith(".py"):
            logger.info(f"Loading custom `reward_func(queries, prompts, labels)` from {self.reward_endpoints[0]}")
            import importlib.util

            spec = importlib.util.spec_from_file_location("reward_func", self.reward_endpoints[0])
            reward_module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(reward_module)
            self.reward_func = reward_module.reward_func

    async def score(self, query, prompt, label):
        output = {"reward": None, "scores": None, "extra_logs": {}}
        # Compute reward/score after generation.
        if self.reward_endpoints:
            try:
                if self.reward_func:
                    rewards_info_list = await self._fetch_rewards_via_func([query], [prompt], [label])
                else:
                    rewards_info_list = await self._fetch_rewards_via_http([query], [prompt], [label])
                rewards_info = rewards_info_list[0] if rewards_info_list else None
                if rewards_info:
                    score_value = rewards_info.get("scores")
                    if score_value is None:
                        score_value = rewards_info.get("rewards")
                    output.update(
                        reward=rewards_info.get("rewards"),
                        scores=score_value,
                        extra_logs=rewards_info.get("extra_logs") or {},
                    )
            except Exception as e:
                logger.info(f"[SingleTurnExecutor] Failed to fetch reward from remote RM: {e}")

        return output

    async def _fetch_rewards_via_func(self, queries_list, prompts_list, labels_list):
        """Compute rewards via user-provided Python function (thread offload)."""
        batch_size = 1
        num_chunks = (len(queries_list) + batch_size - 1) // batch_size

        tasks = []
        for i in range(num_chunks):
            start_idx = i * batch_size
            end_idx = min((i + 1) * batch_size, len(queries_list))
            tasks.append(
                asyncio.to_thread(
                    self.reward_func,
                    queries_list[start_idx:end_idx],
                    prompts_list[start_idx:end_idx],
                    labels_list[start_idx:end_idx],
                )
            )
        return await asyncio.gather(*tasks)

    async def _fetch_rewards_via_http(self, queries_list, prompts_list, labels_list):
        """HTTP fallback: shard requests across servers."""
        num_servers = len(self.reward_endpoints)
        batch_size = (len(queries_list) + num_servers - 1) // num_servers
        timeout = 180

        tasks = []
        for i, rm in enumerate(self.reward_endpoints):
            start_idx = i * batch_size
            end_idx = min((i + 1) * batch_size, len(queries_list))
            payload = {
                "query": queries_list[start_idx:end_idx],
                "prompts": prompts_list[start_idx:end_idx],
                "labels": labels_list[start_idx:end_idx],
            }

            def _post(url, data):
                req = urllib.request.Request(url, data=json.dumps(data).encode(), headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=timeout) as response:  # raises on 4xx/5xx
                    return json.load(response)

            async def _post_request(url, data, try_max_times=5):
                for _ in range(try_max_times):
                    try:
                        return await asyncio.to_thread(_post, url, data)
                    except Exception as e:  # pragma: no cover - defensive
                        logger.info(f"Unexpected error, please check: {e}")
                    await asyncio.sleep(1)

                raise RuntimeError(
                    f"Request error for {try_max_times} times, returning None. Please check the API server."
                )

            tasks.append(asyncio.create_task(_post_request(rm, payload)))
        return await asyncio.gather(*tasks)
