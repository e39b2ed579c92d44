#!/usr/bin/env python3
"""What the embeddings add to a request, measured both ways in one run.

    python3 benches/meaning.py --bin target/release/concord --db sqlite:///PATH/reg.db [--n 200]

Serves the same register twice on loopback: once with the all-MiniLM-L6-v2
weights (meaning on: hybrid search, blended /similar) and once without
(CONCORD_MINILM_DIR pointed at an empty folder: lexical only). Each time it
waits for /readyz (every derived index caught up, the vectors too), then
sends, one at a time, `--n` searches (the dev split's search queries, as
users wrote them) and `--n` /similar drafts (the dev split's drafts), and
reports p50/p95/p99 latency and the server's resident memory. Standard
library only. The register is not changed; the vector file beside it is
reused (compute it first with evaluation/run.py --keep --vectors).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HELDOUT = REPO / "evaluation" / "heldout"


def dev(items):
    return [x for x in items if hashlib.sha256(x["id"].encode()).digest()[0] % 2 == 0]


def call(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"content-type": "application/json"} if data else {})
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            payload = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        payload, status = e.read(), e.code
    return status, payload, (time.perf_counter() - t) * 1000


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def rss_mib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run(bin_, db, model_dir, queries, drafts):
    env = dict(os.environ, CONCORD_MINILM_DIR=model_dir)
    p = subprocess.Popen([bin_, "--db", db, "serve", "--addr", "127.0.0.1:0"], cwd=REPO, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = None
        for line in p.stdout:
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                base = m.group(1).rstrip("/")
                break
        if not base:
            sys.exit("the server did not start")
        t0 = time.monotonic()
        while True:
            st, body, _ = call(base, "GET", "/readyz")
            if st == 200:
                ready = json.loads(body)
                break
            if time.monotonic() - t0 > 3600:
                sys.exit(f"not ready: {body[:300]}")
            time.sleep(2)
        out = {"method": ready["vectors"]["method"], "ready_s": round(time.monotonic() - t0, 1)}
        for name, reqs in (("search", [("GET", "/api/v1/search?per_page=10&q=" + urllib.parse.quote(q), None)
                                       for q in queries]),
                           ("similar", [("POST", "/api/v1/similar", {"text": d, "limit": 10}) for d in drafts])):
            lat = []
            for m, path, body in reqs:
                st, _, ms = call(base, m, path, body)
                if st != 200:
                    sys.exit(f"{name}: {st}")
                lat.append(ms)
            out[name] = {"n": len(lat), "p50": round(pct(lat, 50), 1), "p95": round(pct(lat, 95), 1),
                         "p99": round(pct(lat, 99), 1)}
        out["rss_mib"] = round(rss_mib(p.pid), 1)
        return out
    finally:
        p.terminate()
        p.wait(timeout=30)


def main():
    import urllib.parse  # noqa: F401
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(REPO / "target/release/concord"))
    ap.add_argument("--db", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--model", default=os.environ.get("CONCORD_MINILM_DIR", str(REPO / "models/all-MiniLM-L6-v2")))
    a = ap.parse_args()
    qs = [x["query"] for f in ("search_a.json", "search_b.json") for x in dev(json.loads((HELDOUT / f).read_text()))]
    ds = [x["draft"] for x in dev(json.loads((HELDOUT / "pairs.json").read_text()))]
    qs = (qs * (a.n // len(qs) + 1))[: a.n]
    ds = (ds * (a.n // len(ds) + 1))[: a.n]
    empty = tempfile.mkdtemp()
    for label, model in (("with embeddings", a.model), ("lexical only", empty)):
        r = run(a.bin, a.db, model, qs, ds)
        print(json.dumps({"run": label, **r}))


if __name__ == "__main__":
    import urllib.parse
    main()
