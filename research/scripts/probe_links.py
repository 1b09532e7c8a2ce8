#!/usr/bin/env python3
"""probe_links.py TRAJECTORIES.jsonl URL: which link of a judgment fails, under teacher forcing.

A judgment is a chain: the work ("Analysis:" and its first line, e.g. the letters of a word or the
column steps of a sum), then per response "Response k: X, computed Y[: same|different] -> V".
A greedy sample mixes up the links: a wrong restatement X, a wrong copy Y of the work's result and
a verdict V that ignores both all look alike in the score. Here every link is asked for alone,
with the teacher's own trajectory as the prefix (teacher forcing), from a llama-server at URL:
  work      the first line after "Analysis:\n"            (exact line)
  restate   X after "Response k:"                          (the response's answer, from the prompt)
  computed  Y after ", computed"                           (the result, from the model's own work)
  match     same|different after Y, when the format has it (compare X and Y)
  verdict   V after " ->"                                  (follows from X and Y)
  X = Y     the verdict lines where X is Y (the teacher says "correct"): does the model see equality?
A link counts as right when the greedy continuation starts with the teacher's text and does not go
on with a letter or digit. Only trajectories of kind "rft" are used (grm world rft output).
"""
import collections
import json
import re
import sys
import urllib.request

LINE = re.compile(r"^(Response \d+:)( .*?)(, computed)( .*?)(?:(:)( same| different))?( ->)( \w+)", re.M)
LINKS = ("work", "restate", "computed", "match", "verdict", "X = Y")


def complete(url, prompt, n):
    req = {"prompt": prompt, "n_predict": n, "temperature": 0, "cache_prompt": True}
    r = urllib.request.Request(url + "/completion", json.dumps(req).encode(), {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(r, timeout=600))["content"]


def starts(got, want):
    return got.startswith(want) and not got[len(want):len(want) + 1].isalnum()


def main(path, url):
    right, asked = collections.Counter(), collections.Counter()
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r.get("kind") != "rft":
                continue
            d, comp = r["domain"], r["completion"]
            # The prefix is exactly what the GRM sees at inference: llama.cpp's ChatML turn.
            head = "<|im_start|>user\n" + r["prompt"] + "<|im_end|>\n<|im_start|>assistant\n"
            a = comp.find("Analysis:\n")
            if a >= 0:
                a += len("Analysis:\n")
                want = comp[a:].split("\n")[0]
                asked[d, "work"] += 1
                right[d, "work"] += complete(url, head + comp[:a], 200).split("\n")[0] == want
            for m in LINE.finditer(comp):
                cuts = [("restate", m.end(1), m.group(2)), ("computed", m.end(3), m.group(4)),
                        ("verdict", m.end(7), m.group(8))]
                if m.group(6):
                    cuts.append(("match", m.end(5), m.group(6)))
                for link, cut, want in cuts:
                    ok = starts(complete(url, head + comp[:cut], 32), want)
                    asked[d, link] += 1
                    right[d, link] += ok
                    if link == "verdict" and m.group(2).strip() == m.group(4).strip():
                        asked[d, "X = Y"] += 1
                        right[d, "X = Y"] += ok
    domains = sorted({d for d, _ in asked})
    links = [l for l in LINKS if any(asked[d, l] for d in domains)]
    print("| domain | " + " | ".join(links) + " |")
    print("|---|" + "---|" * len(links))
    for d in domains + ["all"]:
        cells = []
        for l in links:
            r_ = sum(right[x, l] for x in domains) if d == "all" else right[d, l]
            n_ = sum(asked[x, l] for x in domains) if d == "all" else asked[d, l]
            cells.append(f"{r_}/{n_}" if n_ else "")
        print(f"| {d} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: probe_links.py TRAJECTORIES.jsonl SERVER_URL")
    main(sys.argv[1], sys.argv[2])
