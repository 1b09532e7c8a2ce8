"""Framework integration test: integrations/*.py called through OpenRLHF's, verl's and TRL's own
calling code (third_party/, vendored) against a real `grm serve` on 127.0.0.1.

The server runs the "boxed seven" fixture model (every judgment is "\\boxed{7}"), so /get_reward is
7.0 exactly. /rule_reward is checked on prompts from `grm rl export`: a judgment that scores the
labelled best highest is +1, the mirror image -1, one without a box -1 with reason "no_box".
"""
import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "third_party"))
sys.path.insert(0, os.path.join(ROOT, "integrations"))

from openrlhf_agent import SingleTurnAgentExecutor  # noqa: E402
from trl_grpo_rewards import GRPOTrainerRewards, completions_from_texts  # noqa: E402
from verl_reward_manager import get_custom_reward_fn, naive_rewards  # noqa: E402

CHATML_PROMPT = "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"
failures = []


def check(name, got, want):
    if got != want:
        failures.append(f"{name}: got {got!r}, want {want!r}")
        print(f"FAIL {name}: got {got!r}, want {want!r}")
    else:
        print(f"ok   {name}")


def start_server(grm, model, tmp):
    port_file = os.path.join(tmp, "port")
    log = open(os.path.join(tmp, "serve.log"), "w")
    proc = subprocess.Popen([grm, "serve", "--model", model, "--port", "0", "--port-file", port_file, "-k", "2",
                             "--max-tokens", "16", "--ctx", "2048", "--threads", "1"], stdout=log, stderr=log)
    for _ in range(600):
        if proc.poll() is not None:
            sys.exit("grm serve exited: " + open(log.name).read()[-2000:])
        if os.path.exists(port_file) and open(port_file).read().strip():
            url = "http://127.0.0.1:" + open(port_file).read().strip()
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return proc, url
            except OSError:
                pass
        time.sleep(0.1)
    proc.kill()
    sys.exit("grm serve did not come up: " + open(log.name).read()[-2000:])


def export_prompts(grm, tmp):
    data = os.path.join(tmp, "train.jsonl")
    with open(data, "w") as f:
        f.write(json.dumps({"id": "pair", "query": "What is 2+2?", "responses": ["5", "4", "22"], "best": 1}) + "\n")
        f.write(json.dumps({"id": "single", "query": "Name a prime.", "responses": ["7"], "ratings": [8]}) + "\n")
    out = os.path.join(tmp, "prompts.jsonl")
    subprocess.run([grm, "rl", "export", "--data", data, "--out", out, "--seed", "3", "-k", "2"], check=True)
    return [json.loads(line) for line in open(out)]


def judgments(line):
    """(right, wrong) judgments for an exported line, from its label alone."""
    label = json.loads(line["label"])
    if label["n"] == 1:
        r = label["rating"]
        return f"Scores: \\boxed{{{r}}}", f"Scores: \\boxed{{{r % 10 + 1}}}"
    right = [2] * label["n"]
    right[label["best"]] = 9
    wrong = [9] * label["n"]
    wrong[label["best"]] = 2
    box = lambda s: "Analysis: ...\nScores: \\boxed{" + ", ".join(map(str, s)) + "}"
    return box(right), box(wrong)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grm", required=True)
    ap.add_argument("--fixture-model", required=True)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="grm-integrations-")
    model = os.path.join(tmp, "boxed-seven.gguf")
    subprocess.run([a.fixture_model, model], check=True)
    proc, url = start_server(a.grm, model, tmp)
    os.environ["GRM_URL"] = url
    try:
        run_checks(a.grm, url, tmp)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")
    print("all integration checks passed")


def run_checks(grm, url, tmp):
    # ---- OpenRLHF remote RM (/get_reward): one sample per request, two URLs ----
    # With two URLs and one query, OpenRLHF sends the query to the first and empty lists to the second.
    prompt = CHATML_PROMPT.format("What is 2+2?")
    ex = SingleTurnAgentExecutor([url + "/get_reward", url + "/get_reward"])
    out = asyncio.run(ex.score(prompt + "4<|im_end|>", prompt, None))
    check("openrlhf /get_reward reward", out["reward"], [7.0])
    check("openrlhf /get_reward score", [round(x, 12) for x in out["scores"]], [round(6 / 9, 12)])
    check("openrlhf /get_reward extra_logs.valid", out["extra_logs"]["valid"], [1.0])
    empty = asyncio.run(SingleTurnAgentExecutor(url + "/get_reward")._fetch_rewards_via_http([], [], []))
    check("openrlhf /get_reward empty lists", (empty[0]["rewards"], empty[0]["scores"]), ([], []))
    check("openrlhf /get_reward empty extra_logs", empty[0]["extra_logs"],
          {"valid": [], "n_valid": [], "n_voted": [], "unscorable_rate": []})

    # ---- grm rl export: prompts and labels agree ----
    lines = export_prompts(grm, tmp)
    check("export lines", [(l["id"], l["shuffle"]) for l in lines], [("pair", 0), ("pair", 1), ("single", 0), ("single", 1)])
    for l in lines:
        check(f"export {l['id']}/{l['shuffle']} messages", l["messages"], [{"role": "user", "content": l["prompt"]}])
        label = json.loads(l["label"])
        if label["n"] > 1:  # the labelled position shows the best response, "4"
            check(f"export {l['id']}/{l['shuffle']} best shown", f"[Response {label['best'] + 1}]\n4\n" in l["prompt"], True)
        else:
            check(f"export {l['id']}/{l['shuffle']} label", label, {"n": 1, "rating": 8})

    # ---- /rule_reward through each framework's calling code ----
    openrlhf = SingleTurnAgentExecutor(os.path.join(ROOT, "integrations", "openrlhf_reward.py"))
    verl_fn = get_custom_reward_fn({"custom_reward_function": {"path": os.path.join(ROOT, "integrations", "verl_reward.py"),
                                                               "name": "compute_score"}})
    import trl_reward
    trl = GRPOTrainerRewards([trl_reward.grm_rule_reward])
    for l in lines:
        right, wrong = judgments(l)
        texts = [right, wrong, "I cannot decide."]
        name = f"{l['id']}/{l['shuffle']}"
        want = [1.0, -1.0, -1.0]

        chat = CHATML_PROMPT.format(l["prompt"])
        got = [asyncio.run(openrlhf.score(chat + t + "<|im_end|>", chat, l["label"])) for t in texts]
        check(f"openrlhf reward_func {name}", [g["reward"] for g in got], [[w] for w in want])
        check(f"openrlhf reward_func {name} scores", [g["scores"] for g in got], [[1.0], [0.0], [0.0]])
        check(f"openrlhf reward_func {name} extra_logs.valid", [g["extra_logs"]["valid"] for g in got], [[1.0], [1.0], [0.0]])
        raw = asyncio.run(openrlhf._fetch_rewards_via_func([chat + texts[2]], [chat], [l["label"]]))
        check(f"openrlhf reward_func {name} reasons", raw[0]["reasons"], ["no_box"])

        items = [{"response_str": t, "reward_model": {"ground_truth": l["label"]}, "data_source": "grm"} for t in texts]
        rewards, extra = naive_rewards(verl_fn, items)
        check(f"verl compute_score {name}", rewards, want)
        check(f"verl compute_score {name} reasons", extra["reason"], ["none", "none", "no_box"])

        for style, prompts in (("text", [l["prompt"]] * 3), ("chat", [l["messages"]] * 3)):
            inputs = [{"prompt": p, "label": l["label"], "id": l["id"]} for p in prompts]
            completions = completions_from_texts(prompts, texts)
            check(f"trl completions are {style}", isinstance(completions[0], str), style == "text")
            trl._pending_extra_logs.clear()
            rows = trl._calculate_rewards(inputs, prompts, completions, [[0]] * 3)
            check(f"trl reward func {name} ({style})", [r[0] for r in rows], want)
            check(f"trl log_extra {name} ({style})", dict(trl._pending_extra_logs), {"grm_reason": ["none", "none", "no_box"]})

    # a row without a label is None -> NaN in TRL (left to other reward functions)
    rows = trl._calculate_rewards([{"prompt": "p", "label": None}], ["p"], ["Scores: \\boxed{7}"], [[0]])
    check("trl no label is NaN", rows[0][0] != rows[0][0], True)


if __name__ == "__main__":
    main()
