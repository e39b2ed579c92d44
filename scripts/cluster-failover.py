#!/usr/bin/env python3
"""The failover test of a cluster made by scripts/cluster.sh.

    scripts/cluster.sh failover-test [DIR] [--duration 20] [--workers 4]
                                           [--node I] [--kill-at 5] [--restart-at 10]

Drives steady load through nginx for --duration seconds from --workers
threads (each on its own kept-alive connection), a mix of GETs: the search
API, the search page, recommendation pages and their API, the home page and
/readyz. At --kill-at seconds node I gets SIGKILL; at --restart-at seconds it
is started again with the same arguments (`cluster.sh node-start`).

It reports the requests sent and failed (a status other than 2xx/3xx, or a
connection error), each failure with when it happened; how long the node
took from its restart to answer /readyz 200 (asked directly, every 50 ms),
and until nginx sent it traffic again (the first request in nginx's access
log after the restart whose answering upstream is that node); and what the
node counted itself (its /metrics).

Exit status 1 (the test fails) if any request failed, other than one that
was in flight to the killed node at the moment of the kill, or if the node
did not answer /readyz 200 and take traffic within --rejoin-timeout
seconds of its restart (default 120: "never came back", not a speed limit).
Nothing here is timed against a threshold otherwise.

Only the standard library; every address is on loopback.
"""

import argparse
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))

QUERIES = [
    "medication", "sepsis", "mental+health", "%22care+home%22", "discharge",
    "ambulance+delay", "training&issuer=HSSIB", "falls&sort=newest",
    "maternity", "deterioration",
]


def read_conf(d):
    conf = {}
    with open(os.path.join(d, "cluster.conf")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            conf[k] = v
    return conf


def node_file(d, i, name):
    with open(os.path.join(d, "node-%d" % i, name)) as f:
        return f.read().strip()


def get(host, port, path, timeout=5.0):
    """One GET on a new connection: (status, body) or (None, error)."""
    try:
        c = http.client.HTTPConnection(host, port, timeout=timeout)
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)


class Load:
    """Workers sending GETs through nginx until `stop_at`."""

    def __init__(self, port, paths, workers, stop_at):
        self.port = port
        self.paths = paths
        self.workers = workers
        self.stop_at = stop_at
        self.lock = threading.Lock()
        # (load id, path, start, end, status or None, error or "")
        self.results = []
        self.next_id = 0
        self.threads = []

    def start(self):
        for w in range(self.workers):
            t = threading.Thread(target=self.run, args=(w,), daemon=True)
            t.start()
            self.threads.append(t)

    def join(self):
        for t in self.threads:
            t.join()

    def take_id(self):
        with self.lock:
            self.next_id += 1
            return self.next_id

    def run(self, w):
        rnd = random.Random(w)
        conn = None
        while time.time() < self.stop_at:
            path = rnd.choice(self.paths)
            lid = self.take_id()
            t0 = time.time()
            status, err = None, ""
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("GET", path, headers={"X-Load-Id": str(lid)})
                r = conn.getresponse()
                r.read()
                status = r.status
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                err = "%s: %s" % (type(e).__name__, e)
                if conn is not None:
                    conn.close()
                conn = None
            t1 = time.time()
            with self.lock:
                self.results.append((lid, path, t0, t1, status, err))
        if conn is not None:
            conn.close()


LOG_RE = re.compile(
    r'^(?P<msec>[0-9.]+) (?P<status>\d+) (?P<rt>[0-9.]+) "(?P<up>[^"]*)" '
    r'"(?P<ust>[^"]*)" "(?P<urt>[^"]*)" "(?P<lid>[^"]*)" "(?P<req>[^"]*)"$'
)


class AccessLog:
    """nginx's access log, read as it grows."""

    def __init__(self, path):
        self.path = path
        self.f = open(path, "r")
        self.f.seek(0, os.SEEK_END)
        self.partial = ""
        self.lines = []

    def poll(self):
        chunk = self.f.read()
        if not chunk:
            return []
        chunk = self.partial + chunk
        parts = chunk.split("\n")
        self.partial = parts.pop()
        new = []
        for line in parts:
            m = LOG_RE.match(line)
            if m:
                d = m.groupdict()
                d["msec"] = float(d["msec"])
                d["ups"] = [u.strip() for u in d["up"].split(",")] if d["up"] not in ("", "-") else []
                d["usts"] = [u.strip() for u in d["ust"].split(",")] if d["ust"] not in ("", "-") else []
                new.append(d)
        self.lines.extend(new)
        return new


def served_by(line, addr):
    """Did this request's answer come from `addr` (the last upstream tried)?"""
    return (
        line["ups"]
        and line["ups"][-1] == addr
        and line["usts"]
        and line["usts"][-1][:1] in ("2", "3")
    )


def node_metrics_total(port):
    status, body = get("127.0.0.1", port, "/metrics")
    if status != 200:
        return None
    total = 0.0
    for line in body.decode("utf-8", "replace").splitlines():
        if line.startswith("concord_http_requests_total{") and not re.search(
            r'route="/(readyz|healthz|metrics)"', line
        ):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def alive(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("State:"):
                    return "Z" not in line
    except OSError:
        return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--node", type=int, default=1, help="the node to kill (default 1)")
    ap.add_argument("--kill-at", type=float, default=None, help="default: a quarter of --duration")
    ap.add_argument("--restart-at", type=float, default=None, help="default: half of --duration")
    ap.add_argument("--rejoin-timeout", type=float, default=120.0)
    a = ap.parse_args()
    kill_at = a.duration / 4 if a.kill_at is None else a.kill_at
    restart_at = a.duration / 2 if a.restart_at is None else a.restart_at
    if not (0 < kill_at < restart_at < a.duration):
        ap.error("need 0 < --kill-at < --restart-at < --duration")

    conf = read_conf(a.dir)
    n = int(conf["nodes"])
    if not 1 <= a.node <= n:
        ap.error("--node: there are nodes 1 to %d" % n)
    if n < 2:
        ap.error("a failover test needs at least 2 nodes")
    port = int(conf["port"])
    node_port = int(node_file(a.dir, a.node, "port"))
    node_metrics = int(node_file(a.dir, a.node, "metrics_port"))
    node_addr = "127.0.0.1:%d" % node_port
    pid = int(node_file(a.dir, a.node, "pid"))
    if not alive(pid):
        sys.exit("failover-test: node %d (pid %d) is not running; see scripts/cluster.sh status" % (a.node, pid))
    status, body = get("127.0.0.1", port, "/readyz")
    if status != 200:
        sys.exit("failover-test: the cluster is not ready (nginx /readyz: %s)" % status)

    # Real identifiers for the record pages.
    status, body = get("127.0.0.1", port, "/api/v1/search?q=&per_page=50")
    ids = []
    if status == 200:
        ids = [h["id"] for h in json.loads(body).get("hits", [])]
    paths = []
    paths += ["/api/v1/search?q=%s" % q for q in QUERIES] * 2
    paths += ["/search?q=%s" % q for q in QUERIES[:5]]
    for i in ids[:20]:
        paths += ["/recommendations/%s" % i, "/api/v1/recommendations/%s" % i]
    paths += ["/readyz"] * 3 + ["/"] * 2
    print(
        "failover-test: %d workers for %.0f s through nginx on port %d; node %d (%s, pid %d) "
        "killed at %.1f s, restarted at %.1f s"
        % (a.workers, a.duration, port, a.node, node_addr, pid, kill_at, restart_at),
        flush=True,
    )

    access = AccessLog(os.path.join(a.dir, "nginx", "access.log"))
    t0 = time.time()
    load = Load(port, paths, a.workers, t0 + a.duration)
    load.start()

    time.sleep(max(0.0, t0 + kill_at - time.time()))
    t_kill = time.time()
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        if not alive(pid):
            break
        time.sleep(0.05)

    time.sleep(max(0.0, t0 + restart_at - time.time()))
    t_restart = time.time()
    restart = subprocess.run(["bash", os.path.join(HERE, "cluster.sh"), "node-start", a.dir, str(a.node)])
    if restart.returncode != 0:
        load.join()
        print("failover-test: FAILED: node %d could not be started again (cluster.sh node-start)" % a.node)
        return 1
    new_pid = int(node_file(a.dir, a.node, "pid"))

    # Poll the node's readiness directly, and nginx's log for its first
    # request, until both or the timeout. After the load ends, a probe
    # through nginx (one request every 100 ms) keeps traffic flowing.
    t_ready = t_rejoin = None
    deadline = t_restart + a.rejoin_timeout
    probes = 0
    while (t_ready is None or t_rejoin is None) and time.time() < deadline:
        if t_ready is None:
            s, _ = get("127.0.0.1", node_port, "/readyz", timeout=2)
            if s == 200:
                t_ready = time.time()
        if t_rejoin is None:
            for line in access.poll():
                if line["msec"] >= t_restart and served_by(line, node_addr):
                    t_rejoin = line["msec"]
                    break
        if time.time() >= load.stop_at and t_rejoin is None:
            get("127.0.0.1", port, "/api/v1/search?q=probe")
            probes += 1
        if not alive(new_pid):
            print("failover-test: node %d died after its restart (see %s/node-%d/stderr.log)" % (a.node, a.dir, a.node))
            break
        time.sleep(0.05)
    load.join()
    time.sleep(0.3)  # nginx writes its log line as a request ends
    access.poll()
    node_count = node_metrics_total(node_metrics)

    # --- report ---
    by_id = {}
    for line in access.lines:
        if line["lid"] not in ("", "-"):
            by_id[line["lid"]] = line
    results = sorted(load.results, key=lambda r: r[2])
    failed, excused = [], []
    for lid, path, s, e, status, err in results:
        if status is not None and 200 <= status < 400:
            continue
        line = by_id.get(str(lid))
        in_flight = s <= t_kill <= e + 0.001
        to_killed = line is not None and node_addr in line["ups"]
        (excused if in_flight and to_killed else failed).append((lid, path, s, e, status, err, line))

    sent = len(results)
    retried = [l for l in access.lines if l["lid"] not in ("", "-") and len(l["ups"]) > 1]
    retried_from_killed = [l for l in retried if node_addr in l["ups"][:-1]]
    phases = [("before the kill", t0, t_kill), ("node down", t_kill, t_rejoin or load.stop_at),
              ("after it rejoined", t_rejoin or load.stop_at, load.stop_at)]

    def rel(t):
        return "%.2f s" % (t - t0)

    print()
    print("requests sent:   %d (%.0f a second), by %d workers" % (sent, sent / a.duration, a.workers))
    print("requests failed: %d%s" % (len(failed) + len(excused),
                                     " (%d of them in flight to node %d at the kill)" % (len(excused), a.node) if excused else ""))
    for lid, path, s, e, status, err, line in sorted(failed + excused, key=lambda f: f[2])[:30]:
        up = line["up"] if line else "(not in nginx's log)"
        print("  at %s (kill %+.2f s) %s -> %s %s; upstreams tried: %s%s"
              % (rel(s), s - t_kill, path, status if status is not None else "no answer", err, up,
                 "" if (lid, path, s, e, status, err, line) in failed else " (in flight at the kill)"))
    print("GETs nginx retried on another node (unseen by the client): %d, %d of them after trying node %d"
          % (len(retried), len(retried_from_killed), a.node))
    print("node %d killed at %s, restarted at %s" % (a.node, rel(t_kill), rel(t_restart)))
    print("  /readyz 200 (asked directly):      %s" % ("%.2f s after the restart" % (t_ready - t_restart) if t_ready else "NEVER (within %.0f s)" % a.rejoin_timeout))
    print("  first request from nginx answered: %s" % ("%.2f s after the restart" % (t_rejoin - t_restart) if t_rejoin else "NEVER (within %.0f s)" % a.rejoin_timeout))
    if t_ready and t_rejoin:
        # nginx never asks /readyz: it tries a node again once fail_timeout
        # has passed since its last failure, ready or not.
        print("  (nginx's first answer from it came %.2f s %s /readyz said 200: nginx checks passively, it never asks /readyz)"
              % (abs(t_rejoin - t_ready), "after" if t_rejoin >= t_ready else "before"))
    if probes:
        print("  (the load had ended: %d probe requests through nginx)" % probes)
    print("  requests node %d counted itself since its restart (its /metrics, every route but /readyz, /healthz, /metrics): %s"
          % (a.node, node_count))
    print("answered by each node (nginx's log), per phase:")
    for name, ps, pe in phases:
        counts = {}
        for l in access.lines:
            if l["lid"] in ("", "-") or not (ps <= l["msec"] < pe) or not l["ups"]:
                continue
            counts[l["ups"][-1]] = counts.get(l["ups"][-1], 0) + 1
        ports = {"127.0.0.1:%s" % node_file(a.dir, i, "port"): i for i in range(1, n + 1)}
        text = ", ".join("node %s: %d" % (ports.get(k, k), v) for k, v in sorted(counts.items(), key=lambda kv: ports.get(kv[0], 99)))
        print("  %-18s (%5.1f s) %s" % (name, max(0.0, pe - ps), text or "none"))

    # Client-side latency, by phase and by the node that answered (a
    # restarted node may take traffic before it is ready: is it slower?).
    def pct(xs, q):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else None

    def ms(x):
        return "-" if x is None else "%.0f ms" % (x * 1000)

    print("latency seen by the client (p50 / p99 / max), by phase and by the node that answered:")
    for name, ps, pe in phases:
        groups = {}
        for lid, path, s, e, status, err in results:
            if not (ps <= s < pe):
                continue
            line = by_id.get(str(lid))
            who = "all"
            groups.setdefault(who, []).append(e - s)
            if line and line["ups"]:
                k = "node %d" % a.node if line["ups"][-1] == node_addr else "others"
                groups.setdefault(k, []).append(e - s)
        text = "; ".join("%s %d: %s / %s / %s" % (k, len(v), ms(pct(v, 0.5)), ms(pct(v, 0.99)), ms(max(v)))
                         for k, v in sorted(groups.items()))
        print("  %-18s %s" % (name, text or "none"))

    ok = not failed and t_ready is not None and t_rejoin is not None
    print()
    if ok:
        print("failover-test: PASSED: %d sent, %d failed%s; node %d ready %.2f s and in nginx's rotation %.2f s after its restart"
              % (sent, len(excused), " (all in flight to the killed node)" if excused else "",
                 a.node, t_ready - t_restart, t_rejoin - t_restart))
    else:
        why = []
        if failed:
            why.append("%d requests failed that were not in flight to the killed node" % len(failed))
        if t_ready is None:
            why.append("node %d never answered /readyz 200" % a.node)
        if t_rejoin is None:
            why.append("nginx never sent node %d traffic again" % a.node)
        print("failover-test: FAILED: " + "; ".join(why))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
