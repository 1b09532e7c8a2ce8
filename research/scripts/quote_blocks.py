#!/usr/bin/env python3
"""quote_blocks.py MODEL.gguf [N] [SEED]: how many response blocks does a model quote exactly?

Greedy llama-completion on the first N held-out quote-drill prompts (`grm world corpus
--quote-drill --count 300 --seed SEED`, default 7, as research/scripts/probe_skills.sh), each wrapped in the
ChatML turn the GRM is trained on; counts the blocks "[Response k]" ... "[End of Response k]" whose
text equals block k of the prompt, and the prompts with every block exact. Finer than the probe's
all-or-nothing quote skill. GRM_BIN and GRM_LLAMA_BIN as for probe_skills.sh.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

BLOCK = re.compile(r"\[Response ?(\d*)\]\n(.*?)\n\[End of Response ?\d*\]", re.S)


def main(model, n=20, seed=7):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    grm = os.environ.get("GRM_BIN", os.path.join(root, "build/tools/grm/grm"))
    llama = os.path.join(os.environ.get("GRM_LLAMA_BIN", os.path.expanduser("~/.cache/grm/llama.cpp-npm-3.21.1/bin")),
                         "llama-completion")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "quote.jsonl")
        subprocess.run([grm, "world", "corpus", "--quote-drill", "--count", "300", "--seed", str(seed), "--out", path],
                       check=True, capture_output=True, env=dict(os.environ, GRM_RESEARCH="1"))
        records = [json.loads(line) for line in open(path)][:n]
    blocks = exact = whole = 0
    for r in records:
        prompt = "<|im_start|>user\n" + r["prompt"] + "<|im_end|>\n<|im_start|>assistant\n"
        got = subprocess.run([llama, "-m", model, "-p", prompt, "--temp", "0", "-n", "400", "-t", "1", "-no-cnv",
                              "--no-display-prompt"], capture_output=True, text=True).stdout
        want, quoted = BLOCK.findall(r["completion"]), dict(BLOCK.findall(got))
        right = sum(quoted.get(k) == text for k, text in want)
        blocks, exact, whole = blocks + len(want), exact + right, whole + (right == len(want))
    print(f"quote blocks exact: {exact} / {blocks}; prompts with every block exact: {whole} / {len(records)}")


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:4]))
