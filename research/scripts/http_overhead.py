#!/usr/bin/env python3
"""Probe (issue 25): what HTTP itself adds to a /v1/judge request of a running `grm serve`.

The client's time per request (a new connection each, as OpenRLHF's remote RM client makes) minus
the server's own timings.queue_ms + timings.inference_ms. Distinct queries, shaped like
bench_server's. Usage (one terminal each, from the checkout):
  build/tools/grm/grm serve -m models/grm-gpu.gguf --threads 1 --port 18231 -k 8 --max-tokens 16 --temperature 1.0
  python3 research/scripts/http_overhead.py 18231 24
"""
import http.client
import json
import sys
import time

WORDS = ["alpha", "river", "stone", "market", "quiet", "signal", "orange", "vector", "mountain", "paper"]


def words(n, seed):
    return " ".join(WORDS[(i * 7 + seed * 13 + i // 3) % 10] for i in range(n))


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    total, overhead = [], []
    for i in range(n):
        q = 7000 + i
        body = json.dumps({"query": "Task %d: %s" % (q, words(40, q)), "responses": ["Answer 0: " + words(12, 100 * q)],
                           "k": 8, "seed": 0, "max_tokens": 16})
        t0 = time.perf_counter()
        c = http.client.HTTPConnection("127.0.0.1", port)
        c.request("POST", "/v1/judge", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        ms = (time.perf_counter() - t0) * 1e3
        if r.status != 200:
            sys.exit("HTTP %d: %s" % (r.status, data[:200]))
        t = json.loads(data)["timings"]
        total.append(ms)
        overhead.append(ms - t["queue_ms"] - t["inference_ms"])
    total.sort()
    overhead.sort()
    print("%d requests: client time p50 %.1f ms; HTTP overhead (client - queue - inference) p50 %.2f ms, min %.2f, max %.2f"
          % (n, total[n // 2], overhead[n // 2], overhead[0], overhead[-1]))


if __name__ == "__main__":
    main()
