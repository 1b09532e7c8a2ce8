#!/usr/bin/env python3
"""restate_check.py GREEDY.jsonl DATA.jsonl: does a GRM restate the response it is judging?

For each "Response k: X, computed ..." / "Response k: X -> ..." line of a judgment (grm eval's
greedy.jsonl), checks that X occurs in the text of the response shown as Response k (after the
judgment's position shuffle). Counted only in the domains whose restatement is the response's
answer verbatim (arith, compare, count: a number; lookup: a name); elsewhere it is a paraphrase
("refuses", a re-joined list) and a substring test says nothing. Used for research/models-notebook.md's
linking diagnosis. For a quoting model (grm world rft --quote) it also counts, in every domain,
the "[Response k]" ... "[End of Response k]" quotes that reproduce Response k exactly. In every
domain it counts the verdict lines "Response k: X, computed Y[: same|different] -> correct|wrong"
whose verdict follows from the judgment's own X and Y (correct exactly when X == Y): whether the
model compares what it wrote, whatever X and Y are.
"""
import collections
import json
import re
import sys

VERBATIM = ("arith", "compare", "count", "lookup")
LINE = re.compile(r"^Response (\d+): (.*?)(?:, computed| ->| plus)", re.M)
VERDICT = re.compile(r"^Response \d+: (.*?), computed (.*?)(?:: (?:same|different))? -> (correct|wrong)", re.M)
QUOTE = re.compile(r"^\[Response ?(\d*)\]\n(.*?)\n\[End of Response ?\d*\]$", re.M | re.S)


def main(greedy_path, data_path):
    items = {}
    with open(data_path) as f:
        for line in f:
            r = json.loads(line)
            items[r["id"]] = r
    ok, total = collections.Counter(), collections.Counter()
    quoted, exact = collections.Counter(), collections.Counter()
    verdicts, follows = collections.Counter(), collections.Counter()
    with open(greedy_path) as f:
        for line in f:
            r = json.loads(line)
            s = r["samples"][0]
            order, responses = s["order"], items[r["id"]]["responses"]
            for m in QUOTE.finditer(s["text"]):
                k = int(m.group(1) or 1)
                quoted[r["domain"]] += 1
                exact[r["domain"]] += 1 <= k <= len(order) and m.group(2) == responses[order[k - 1]]
            for m in VERDICT.finditer(s["text"]):
                verdicts[r["domain"]] += 1
                follows[r["domain"]] += (m.group(1).strip() == m.group(2).strip()) == (m.group(3) == "correct")
            if r["domain"] not in VERBATIM:
                continue
            for m in LINE.finditer(s["text"]):
                k, said = int(m.group(1)), m.group(2).strip()
                total[r["domain"]] += 1
                if 1 <= k <= len(order) and said and said in responses[order[k - 1]]:
                    ok[r["domain"]] += 1
    for d in VERBATIM:
        print(f"{d}: {ok[d]} / {total[d]} restatements found in the response they name")
    print(f"all: {sum(ok.values())} / {sum(total.values())}")
    if quoted:
        for d in sorted(quoted):
            print(f"{d}: {exact[d]} / {quoted[d]} quotes exact")
        print(f"all quotes: {sum(exact.values())} / {sum(quoted.values())} exact")
    for d in sorted(verdicts):
        print(f"{d}: {follows[d]} / {verdicts[d]} verdicts follow from the line's own X and Y")
    print(f"all verdicts: {sum(follows.values())} / {sum(verdicts.values())} follow")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: restate_check.py GREEDY.jsonl DATA.jsonl")
    main(sys.argv[1], sys.argv[2])
