#!/usr/bin/env python3
"""What an anonymous caller can do to a running Concord, measured (issue #14).

    python3 benches/trust.py --bin target/release/concord [--bin-before OLD] \
        [--records 30000] [--seconds 60] [--work DIR]

Builds a register of `--records` generated recommendations once (kept in
`--work`, reused on the next run), then for each binary given (the current
build, and optionally an older one: the obvious alternative, side by side in
one run) serves a copy of it on loopback and measures:

1. a record page's latency (p50/p95/p99) with nobody else about;
2. the same while 8 anonymous clients call /api/v1/duplicates,
   /api/v1/contradictions and POST /api/v1/check (50 drafts) in a loop;
3. /healthz latency while 20,000 connections that send nothing are opened
   (from 127.0.0.2 and up: one attacker, many addresses);
4. how much the database grows for 10,000 requests with a bad token and a
   60 KB path;
5. /healthz latency while 100 sign-ins a second arrive (wrong passwords for
   many emails), and how many of them were answered 401 (checked) or 429.

Standard library only. Writes Markdown to standard output.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


class Conn:
    """One keep-alive HTTP connection (reopened when the server closes it)."""

    def __init__(self, host, port, source=None):
        self.host, self.port, self.source = host, port, source
        self.c = None

    def request(self, method, path, body=None, headers=None, timeout=120):
        for attempt in range(2):
            if self.c is None:
                self.c = http.client.HTTPConnection(
                    self.host, self.port, timeout=timeout,
                    source_address=(self.source, 0) if self.source else None)
            t = time.perf_counter()
            try:
                self.c.request(method, path, body=body, headers=headers or {})
                r = self.c.getresponse()
                data = r.read()
                self.headers = r.getheaders()
                return r.status, data, (time.perf_counter() - t) * 1000
            except (ConnectionError, http.client.HTTPException, OSError) as e:
                self.c.close()
                self.c = None
                if attempt == 1:
                    return 0, str(e).encode(), (time.perf_counter() - t) * 1000
        return 0, b"", 0.0


def wait_ready(port, proc, seconds=3600):
    end = time.time() + seconds
    c = Conn("127.0.0.1", port)
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped: {proc.returncode}")
        s, _, _ = c.request("GET", "/readyz", timeout=5)
        if s == 200:
            return
        time.sleep(1)
    raise SystemExit("the server never became ready")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def db_bytes(path: Path):
    """The database file after its write-ahead log is folded in (the log
    keeps its size between checkpoints, which is not growth)."""
    import sqlite3
    try:
        c = sqlite3.connect(str(path), timeout=30)
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        c.close()
    except sqlite3.Error:
        pass
    return path.stat().st_size


def audit(path: Path):
    """Rows of the audit trail and the bytes of their text."""
    import sqlite3
    c = sqlite3.connect(str(path), timeout=30)
    row = c.execute("SELECT COUNT(*), COALESCE(SUM(LENGTH(actor) + LENGTH(action) + LENGTH(entity) "
                    "+ LENGTH(entity_id) + COALESCE(LENGTH(before_json), 0) "
                    "+ COALESCE(LENGTH(after_json), 0)), 0) FROM audit_events").fetchone()
    c.close()
    return row


def build_register(bin_, work: Path, records: int):
    db = work / "register.db"
    if db.exists():
        return db
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus.jsonl"
    subprocess.run([bin_, "gen", "--count", str(records), "--out", str(corpus)], check=True)
    tmp = work / "building.db"
    subprocess.run([bin_, "--db", f"sqlite://{tmp}", "--index-dir", str(work / "building.index"),
                    "import", str(corpus)], check=True, stdout=subprocess.DEVNULL)
    tmp.rename(db)
    shutil.rmtree(work / "building.index", ignore_errors=True)
    return db


def measure(bin_, register: Path, seconds: int, label: str):
    run = Path(str(register.parent / f"run-{label}"))
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    db = run / "r.db"
    shutil.copy(register, db)
    port = free_port()
    env = dict(os.environ, CONCORD_MINILM_DIR=str(run / "no-weights"), RUST_LOG="warn")
    proc = subprocess.Popen([bin_, "--db", f"sqlite://{db}", "--index-dir", str(run / "r.index"),
                             "serve", "--addr", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=open(run / "err", "w"), env=env)
    out = {}
    try:
        wait_ready(port, proc)
        c = Conn("127.0.0.1", port)
        _, body, _ = c.request("GET", "/api/v1/search?q=sepsis&per_page=50")
        ids = [h["id"] for h in json.loads(body)["hits"]] or ["PFD-2024-0001"]

        def pages(n, conn):
            lat, bad = [], 0
            for i in range(n):
                s, _, ms = conn.request("GET", f"/recommendations/{ids[i % len(ids)]}")
                lat.append(ms)
                bad += s != 200
            return lat, bad

        pages(20, c)
        lat, bad = pages(200, c)
        out["page_alone"] = (pct(lat, 50), pct(lat, 95), pct(lat, 99), bad)
        out["rss"] = [("ready", rss(proc.pid))]

        # 2. record pages under 8 clients asking for the heavy lists.
        stop = time.time() + seconds
        counts = {"duplicates": [], "contradictions": [], "check": []}
        statuses = {}
        drafts = json.dumps([{"text": f"Trusts should audit hand hygiene every {i + 1} weeks."}
                             for i in range(50)])

        def attacker(k):
            conn = Conn("127.0.0.1", port, source=f"127.0.0.{10 + k}")
            while time.time() < stop:
                kind = ["duplicates", "contradictions", "check"][k % 3]
                if kind == "check":
                    s, _, ms = conn.request("POST", "/api/v1/check", drafts,
                                            {"content-type": "application/json"})
                else:
                    s, _, ms = conn.request("GET", f"/api/v1/{kind}")
                counts[kind].append(ms)
                statuses[s] = statuses.get(s, 0) + 1

        threads = [threading.Thread(target=attacker, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        lat, bad = [], 0
        while time.time() < stop:
            s, _, ms = c.request("GET", f"/recommendations/{ids[len(lat) % len(ids)]}")
            lat.append(ms)
            bad += s != 200
        for t in threads:
            t.join()
        out["page_under_lists"] = (pct(lat, 50), pct(lat, 95), pct(lat, 99), bad, len(lat))
        out["lists"] = {k: (len(v), pct(v, 50), pct(v, 99)) for k, v in counts.items()}
        out["list_statuses"] = statuses
        out["rss"].append(("after the heavy lists", rss(proc.pid)))

        # 3. 20,000 idle connections (two processes of 10,000: one process
        # may hold fewer descriptors than that), /healthz meanwhile.
        holder = (
            "import socket,sys,time\n"
            "port,base,n=int(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3])\n"
            "held,refused=[],0\n"
            "for i in range(n):\n"
            "    s=socket.socket(); s.settimeout(2)\n"
            "    try:\n"
            "        s.bind((f'127.{base}.{i//250}.{1+i%250}',0)); s.connect(('127.0.0.1',port)); held.append(s)\n"
            "    except OSError:\n"
            "        refused+=1; s.close()\n"
            "print(len(held),refused,flush=True)\n"
            "time.sleep(600)\n")
        holders = [subprocess.Popen([sys.executable, "-c", holder, str(port), str(10 + k), "10000"],
                                    stdout=subprocess.PIPE, text=True) for k in range(2)]
        health = []
        h = Conn("127.0.0.1", port)
        opened = [None, None]
        while any(x is None for x in opened):
            # A new visitor each time: a connection of its own.
            s, _, ms = Conn("127.0.0.1", port).request("GET", "/healthz", timeout=30)
            health.append(ms if s == 200 else float("inf"))
            for k, p in enumerate(holders):
                if opened[k] is None and p.poll() is None:
                    import select
                    r, _, _ = select.select([p.stdout], [], [], 0.05)
                    if r:
                        opened[k] = tuple(int(x) for x in p.stdout.readline().split())
                elif opened[k] is None:
                    opened[k] = (0, 10000)
        for _ in range(100):
            s, _, ms = Conn("127.0.0.1", port).request("GET", "/healthz", timeout=30)
            health.append(ms if s == 200 else float("inf"))
            time.sleep(0.01)
        out["rss"].append(("with 20,000 idle connections", rss(proc.pid)))
        for p in holders:
            p.kill()
        failed = sum(1 for x in health if x == float("inf"))
        out["idle"] = (sum(o[0] for o in opened), sum(o[1] for o in opened),
                       pct(health, 50), pct(health, 99), failed)

        # 4. 10,000 bad-token requests with 60 KB paths.
        time.sleep(1)
        before = db_bytes(db)
        rows_before, bytes_before = audit(db)
        long = "x" * 60_000
        path = f"/api/v1/recommendations/HSSIB-2025-0001/addressees/{long}/respond"
        done = []

        def spammer(k):
            conn = Conn("127.0.0.1", port, source=f"127.0.1.{k + 1}")
            for i in range(2500):
                s, _, _ = conn.request("POST", path, b"{}",
                                       {"authorization": f"Bearer bad-{k}-{i}",
                                        "content-type": "application/json"})
                done.append(s)

        threads = [threading.Thread(target=spammer, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(2)
        rows_after, bytes_after = audit(db)
        grown = db_bytes(db) - before
        out["disk"] = (len(done), sum(1 for s in done if s == 401), grown,
                       rows_after - rows_before, bytes_after - bytes_before)
        out["rss"].append(("after the bad-token requests", rss(proc.pid)))

        # 5. 100 sign-ins a second for 20 s, /healthz meanwhile.
        stop = time.time() + 20
        answers = {}

        def signer(k):
            conn = Conn("127.0.0.1", port, source=f"127.0.2.{k + 1}")
            # The form's secret and the cookie that carries it, as a browser.
            _, page, _ = conn.request("GET", "/sign-in")
            form = page.decode()[page.decode().find('action="/sign-in"'):]
            csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            cookie = "; ".join(v.split(";", 1)[0] for k_, v in conn.headers
                               if k_.lower() == "set-cookie")
            i = 0
            while time.time() < stop:
                t = time.time()
                body = urllib.parse.urlencode({"email": f"p{k}-{i}@example.org",
                                               "password": "Summer2026!", "csrf": csrf})
                s, _, _ = conn.request("POST", "/sign-in", body,
                                       {"content-type": "application/x-www-form-urlencoded",
                                        "cookie": cookie})
                answers[s] = answers.get(s, 0) + 1
                i += 1
                time.sleep(max(0, 0.1 - (time.time() - t)))

        threads = [threading.Thread(target=signer, args=(k,)) for k in range(10)]
        for t in threads:
            t.start()
        health = []
        while time.time() < stop:
            s, _, ms = h.request("GET", "/healthz", timeout=30)
            health.append(ms if s == 200 else float("inf"))
            time.sleep(0.02)
        for t in threads:
            t.join()
        out["sign_in"] = (sum(answers.values()), answers, pct(health, 50), pct(health, 99))
        out["rss_mib"] = rss(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
    return out


def rss(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--bin-before")
    ap.add_argument("--records", type=int, default=30_000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--work", default="/tmp/concord-trust-bench")
    a = ap.parse_args()
    # Made by the older build when there is one: a newer build migrates
    # the copy it serves forward; an older one cannot read a newer schema.
    register = build_register(a.bin_before or a.bin, Path(a.work), a.records)
    runs = [("now", a.bin)] + ([("before", a.bin_before)] if a.bin_before else [])
    results = {label: measure(b, register, a.seconds, label) for label, b in runs}
    f = lambda x: "—" if x != x else f"{x:.0f}"  # noqa: E731
    print(f"## {time.strftime('%Y-%m-%d')}: {a.records:,} records, {a.seconds} s of load, "
          f"{os.cpu_count()} cores, loopback\n")
    print("| measure | " + " | ".join(label for label, _ in runs) + " |")
    print("|---|" + "---|" * len(runs))

    def row(name, fn):
        print(f"| {name} | " + " | ".join(fn(results[label]) for label, _ in runs) + " |")

    row("record page alone, p50 / p95 / p99 ms", lambda r: "{} / {} / {}".format(
        *map(f, r["page_alone"][:3])))
    row("record page while 8 clients loop on the heavy lists, p50 / p95 / p99 ms (pages; not 200)",
        lambda r: "{} / {} / {} ({}; {})".format(*map(f, r["page_under_lists"][:3]),
                                                r["page_under_lists"][4], r["page_under_lists"][3]))
    row("heavy lists answered in those seconds (duplicates, contradictions, check: n, p99 ms)",
        lambda r: "; ".join(f"{k} {v[0]}, {f(v[2])}" for k, v in r["lists"].items()))
    row("their statuses", lambda r: ", ".join(f"{k}: {v}" for k, v in sorted(r["list_statuses"].items())))
    row("20,000 idle connections opened: connected / refused; /healthz p50 / p99 ms meanwhile; failed",
        lambda r: "{} / {}; {} / {}; {}".format(r["idle"][0], r["idle"][1], f(r["idle"][2]),
                                                f(r["idle"][3]), r["idle"][4]))
    row("10,000 bad-token requests, 60 KB paths: answered 401; database file growth; audit rows added (their bytes)",
        lambda r: f"{r['disk'][1]:,}; {r['disk'][2] / 1024:,.0f} KiB; {r['disk'][3]:,} ({r['disk'][4] / 1024:,.0f} KiB)")
    row("100 sign-ins/s for 20 s: answers; /healthz p50 / p99 ms",
        lambda r: "{}; {} / {}".format(", ".join(f"{k}: {v}" for k, v in sorted(r["sign_in"][1].items())),
                                       f(r["sign_in"][2]), f(r["sign_in"][3])))
    row("server memory (MiB): " + ", ".join(k for k, _ in results[runs[0][0]]["rss"]) + ", at the end",
        lambda r: ", ".join(str(v) for _, v in r["rss"]) + f", {r['rss_mib']}")


if __name__ == "__main__":
    sys.exit(main())
