#!/usr/bin/env python3
"""restate_check.py GREEDY.jsonl DATA.jsonl: does a GRM restate the response it is judging?

For each "Response k: X, computed ..." / "Response k: X -> ..." line of a judgment (grm eval's
greedy.jsonl), checks that X occurs in the text of the response shown as Response k (after the
judgment's position shuffle). Counted only in the domains whose restatement is the response's
answer verbatim (arith, compare, count: a number; lookup: a name); elsewhere it is a paraphrase
("refuses", a re-joined list) and a substring test says nothing. Used for models/README.md's
linking diagnosis.
"""
import collections
import json
import re
import sys

VERBATIM = ("arith", "compare", "count", "lookup")
LINE = re.compile(r"^Response (\d+): (.*?)(?:, computed| ->| plus)", re.M)


def main(greedy_path, data_path):
    items = {}
    with open(data_path) as f:
        for line in f:
            r = json.loads(line)
            items[r["id"]] = r
    ok, total = collections.Counter(), collections.Counter()
    with open(greedy_path) as f:
        for line in f:
            r = json.loads(line)
            if r["domain"] not in VERBATIM:
                continue
            s = r["samples"][0]
            order, responses = s["order"], items[r["id"]]["responses"]
            for m in LINE.finditer(s["text"]):
                k, said = int(m.group(1)), m.group(2).strip()
                total[r["domain"]] += 1
                if 1 <= k <= len(order) and said and said in responses[order[k - 1]]:
                    ok[r["domain"]] += 1
    for d in VERBATIM:
        print(f"{d}: {ok[d]} / {total[d]} restatements found in the response they name")
    print(f"all: {sum(ok.values())} / {sum(total.values())}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: restate_check.py GREEDY.jsonl DATA.jsonl")
    main(sys.argv[1], sys.argv[2])
