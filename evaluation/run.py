#!/usr/bin/env python3
"""Concord evaluation harness: the frozen held-out sets against a fresh register.

    python3 evaluation/run.py [--bin PATH] [--split dev|test|all] [--out FILE.md]

What it does, in one run (Python 3.11, standard library only):

1. Checks evaluation/heldout/SHA256SUMS (refuses to run when a file changed)
   and puts each item in the dev split (first byte of sha256(id) even) or the
   test split.
2. Builds a fresh register in a temporary folder: imports the judiciary PFD
   file, then the two PFD-Toolkit files, then one Concord JSON file holding
   every contradiction item's recommendation `a` (issuer HSSIB, local_ref
   "eval-<item id>"). Exports it as JSON and maps every labelled report
   address to its record by the import key (scheme, "www.", letter case and
   trailing slash ignored; query and fragment dropped).
3. Serves the register (`concord serve`) and measures, for the chosen split:
   search (search_a, search_b), duplicates (pairs), contradictions and the
   quality check, through the HTTP API.
4. Computes baselines on the same exported records (title + text +
   addressee names): SQLite FTS5 (words OR-ed, bm25), TF-IDF cosine and,
   given `--minilm` (the release `embed_lines` example, found in target/ by
   default), all-MiniLM-L6-v2 cosine alone.
5. Writes a Markdown report (default evaluation/RESULTS-latest.md). Item-level
   misses are listed for dev items only: test items are never printed.

Nothing in the repository is written except the report. The temporary
register is removed at the end (--keep keeps it).
"""

from __future__ import annotations

import argparse
import array
import collections
import csv
import datetime as dt
import hashlib
import heapq
import json
import math
import os
import queue
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HELDOUT = HERE / "heldout"
DEFAULT_BIN = next(
    (str(p) for p in (REPO / "target/release/concord", REPO / "target/debug/concord") if p.exists()),
    str(REPO / "target/release/concord"),
)
DEFAULT_DATA = Path("/work/shared/data/pfd")
SETS = ["search_a.json", "search_b.json", "pairs.json", "contradictions.json", "quality.json"]

# The PFD files, in import order, with their layouts. Given explicitly: the
# road-traffic file has no leading pandas index column, so `--format auto`
# does not recognise it as the toolkit layout.
PFD_FILES = [
    ("judiciary-reports.csv", "pfd-judiciary"),
    ("toolkit-road-traffic.csv", "pfd-toolkit"),
    ("toolkit-reports-sample.csv", "pfd-toolkit"),
]

EVAL_ISSUER = "HSSIB"
EVAL_YEAR = 2025
EVAL_REF_PREFIX = "eval-"

SEARCH_K = 10           # ranks that count for search
SEARCH_FETCH = 50       # hits asked of /search (evaluation records are dropped)
PAIRS_FETCH = 30        # matches asked of /similar for pairs (evaluation records dropped)
CONTRA_FETCH = 10       # matches asked of /similar for contradictions (the default)
RELATIONS = ["duplicate", "supports", "contradicts", "related"]
VERDICTS = ["pass", "warn", "fail"]

# scikit-learn's English stop words (ENGLISH_STOP_WORDS).
STOP_WORDS = frozenset("""
a about above across after afterwards again against all almost alone along already also
although always am among amongst amoungst amount an and another any anyhow anyone anything
anyway anywhere are around as at back be became because become becomes becoming been before
beforehand behind being below beside besides between beyond bill both bottom but by call can
cannot cant co con could couldnt cry de describe detail do done down due during each eg eight
either eleven else elsewhere empty enough etc even ever every everyone everything everywhere
except few fifteen fifty fill find fire first five for former formerly forty found four from
front full further get give go had has hasnt have he hence her here hereafter hereby herein
hereupon hers herself him himself his how however hundred i ie if in inc indeed interest into
is it its itself keep last latter latterly least less ltd made many may me meanwhile might
mill mine more moreover most mostly move much must my myself name namely neither never
nevertheless next nine no nobody none noone nor not nothing now nowhere of off often on once
one only onto or other others otherwise our ours ourselves out over own part per perhaps
please put rather re same see seem seemed seeming seems serious several she should show side
since sincere six sixty so some somehow someone something sometime sometimes somewhere still
such system take ten than that the their them themselves then thence there thereafter thereby
therefore therein thereupon these they thick thin third this those though three through
throughout thru thus to together too top toward towards twelve twenty two un under until up
upon us very via was we well were what whatever when whence whenever where whereafter whereas
whereby wherein whereupon wherever whether which while whither who whoever whole whom whose
why will with within without would yet you your yours yourself yourselves
""".split())


class EvalError(Exception):
    """A clear, fatal problem: printed without a traceback."""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _nice() -> None:
    try:
        os.nice(10)
    except OSError:
        pass


# --------------------------------------------------------------------------
# Held-out sets: checksums and splits


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_heldout(folder: Path) -> list[str]:
    sums_path = folder / "SHA256SUMS"
    if not sums_path.is_file():
        raise EvalError(f"{sums_path} is missing: refusing to run on unverified sets")
    listed: dict[str, str] = {}
    for n, line in enumerate(sums_path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or not re.fullmatch(r"[0-9a-fA-F]{64}", parts[0]):
            raise EvalError(f"{sums_path}: line {n} is not '<sha256>  <file>': {line!r}")
        listed[parts[1].strip().lstrip("*")] = parts[0].lower()
    problems = []
    for name in SETS:
        if name not in listed:
            problems.append(f"{name} has no checksum in SHA256SUMS")
    for name, digest in listed.items():
        p = folder / name
        if not p.is_file():
            problems.append(f"{name} is listed in SHA256SUMS but missing")
        elif sha256_file(p) != digest:
            problems.append(f"{name} does not match its checksum (it changed since it was frozen)")
    if problems:
        raise EvalError(
            "the held-out sets fail their checksums, refusing to run:\n  - "
            + "\n  - ".join(problems)
            + f"\n(check with: cd {folder} && sha256sum -c SHA256SUMS)"
        )
    return sorted(listed)


def split_of(item_id: str) -> str:
    return "dev" if hashlib.sha256(item_id.encode("utf-8")).digest()[0] % 2 == 0 else "test"


def load_set(path: Path) -> list[dict]:
    """One labelled set: a JSON array of items with unique string ids."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise EvalError(f"{path}: expected a JSON array of items")
    ids = [x.get("id") for x in data]
    if len(set(ids)) != len(ids) or not all(isinstance(i, str) for i in ids):
        raise EvalError(f"{path}: item ids are missing or not unique")
    return data


def load_sets(folder: Path) -> dict[str, list[dict]]:
    out = {}
    for name in SETS:
        data = load_set(folder / name)
        for x in data:
            x["_split"] = split_of(x["id"])
        out[name.removesuffix(".json")] = data
    return out


def extra_set(argv: list[str], flag: str, prog: str) -> tuple[list[dict], list[str]] | None:
    """For the evaluation/extra runners: the set named by `flag FILE` (every
    item dev: its misses are read) and the rest of the arguments for main();
    None, having said why, when the argument or the file is bad."""
    if flag not in argv or argv.index(flag) + 1 >= len(argv):
        print(f"usage: {prog} {flag} FILE [run.py options]", file=sys.stderr)
        return None
    k = argv.index(flag)
    path = Path(argv[k + 1])
    try:
        items = load_set(path)
    except EvalError as e:
        print(e, file=sys.stderr)
        return None
    except (OSError, ValueError) as e:
        print(f"{path}: {e}", file=sys.stderr)
        return None
    for x in items:
        x["_split"] = "dev"
    return items, argv[:k] + argv[k + 2:]


# --------------------------------------------------------------------------
# Report addresses


def _split_url(url: str) -> urllib.parse.SplitResult:
    u = url.strip()
    if u.lower().startswith("pfd:"):
        u = u[4:]
    p = urllib.parse.urlsplit(u)
    if not p.netloc:  # no scheme: "www.judiciary.uk/..."
        p = urllib.parse.urlsplit("https://" + u.lstrip("/"))
    return p


def loose_key(url: str) -> str:
    """The import key, plus: no "www.", path letter case ignored."""
    p = _split_url(url)
    host = p.netloc.lower()
    if host.startswith("www."):
        host = host[4:]
    path = p.path.rstrip("/").lower()
    return host + path


def formats_key(url: str) -> str:
    """The import key as crates/ingest/FORMATS.md states it: https, host
    lower-cased, no trailing slash, query and fragment dropped."""
    p = _split_url(url)
    return "pfd:https://" + p.netloc.lower() + p.path.rstrip("/")


# --------------------------------------------------------------------------
# The register


class Concord:
    def __init__(self, binary: str, workdir: Path):
        self.bin = binary
        self.workdir = workdir
        self.db_file = workdir / "reg.db"
        self.db = f"sqlite://{self.db_file}"

    def cli(self, args: list[str], timeout: float = 3600) -> subprocess.CompletedProcess:
        cmd = [self.bin, "--db", self.db, *args]
        try:
            return subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout,
                preexec_fn=_nice, cwd=self.workdir,
            )
        except subprocess.TimeoutExpired:
            raise EvalError(f"`{' '.join(cmd)}` took longer than {timeout:.0f} s")
        except OSError as e:
            raise EvalError(f"cannot run {self.bin}: {e}")


# "Assume today is 2025-06-01" (evaluation/heldout/GUIDE.md's quality task).
QUALITY_TODAY = "2025-06-01"

IMPORT_SUMMARY = re.compile(r"imported (\d+), enriched (\d+), skipped (\d+), rejected (\d+)")
WHOLE_FILE_REFUSAL = re.compile(r": row (\d+)\b.*nothing was imported", re.S)


def import_pfd(concord: Concord, path: Path, fmt: str, max_drops: int = 25) -> dict:
    """Import one PFD file with --partial. When Concord refuses the whole
    file because of one row (which --partial should only reject), import a
    copy without that row, and say so in the report."""
    if not path.is_file():
        raise EvalError(f"data file {path} is missing")
    csv.field_size_limit(1 << 30)
    rows: list[list[str]] | None = None
    header: list[str] = []
    kept: list[int] = []
    dropped: list[dict] = []
    src = path
    for _ in range(max_drops + 1):
        rej = concord.workdir / f"{path.stem}.rejected.csv"
        p = concord.cli(["import", "--partial", "--format", fmt, "--report", str(rej), str(src)])
        if p.returncode == 0:
            m = IMPORT_SUMMARY.search(p.stdout + p.stderr)
            rejected_rows = 0
            if rej.is_file():
                with open(rej, encoding="utf-8", newline="") as f:
                    rejected_rows = max(0, sum(1 for _ in csv.reader(f)) - 1)
            variants = len(re.findall(r"^variant:", p.stderr, re.M))
            return {
                "file": path.name, "format": fmt,
                "summary": m.group(0) if m else (p.stdout.strip().splitlines() or ["(no summary)"])[0],
                "counts": tuple(int(x) for x in m.groups()) if m else None,
                "variants": variants, "rejected_rows": rejected_rows,
                "dropped": dropped,
            }
        m = WHOLE_FILE_REFUSAL.search(p.stderr)
        if not m:
            raise EvalError(
                f"import of {path} failed (exit {p.returncode}):\n{p.stderr.strip()[-2000:]}")
        if rows is None:
            with open(path, encoding="utf-8", newline="") as f:
                reader = csv.reader(f)
                header = next(reader)
                rows = list(reader)
            kept = list(range(1, len(rows) + 1))
        row = int(m.group(1))
        if not 1 <= row <= len(kept):
            raise EvalError(f"import of {path} refused at row {row}, which does not exist:\n{p.stderr[-1500:]}")
        orig = kept.pop(row - 1)
        url_col = next((i for i, h in enumerate(header) if h in ("url", "report_url")), None)
        reason = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
        reason = re.sub(r"^error: \S+: ", "", reason)
        dropped.append({
            "row": orig,
            "url": rows[orig - 1][url_col] if url_col is not None and url_col < len(rows[orig - 1]) else "",
            "reason": reason[:400],
        })
        log(f"  {path.name}: Concord refused the whole file because of row {orig}; retrying without it")
        src = concord.workdir / f"{path.stem}.without-refused-rows.csv"
        with open(src, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            for i in kept:
                w.writerow(rows[i - 1])
    raise EvalError(f"import of {path}: more than {max_drops} rows refused the whole file")


def eval_a_records(items: list[dict]) -> tuple[list[dict], dict[str, str]]:
    """One published HSSIB record per distinct recommendation `a`
    (identical title and text share one record). Returns the records and
    item id -> local_ref of its record."""
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    by_text: dict[tuple[str, str], str] = {}
    records, item_ref = [], {}
    for x in items:
        a = x["a"]
        key = (a["title"].strip(), a["text"].strip())
        if key not in by_text:
            n = len(records) + 1
            ref = f"{EVAL_REF_PREFIX}{x['id']}"
            by_text[key] = ref
            records.append({
                "id": f"{EVAL_ISSUER}-{EVAL_YEAR}-{n:04d}",
                "local_ref": ref,
                "kind": "recommendation",
                "issuer": EVAL_ISSUER,
                "title": a["title"],
                "text": a["text"],
                "published": f"{EVAL_YEAR}-06-01",
                "status": "published",
                "version": 1,
                "created_at": now,
                "updated_at": now,
            })
        item_ref[x["id"]] = by_text[key]
    return records, item_ref


# --------------------------------------------------------------------------
# The server


class Server:
    def __init__(self, concord: Concord, cwd: Path, log_path: Path):
        self.concord = concord
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.base = ""
        self.cwd = cwd

    def start(self, timeout: float = 600) -> None:
        self.log_file = open(self.log_path, "wb")
        cmd = [self.concord.bin, "--db", self.concord.db, "serve", "--addr", "127.0.0.1:0"]
        try:
            self.proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=self.log_file, stdin=subprocess.DEVNULL,
                cwd=self.cwd, preexec_fn=_nice,
            )
        except OSError as e:
            raise EvalError(f"cannot start {self.concord.bin} serve: {e}")
        lines: queue.Queue = queue.Queue()

        def drain():
            assert self.proc and self.proc.stdout
            for raw in self.proc.stdout:
                lines.put(raw.decode("utf-8", "replace"))
            lines.put(None)

        threading.Thread(target=drain, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if line is None:
                break
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                self.base = m.group(1).rstrip("/")
                return
        raise EvalError(
            f"`concord serve` did not say where it listens within {timeout:.0f} s "
            f"(exit code {self.proc.poll()}); its log:\n{self.log_tail()}")

    def log_tail(self, n: int = 3000) -> str:
        try:
            self.log_file.flush()
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-n:]
        except OSError:
            return "(no log)"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        try:
            self.log_file.close()
        except Exception:
            pass


class Api:
    def __init__(self, server: Server, timeout: float):
        self.server = server
        self.timeout = timeout
        self.calls = collections.Counter()

    def request(self, method: str, path: str, body=None, timeout: float | None = None,
                retries: int = 4) -> tuple[int, object]:
        """(status, parsed JSON or text). Retries 503s and connection errors."""
        url = self.server.base + path
        data = json.dumps(body).encode("utf-8") if body is not None else None
        headers = {"accept": "application/json"}
        if data is not None:
            headers["content-type"] = "application/json"
        last = None
        for attempt in range(retries + 1):
            if not self.server.alive():
                raise EvalError(f"the Concord server stopped; its log:\n{self.server.log_tail()}")
            req = urllib.request.Request(url, data=data, method=method, headers=headers)
            self.calls[path.split("?")[0]] += 1
            try:
                with urllib.request.urlopen(req, timeout=timeout or self.timeout) as r:
                    raw = r.read()
                    status = r.status
            except urllib.error.HTTPError as e:
                raw, status = e.read(), e.code
            except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as e:
                last = f"{type(e).__name__}: {e}"
                time.sleep(min(30, 2 ** attempt))
                continue
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = raw.decode("utf-8", "replace")
            if status == 503 and attempt < retries:
                last = f"503: {payload}"
                time.sleep(min(30, 2 ** attempt))
                continue
            return status, payload
        return -1, last

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def post(self, path: str, body, **kw):
        return self.request("POST", path, body, **kw)


def wait_ready(api: Api, expected_total: int, probe_text: str, probe_id: str,
               timeout: float) -> dict:
    """Wait for the search index (every record found by an empty query) and
    the similarity index (the probe finds its own record)."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    info = {}
    while True:
        st, body = api.get("/healthz", timeout=10, retries=0)
        if st == 200:
            break
        if time.monotonic() > deadline:
            raise EvalError(f"/healthz did not answer 200 within {timeout:.0f} s (last: {st} {body})")
        time.sleep(1)
    last_total, stable_since = None, time.monotonic()
    while True:
        st, body = api.get("/api/v1/search?q=&per_page=1", timeout=60, retries=0)
        total = body.get("total") if st == 200 and isinstance(body, dict) else None
        if total is not None and total >= expected_total:
            info["search_total"] = total
            break
        if total != last_total:
            last_total, stable_since = total, time.monotonic()
        if total is not None and time.monotonic() - stable_since > 180:
            info["search_total"] = total
            info["search_warning"] = (
                f"the search index holds {total} records, not the {expected_total} exported; "
                "it did not change for 3 minutes, so the run went on")
            break
        if time.monotonic() > deadline:
            raise EvalError(f"the search index was not ready within {timeout:.0f} s "
                            f"(last answer {st}: total {total}, expected {expected_total})")
        time.sleep(3)
    info["search_ready_s"] = round(time.monotonic() - t0, 1)
    while True:
        st, body = api.post("/api/v1/similar", {"text": probe_text, "limit": 10},
                            timeout=120, retries=0)
        if st == 200 and isinstance(body, dict):
            if any(m.get("id") == probe_id for m in body.get("matches", [])):
                break
        elif st not in (503, -1):
            raise EvalError(f"/api/v1/similar answered {st}: {body}")
        if time.monotonic() > deadline:
            raise EvalError(f"the similarity index was not ready within {timeout:.0f} s "
                            f"(last answer {st}: {str(body)[:300]})")
        time.sleep(3)
    info["similar_ready_s"] = round(time.monotonic() - t0, 1)
    # The passage vectors (when the server has embeddings): /readyz says
    # when every derived index has caught up. An older binary has no
    # /readyz: go on.
    last_log = 0.0
    while True:
        st, body = api.get("/readyz", timeout=30, retries=0)
        if st == 404 or not isinstance(body, dict):
            break
        vec = body.get("vectors") or {}
        info["method"] = vec.get("method")
        if body.get("ready"):
            info["vectors"] = {"records": vec.get("records"), "passages": vec.get("passages")}
            break
        if time.monotonic() - last_log > 30:
            log(f"waiting for vectors: {vec.get('records')} records done, {vec.get('pending')} pending, "
                f"lag {body.get('vectors_lag')}")
            last_log = time.monotonic()
        if time.monotonic() > deadline:
            raise EvalError(f"the derived indexes were not ready within {timeout:.0f} s (last: {body})")
        time.sleep(3)
    info["all_ready_s"] = round(time.monotonic() - t0, 1)
    return info


# --------------------------------------------------------------------------
# Baselines


def doc_body(rec: dict) -> str:
    names = [a.get("name") or "" for a in (rec.get("addressees") or []) if isinstance(a, dict)]
    return "\n".join([rec.get("title") or "", rec.get("text") or "", " ; ".join(n for n in names if n)])


class Fts5:
    name = "FTS5 bm25"

    def __init__(self, records: list[dict]):
        self.con = sqlite3.connect(":memory:")
        self.con.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(rid UNINDEXED, body, "
            "tokenize='porter unicode61 remove_diacritics 2')")
        self.con.executemany("INSERT INTO docs(rid, body) VALUES (?, ?)",
                             ((r["id"], doc_body(r)) for r in records))
        self.con.commit()

    def rank(self, text: str, n: int) -> list[str]:
        words = list(dict.fromkeys(re.findall(r"[^\W_]+", text.lower())))
        if not words:
            return []
        q = " OR ".join(f'"{w}"' for w in words)
        rows = self.con.execute(
            "SELECT rid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", (q, n))
        return [r[0] for r in rows]


TOKEN = re.compile(r"\b\w\w+\b")


def tfidf_tokens(text: str) -> list[str]:
    return [t for t in TOKEN.findall(text.lower()) if t not in STOP_WORDS]


class TfIdf:
    """Lower-cased word tokens (2+ characters), English stop words removed,
    sublinear tf (1 + ln tf), smoothed idf ln((1+N)/(1+df)) + 1, L2-normalised,
    cosine by an inverted index."""

    name = "TF-IDF cosine"

    def __init__(self, records: list[dict]):
        self.ids = [r["id"] for r in records]
        counts = [collections.Counter(tfidf_tokens(doc_body(r))) for r in records]
        df = collections.Counter()
        for c in counts:
            df.update(c.keys())
        n = len(records)
        self.idf = {t: math.log((1 + n) / (1 + d)) + 1 for t, d in df.items()}
        docs_i: dict[str, array.array] = collections.defaultdict(lambda: array.array("i"))
        docs_w: dict[str, array.array] = collections.defaultdict(lambda: array.array("d"))
        for i, c in enumerate(counts):
            w = {t: (1 + math.log(tf)) * self.idf[t] for t, tf in c.items()}
            norm = math.sqrt(sum(v * v for v in w.values())) or 1.0
            for t, v in w.items():
                docs_i[t].append(i)
                docs_w[t].append(v / norm)
        self.post_i, self.post_w = dict(docs_i), dict(docs_w)

    def rank(self, text: str, n: int) -> list[str]:
        c = collections.Counter(t for t in tfidf_tokens(text) if t in self.idf)
        if not c:
            return []
        q = {t: (1 + math.log(tf)) * self.idf[t] for t, tf in c.items()}
        norm = math.sqrt(sum(v * v for v in q.values())) or 1.0
        scores: dict[int, float] = collections.defaultdict(float)
        for t, v in q.items():
            qv = v / norm
            for i, w in zip(self.post_i[t], self.post_w[t]):
                scores[i] += qv * w
        best = heapq.nlargest(n, scores.items(), key=lambda kv: (kv[1], -kv[0]))
        return [self.ids[i] for i, _ in best]


class MiniLM:
    """all-MiniLM-L6-v2 cosine alone: every record's title, text and
    addressees embedded by Concord's own model code
    (`crates/embed/examples/embed_lines`, the real weights in models/),
    queries embedded in batches, ranked by cosine (vectors are normalised)."""

    name = "MiniLM cosine"

    def __init__(self, binary: str, records: list[dict]):
        self.bin = binary
        self.cache: dict[str, list[float]] = {}
        self.ids = [r["id"] for r in records]
        self.docs = self._embed([doc_body(r) for r in records])

    def _embed(self, texts: list[str]) -> list[list[float]]:
        lines = "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts))
        p = subprocess.run([self.bin], input=lines, capture_output=True, text=True,
                           preexec_fn=_nice, timeout=7200)
        if p.returncode != 0:
            raise EvalError(f"{self.bin}: {p.stderr.strip()[-300:]}")
        out = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
        vecs: list[list[float]] = [[] for _ in texts]
        for o in out:
            vecs[int(o["id"])] = o["v"]
        return vecs

    def prepare(self, texts: list[str]) -> None:
        todo = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if todo:
            for t, v in zip(todo, self._embed(todo)):
                self.cache[t] = v

    def rank(self, text: str, n: int) -> list[str]:
        if text not in self.cache:
            self.prepare([text])
        q = self.cache[text]
        scores = ((sum(a * b for a, b in zip(q, d)), i) for i, d in enumerate(self.docs) if d)
        best = heapq.nlargest(n, scores)
        return [self.ids[i] for _, i in best]


def default_minilm_bin() -> str:
    p = REPO / "target/release/examples/embed_lines"
    return str(p) if p.exists() else ""


# --------------------------------------------------------------------------
# Metrics


def first_rank(ranked: list[str], relevant: set[str], k: int) -> int | None:
    for i, rid in enumerate(ranked[:k], 1):
        if rid in relevant:
            return i
    return None


def search_stats(ranks: list[int | None]) -> dict:
    n = len(ranks)
    if n == 0:
        return {"n": 0}
    return {
        "n": n,
        "mrr": sum(1 / r for r in ranks if r) / n,
        "top1": sum(1 for r in ranks if r and r <= 1) / n,
        "top3": sum(1 for r in ranks if r and r <= 3) / n,
        "top10": sum(1 for r in ranks if r and r <= 10) / n,
    }


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def frac(num: int, den: int) -> str:
    return "–" if den == 0 else f"{100 * num / den:.1f}% ({num}/{den})"


def md(text: str, limit: int = 160) -> str:
    """A table cell: no pipes or newlines, cut to `limit` characters."""
    s = re.sub(r"\s+", " ", str(text)).strip().replace("|", "\\|")
    return s if len(s) <= limit else s[: limit - 1] + "…"


# --------------------------------------------------------------------------
# The run


class Run:
    def __init__(self, args):
        self.args = args
        self.split = args.split
        self.t0 = time.monotonic()
        self.phases: list[tuple[str, float]] = []
        self.notes: list[str] = []
        self.results: dict = {}

    def in_split(self, item: dict) -> bool:
        return self.split == "all" or item["_split"] == self.split

    def show_misses_for(self, item: dict) -> bool:
        return item["_split"] == "dev" and self.in_split(item)

    def phase(self, name: str, t_start: float) -> None:
        self.phases.append((name, time.monotonic() - t_start))

    # ---- setup

    def prepare(self) -> None:
        t = time.monotonic()
        self.sums = verify_heldout(HELDOUT)
        self.sets = load_sets(HELDOUT)
        log("held-out sets: checksums OK; " + ", ".join(
            f"{k} {sum(self.in_split(x) for x in v)}/{len(v)}" for k, v in self.sets.items()))
        binary = Path(self.args.bin)
        if not binary.is_file() or not os.access(binary, os.X_OK):
            raise EvalError(f"the Concord binary {binary} does not exist or is not executable "
                            "(--bin PATH or CONCORD_BIN)")
        p = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
        self.bin_version = (p.stdout or p.stderr).strip()
        st = binary.stat()
        self.bin_info = {
            "path": str(binary), "version": self.bin_version,
            "sha256": sha256_file(binary)[:16],
            "mtime": dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        }
        self.phase("checks", t)

    def build_register(self, workdir: Path) -> None:
        t = time.monotonic()
        self.concord = Concord(str(Path(self.args.bin).resolve()), workdir)
        data = Path(self.args.data)
        self.imports = []
        for name, fmt in PFD_FILES:
            log(f"importing {name} ({fmt})")
            self.imports.append(import_pfd(self.concord, data / name, fmt))
            log(f"  {self.imports[-1]['summary']}")
        records, self.item_ref = eval_a_records(self.sets["contradictions"])
        a_file = workdir / "contradiction-a-records.json"
        a_file.write_text(json.dumps(records, ensure_ascii=False, indent=0), encoding="utf-8")
        log(f"importing {len(records)} contradiction `a` records ({EVAL_ISSUER})")
        p = self.concord.cli(["import", "--partial", "--format", "json", "--report",
                              str(workdir / "a.rejected.csv"), str(a_file)])
        m = IMPORT_SUMMARY.search(p.stdout + p.stderr)
        if p.returncode != 0 or not m or int(m.group(1)) != len(records):
            raise EvalError(f"importing the contradiction `a` records failed (exit {p.returncode}):\n"
                            f"{(p.stdout + p.stderr).strip()[-2000:]}")
        self.imports.append({"file": a_file.name, "format": "json", "summary": m.group(0),
                             "counts": tuple(int(x) for x in m.groups()), "variants": 0,
                             "rejected_rows": 0, "dropped": []})
        self.phase("import", t)

        t = time.monotonic()
        out = workdir / "export.json"
        p = self.concord.cli(["export", "--format", "json", "--out", str(out)])
        if p.returncode != 0:
            raise EvalError(f"export failed (exit {p.returncode}):\n{p.stderr.strip()[-2000:]}")
        with open(out, encoding="utf-8") as f:
            self.records = json.load(f)
        self.phase("export", t)
        log(f"exported {len(self.records)} records")
        self.map_records()

    def map_records(self) -> None:
        recs = self.records
        self.by_id = {r["id"]: r for r in recs}
        ref_to_id = {r.get("local_ref"): r["id"] for r in recs
                     if r.get("issuer") == EVAL_ISSUER and str(r.get("local_ref") or "").startswith(EVAL_REF_PREFIX)}
        self.a_of_item = {}
        for item_id, ref in self.item_ref.items():
            if ref not in ref_to_id:
                raise EvalError(f"the `a` record {ref} is not in the export")
            self.a_of_item[item_id] = ref_to_id[ref]
        self.eval_ids = set(ref_to_id.values())
        self.by_key: dict[str, list[str]] = collections.defaultdict(list)
        keys_exact = set()
        for r in recs:
            k = r.get("import_key")
            if k:
                keys_exact.add(k)
                self.by_key[loose_key(k)].append(r["id"])
        # One address, several records (a report in two files should be one).
        self.split_reports = {k: v for k, v in self.by_key.items() if len(v) > 1}
        # Concord's keys against the rule in FORMATS.md, for every address in the data.
        csv.field_size_limit(1 << 30)
        data = Path(self.args.data)
        missing_exact, missing_loose, n_urls = [], [], 0
        for name, fmt in PFD_FILES:
            with open(data / name, encoding="utf-8", newline="") as f:
                for row in csv.DictReader(f):
                    url = (row.get("report_url") if fmt == "pfd-judiciary" else row.get("url")) or ""
                    if not url.strip():
                        continue
                    n_urls += 1
                    if formats_key(url) not in keys_exact:
                        missing_exact.append((name, url))
                    if loose_key(url) not in self.by_key:
                        missing_loose.append((name, url))
        self.key_check = {"urls": n_urls, "not_exact": missing_exact, "not_loose": missing_loose}

    def ids_for(self, url: str) -> list[str]:
        return self.by_key.get(loose_key(url), [])

    # ---- baselines

    def systems(self) -> tuple[str, ...]:
        return ("concord", "fts", "tfidf") + (("minilm",) if self.minilm else ())

    def build_baselines(self) -> None:
        t = time.monotonic()
        self.fts = Fts5(self.records)
        self.tfidf = TfIdf(self.records)
        self.minilm = None
        if self.args.minilm:
            log("MiniLM: embedding every record (a few minutes)")
            self.minilm = MiniLM(self.args.minilm, self.records)
        self.phase("baselines (index)", t)

    # ---- queries

    def draft_text(self, title: str, text: str) -> tuple[dict, str]:
        """The /similar request for a draft, and the same words for the baselines."""
        mode = self.args.draft_title
        if mode == "auto":
            mode = "field" if self.similar_has_title else "join"
        if mode == "field":
            return {"title": title, "text": text}, f"{title}\n{text}"
        if mode == "join":
            joined = f"{title.strip().rstrip('.')}. {text}" if title.strip() else text
            return {"text": joined}, joined
        return {"text": text}, text

    def similar(self, body: dict, limit: int) -> tuple[list[dict] | None, str | None]:
        st, res = self.api.post("/api/v1/similar", {**body, "limit": limit})
        if st != 200 or not isinstance(res, dict):
            return None, f"{st}: {str(res)[:200]}"
        self.methods[res.get("method", "?")] += 1
        return res.get("matches", []), None

    def run_search(self) -> None:
        t = time.monotonic()
        out = {}
        for set_name in ("search_a", "search_b"):
            rows = []
            for x in self.sets[set_name]:
                if not self.in_split(x):
                    continue
                relevant = set()
                unmapped = []
                for url in x["relevant"]:
                    ids = self.ids_for(url)
                    relevant.update(ids)
                    if not ids:
                        unmapped.append(url)
                row = {"item": x, "relevant": relevant, "unmapped": unmapped}
                if not relevant:
                    rows.append(row)
                    continue
                q = x["query"]
                st, res = self.api.get(
                    f"/api/v1/search?q={urllib.parse.quote(q)}&per_page={SEARCH_FETCH}")
                if st == 200 and isinstance(res, dict):
                    hits = [h for h in res.get("hits", []) if h.get("id") not in self.eval_ids]
                    row["concord"] = [h["id"] for h in hits][:SEARCH_K]
                    row["titles"] = {h["id"]: h.get("title", "") for h in hits[:SEARCH_K]}
                    row["total"] = res.get("total")
                    row["relaxed"] = res.get("relaxed")
                else:
                    row["concord"] = []
                    row["error"] = f"{st}: {str(res)[:200]}"
                base_n = SEARCH_K + len(self.eval_ids)
                row["fts"] = [i for i in self.fts.rank(q, base_n) if i not in self.eval_ids][:SEARCH_K]
                row["tfidf"] = [i for i in self.tfidf.rank(q, base_n) if i not in self.eval_ids][:SEARCH_K]
                if self.minilm:
                    row["minilm"] = [i for i in self.minilm.rank(q, base_n) if i not in self.eval_ids][:SEARCH_K]
                for sysname in self.systems():
                    row[f"rank_{sysname}"] = first_rank(row[sysname], relevant, SEARCH_K)
                rows.append(row)
            out[set_name] = rows
            log(f"{set_name}: {len(rows)} queries")
        self.results["search"] = out
        self.phase("search", t)

    def run_pairs(self) -> None:
        t = time.monotonic()
        rows = []
        for x in self.sets["pairs"]:
            if not self.in_split(x):
                continue
            src = set(self.ids_for(x["source"]))
            row = {"item": x, "source_ids": src}
            rows.append(row)
            if not src:
                continue
            body, words = self.draft_text(x.get("title") or "", x["draft"])
            matches, err = self.similar(body, PAIRS_FETCH)
            if matches is None:
                row["error"] = err
                matches = []
            kept = [m for m in matches if m.get("id") not in self.eval_ids][:SEARCH_K]
            row["short"] = len(matches) >= PAIRS_FETCH and len(kept) < SEARCH_K
            row["concord"] = kept
            ids = [m["id"] for m in kept]
            row["rank_concord"] = first_rank(ids, src, SEARCH_K)
            rel = next((m["relation"] for m in kept if m["id"] in src), None)
            row["source_relation"] = rel or "absent"
            row["any_duplicate"] = any(m.get("relation") == "duplicate" for m in kept)
            row["n_matches"] = len(kept)
            base_n = SEARCH_K + len(self.eval_ids)
            row["rank_fts"] = first_rank(
                [i for i in self.fts.rank(words, base_n) if i not in self.eval_ids], src, SEARCH_K)
            row["rank_tfidf"] = first_rank(
                [i for i in self.tfidf.rank(words, base_n) if i not in self.eval_ids], src, SEARCH_K)
            if self.minilm:
                row["rank_minilm"] = first_rank(
                    [i for i in self.minilm.rank(words, base_n) if i not in self.eval_ids], src, SEARCH_K)
        self.results["pairs"] = rows
        log(f"pairs: {len(rows)} drafts")
        self.phase("pairs", t)

    def run_contradictions(self) -> None:
        t = time.monotonic()
        rows = []
        for x in self.sets["contradictions"]:
            if not self.in_split(x):
                continue
            a_id = self.a_of_item[x["id"]]
            row = {"item": x, "a_id": a_id}
            rows.append(row)
            body, words = self.draft_text(x["b"].get("title") or "", x["b"]["text"])
            matches, err = self.similar(body, CONTRA_FETCH)
            if matches is None:
                row["error"] = err
                matches = []
            row["concord"] = matches
            ids = [m["id"] for m in matches]
            row["rank_concord"] = first_rank(ids, {a_id}, CONTRA_FETCH)
            row["a_relation"] = next((m["relation"] for m in matches if m["id"] == a_id), "absent")
            row["contradicts_on_a_records"] = [m["id"] for m in matches
                                               if m["id"] in self.eval_ids and m.get("relation") == "contradicts"]
            row["rank_fts"] = first_rank(self.fts.rank(words, SEARCH_K), {a_id}, SEARCH_K)
            row["rank_tfidf"] = first_rank(self.tfidf.rank(words, SEARCH_K), {a_id}, SEARCH_K)
            if self.minilm:
                row["rank_minilm"] = first_rank(self.minilm.rank(words, SEARCH_K), {a_id}, SEARCH_K)
        self.results["contradictions"] = rows
        log(f"contradictions: {len(rows)} drafts")
        self.phase("contradictions", t)

    def run_quality(self) -> None:
        t = time.monotonic()
        rows = []
        items = [x for x in self.sets["quality"] if self.in_split(x)]
        # The labelling guide told the labeller to assume today is
        # QUALITY_TODAY, so the drafts are judged as of that day: `concord
        # check --as-of` (the API judges as of the server's today).
        drafts = self.concord.workdir / "quality-drafts.json"
        drafts.write_text(json.dumps([x["draft"] for x in items]), encoding="utf-8")
        p = self.concord.cli(["check", str(drafts), "--json", "--as-of", QUALITY_TODAY])
        try:
            reports = json.loads(p.stdout) if p.returncode == 0 else None
        except json.JSONDecodeError:
            reports = None
        for i, x in enumerate(items):
            row = {"item": x, "got": {}, "messages": {}}
            rows.append(row)
            if not isinstance(reports, list) or i >= len(reports):
                row["error"] = f"concord check failed ({p.returncode}): {p.stderr[-200:]}"
                continue
            for c in reports[i].get("checks", []):
                row["got"][c.get("criterion")] = c.get("result")
                row["messages"][c.get("criterion")] = c.get("message", "")
        # The commonest label per criterion among dev items (a trivial baseline).
        dev = [x for x in self.sets["quality"] if x["_split"] == "dev"]
        self.majority = {}
        for crit in dev[0]["verdicts"] if dev else []:
            c = collections.Counter(x["verdicts"].get(crit) for x in dev)
            self.majority[crit] = c.most_common(1)[0][0]
        self.results["quality"] = rows
        log(f"quality: {len(rows)} drafts")
        self.phase("quality", t)

    def serve_and_measure(self, workdir: Path) -> None:
        t = time.monotonic()
        self.server = Server(self.concord, REPO, workdir / "serve.log")
        # A vector cache kept from an earlier run: only vectors whose record
        # text changed are computed again (the file is keyed by id and text hash).
        if self.args.vectors and Path(self.args.vectors).exists():
            shutil.copyfile(self.args.vectors, workdir / "reg.vectors")
            log(f"vector cache copied from {self.args.vectors}")
        log("starting concord serve")
        self.server.start()
        self.api = Api(self.server, self.args.http_timeout)
        self.methods = collections.Counter()
        log(f"server at {self.server.base}; waiting for the search and similarity indexes")
        st, spec = self.api.get("/api/v1/openapi.json", timeout=60)
        props = {}
        if st == 200 and isinstance(spec, dict):
            props = (spec.get("components", {}).get("schemas", {})
                     .get("SimilarRequest", {}).get("properties", {}))
        self.similar_fields = sorted(props) if props else ["text", "limit"]
        self.similar_has_title = "title" in props
        published = sum(1 for r in self.records if r.get("status") == "published")
        first = self.sets["contradictions"][0]
        self.ready = wait_ready(self.api, published, first["a"]["text"],
                                self.a_of_item[first["id"]], self.args.ready_timeout)
        log(f"ready: {self.ready}")
        self.phase("server start and index build", t)
        if self.args.vectors and (workdir / "reg.vectors").exists():
            shutil.copyfile(workdir / "reg.vectors", self.args.vectors)
            log(f"vector cache saved to {self.args.vectors}")
        self.run_search()
        self.run_pairs()
        self.run_contradictions()
        self.run_quality()

    # ---- report

    def report(self) -> str:
        L: list[str] = []
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        split_name = {"dev": "dev", "test": "test", "all": "all (dev + test)"}[self.split]
        L.append(f"# Concord evaluation: {split_name} split")
        L.append("")
        L.append(f"- **Split**: {split_name} (an item is dev when the first byte of sha256(id) is even)")
        L.append(f"- **Date**: {now}")
        bi = self.bin_info
        L.append(f"- **Binary**: `{bi['path']}` ({bi['version']}; sha256 {bi['sha256']}…; modified {bi['mtime']})")
        try:
            head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                  capture_output=True, text=True, timeout=20).stdout.strip()
            L.append(f"- **Repository HEAD** (for reference; the binary may be built from other code): {head or '?'}")
        except Exception:
            pass
        L.append("- **Held-out sets**: checksums OK (`evaluation/heldout/SHA256SUMS`)")
        counts = ", ".join(f"{k} {sum(self.in_split(x) for x in v)} of {len(v)}" for k, v in self.sets.items())
        L.append(f"- **Items in this split**: {counts}")
        n_pfd = sum(1 for r in self.records if r.get("issuer") == "PFD")
        L.append(f"- **Register**: {len(self.records)} records: {n_pfd} PFD reports, "
                 f"{len(self.eval_ids)} {EVAL_ISSUER} records holding the contradiction set's "
                 f"recommendations `a` ({len(self.sets['contradictions'])} items; identical `a`s share one record)")
        L.append(f"- **Similarity method** reported by `/api/v1/similar`: "
                 + ", ".join(f"`{k}` ({v} calls)" for k, v in self.methods.most_common()))
        how = {"field": "title and text as separate fields",
               "join": "title and text joined into `text` (the API has no title field: "
                       f"`SimilarRequest` fields are {', '.join(self.similar_fields)})",
               "drop": "text only (title left out)"}
        mode = self.args.draft_title if self.args.draft_title != "auto" else (
            "field" if self.similar_has_title else "join")
        L.append(f"- **Drafts sent to /similar**: {how[mode]}; the baselines get the same words")
        total = time.monotonic() - self.t0
        L.append(f"- **Run time**: {total / 60:.1f} min (" + "; ".join(
            f"{n} {s:.0f} s" for n, s in self.phases) + ")")
        L.append("")
        L.append("Systems: **Concord** (`/api/v1/search`, `/api/v1/similar`, `concord check`); "
                 "**FTS5 bm25** (SQLite FTS5, porter + unicode61 tokenizer, the query's words OR-ed, "
                 "ranked by bm25); **TF-IDF cosine** (lower-cased words of 2+ characters, English stop "
                 "words removed, sublinear tf, smoothed idf from the corpus). The baselines index the "
                 "exported records (title + text + addressee names). The "
                 f"{len(self.eval_ids)} contradiction `a` records are dropped from every system's ranking "
                 "for search and pairs (they are in the register only for the contradiction set).")
        L.append("")
        L.append("**MiniLM cosine**: " + ("all-MiniLM-L6-v2 (Concord's own model code, "
                 "`crates/embed/examples/embed_lines`, release build) on the same text, cosine alone."
                 if self.minilm else "not computed in this run (no `--minilm` binary)."))
        L.append("")
        self.report_notes(L)
        self.report_search(L)
        self.report_pairs(L)
        self.report_contradictions(L)
        self.report_quality(L)
        self.report_misses(L)
        return "\n".join(L) + "\n"

    def report_notes(self, L: list[str]) -> None:
        L.append("## Register and labels")
        L.append("")
        L.append("| file | format | Concord's summary | rejected rows | variants kept |")
        L.append("|---|---|---|---:|---:|")
        for imp in self.imports:
            L.append(f"| {imp['file']} | {imp['format']} | {md(imp['summary'])} | "
                     f"{imp['rejected_rows']} | {imp['variants']} |")
        L.append("")
        notes = []
        for imp in self.imports:
            for d in imp["dropped"]:
                notes.append(
                    f"**Import workaround**: `concord import --partial` refused all of {imp['file']} "
                    f"because of one row (row {d['row']}, {d['url']}: {md(d['reason'], 300)}). "
                    "`--partial` should reject that row and import the rest; the harness imported a copy "
                    "of the file without it.")
        undated = [r for r in self.records if r.get("issuer") == "PFD" and not r.get("published")]
        if undated:
            ex = ", ".join(f"{r['id']} ({(r.get('import_key') or '').removeprefix('pfd:')})" for r in undated[:10])
            notes.append(f"**Undated records**: {len(undated)} PFD records have no publication date, e.g. "
                         f"{md(ex, 900)}. (FORMATS.md says the judiciary file's category index pages, rows "
                         "with no reference, date or PDF, are rejected.)")
        no_text = sum(1 for r in self.records if r.get("issuer") == "PFD"
                      and str(r.get("text", "")).startswith("(No concerns text"))
        notes.append(f"{no_text} of the PFD records have no concerns text (Concord's stand-in text).")
        if self.ready.get("search_warning"):
            notes.append("**Search index**: " + self.ready["search_warning"])
        notes.append(f"Indexes ready {self.ready.get('search_ready_s')} s (search) and "
                     f"{self.ready.get('similar_ready_s')} s (similarity) after the server started.")
        if self.ready.get("method"):
            notes.append(f"**Concord's method**: {self.ready.get('method')}; passage vectors: "
                         f"{self.ready.get('vectors')}; every index ready {self.ready.get('all_ready_s')} s "
                         "after the server started.")
        kc = self.key_check
        if kc["not_exact"]:
            ex = "; ".join(f"{n}: {u}" for n, u in kc["not_exact"][:5])
            notes.append(f"**Import keys**: {len(kc['not_exact'])} of {kc['urls']} report addresses in the "
                         f"data have no record under the key FORMATS.md gives (https, lower-case host, no "
                         f"trailing slash), e.g. {md(ex, 600)}")
        else:
            notes.append(f"Import keys: all {kc['urls']} report addresses in the data have a record under "
                         "the key FORMATS.md gives.")
        if kc["not_loose"]:
            ex = "; ".join(f"{n}: {u}" for n, u in kc["not_loose"][:5])
            notes.append(f"**Addresses with no record** (even ignoring www. and case): "
                         f"{len(kc['not_loose'])}, e.g. {md(ex, 600)}")
        if self.split_reports:
            ex = "; ".join(f"{k} → {', '.join(v)}" for k, v in list(self.split_reports.items())[:5])
            notes.append(f"**One address, several records**: {len(self.split_reports)} addresses "
                         f"(differing only in www., case or slash) have more than one record; any of them "
                         f"counts as relevant. E.g. {md(ex, 600)}")
        # Labels with no record.
        unm = []
        for set_name in ("search_a", "search_b"):
            for row in self.results["search"][set_name]:
                for u in row["unmapped"]:
                    unm.append((row["item"], u))
        for row in self.results["pairs"]:
            if not row["source_ids"]:
                unm.append((row["item"], row["item"]["source"]))
        for x in self.sets["contradictions"]:
            if self.in_split(x) and not self.ids_for(x["a"]["source"]):
                unm.append((x, x["a"]["source"] + " (a's source; not used in scoring)"))
        if unm:
            dev = [(x, u) for x, u in unm if self.show_misses_for(x)]
            s = (f"**Labels that map to no record**: {len(unm)} in this split (items whose every "
                 "relevant report is unmapped are left out of the figures).")
            if dev:
                s += " Dev items: " + "; ".join(f"{x['id']}: {u}" for x, u in dev)
            if len(dev) < len(unm):
                s += f" ({len(unm) - len(dev)} in the test split, not listed.)"
            notes.append(s)
        else:
            notes.append("Every label in this split maps to a record.")
        errors = []
        for set_name in ("search_a", "search_b"):
            errors += [r for r in self.results["search"][set_name] if r.get("error")]
        errors += [r for r in self.results["pairs"] if r.get("error")]
        errors += [r for r in self.results["contradictions"] if r.get("error")]
        errors += [r for r in self.results["quality"] if r.get("error")]
        if errors:
            s = f"**API errors**: {len(errors)} calls failed (counted as misses)."
            dev = [r for r in errors if self.show_misses_for(r["item"])]
            if dev:
                s += " Dev: " + "; ".join(f"{r['item']['id']}: {md(r['error'], 120)}" for r in dev[:20])
            notes.append(s)
        short = sum(1 for r in self.results["pairs"] if r.get("short"))
        if short:
            notes.append(f"{short} pair drafts had fewer than {SEARCH_K} matches left after dropping the "
                         "contradiction `a` records.")
        for n in notes + self.notes:
            L.append(f"- {n}")
        L.append("")

    def report_search(self, L: list[str]) -> None:
        L.append("## Search")
        L.append("")
        L.append(f"Reciprocal rank of the first relevant report in the top {SEARCH_K} (0 if none), "
                 "and how often one is in the top 1, 3 and 10.")
        L.append("")
        L.append("| set | class | n | system | MRR | top-1 | top-3 | top-10 |")
        L.append("|---|---|---:|---|---:|---:|---:|---:|")
        systems = [("concord", "Concord"), ("fts", "FTS5 bm25"), ("tfidf", "TF-IDF cosine")]
        if self.minilm:
            systems.append(("minilm", "MiniLM cosine"))
        all_rows = []
        for set_name in ("search_a", "search_b"):
            rows = [r for r in self.results["search"][set_name] if r["relevant"]]
            all_rows += rows
            classes = list(dict.fromkeys(r["item"]["class"] for r in rows))
            for cls in classes + ["(all)"]:
                sub = rows if cls == "(all)" else [r for r in rows if r["item"]["class"] == cls]
                for j, (key, label) in enumerate(systems):
                    s = search_stats([r[f"rank_{key}"] for r in sub])
                    if not s["n"]:
                        continue
                    first = j == 0
                    name = f"**{cls}**" if cls == "(all)" else cls
                    L.append(f"| {set_name if first else ''} | {name if first else ''} | "
                             f"{s['n'] if first else ''} | {label} | {s['mrr']:.3f} | {pct(s['top1'])} | "
                             f"{pct(s['top3'])} | {pct(s['top10'])} |")
        for j, (key, label) in enumerate(systems):
            s = search_stats([r[f"rank_{key}"] for r in all_rows])
            if s["n"]:
                head = f"| **both** | **(all)** | {s['n']} |" if j == 0 else "| | | |"
                L.append(f"{head} {label} | {s['mrr']:.3f} | "
                         f"{pct(s['top1'])} | {pct(s['top3'])} | {pct(s['top10'])} |")
        L.append("")

    def report_pairs(self, L: list[str]) -> None:
        rows = [r for r in self.results["pairs"] if r["source_ids"]]
        L.append("## Duplicates (pairs)")
        L.append("")
        L.append(f"A draft against its report. Concord: `/api/v1/similar` (limit {PAIRS_FETCH}, contradiction "
                 f"`a` records dropped, top {SEARCH_K} kept). *Labelled duplicate*: the report is among them "
                 "with relation `duplicate`. The baselines have no relation, only hit rates.")
        L.append("")
        L.append("| label | avoids rare words | n | system | top-1 | top-3 | labelled duplicate | top-3 and duplicate |")
        L.append("|---|---|---:|---|---:|---:|---:|---:|")
        groups = [("duplicate", None), ("duplicate", False), ("duplicate", True)]
        for label, rare in groups:
            sub = [r for r in rows if r["item"]["label"] == label
                   and (rare is None or r["item"]["avoids_rare_words"] == rare)]
            n = len(sub)
            if not n:
                continue
            rare_s = "any" if rare is None else ("yes" if rare else "no")
            for j, (key, sysname) in enumerate([("concord", "Concord"), ("fts", "FTS5 bm25"),
                                                ("tfidf", "TF-IDF cosine")]
                                               + ([("minilm", "MiniLM cosine")] if self.minilm else [])):
                top1 = sum(1 for r in sub if r[f"rank_{key}"] == 1)
                top3 = sum(1 for r in sub if r[f"rank_{key}"] and r[f"rank_{key}"] <= 3)
                if key == "concord":
                    dup = sum(1 for r in sub if r["source_relation"] == "duplicate")
                    both = sum(1 for r in sub if r["source_relation"] == "duplicate"
                               and r["rank_concord"] and r["rank_concord"] <= 3)
                    dup_s, both_s = frac(dup, n), frac(both, n)
                else:
                    dup_s = both_s = "–"
                first = j == 0
                L.append(f"| {label if first else ''} | {rare_s if first else ''} | {n if first else ''} | "
                         f"{sysname} | {frac(top1, n)} | {frac(top3, n)} | {dup_s} | {both_s} |")
        L.append("")
        L.append("Related and unrelated drafts: the report should *not* be called a duplicate.")
        L.append("")
        mini = bool(self.minilm)
        L.append("| label | n | report labelled duplicate (Concord) | any match labelled duplicate (Concord) "
                 "| report in top 3: Concord | FTS5 bm25 | TF-IDF cosine |" + (" MiniLM cosine |" if mini else ""))
        L.append("|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if mini else ""))
        for label in ("related", "unrelated"):
            sub = [r for r in rows if r["item"]["label"] == label]
            n = len(sub)
            if not n:
                continue
            t3 = {k: sum(1 for r in sub if r.get(f"rank_{k}") and r[f"rank_{k}"] <= 3)
                  for k in self.systems()}
            L.append(f"| {label} | {n} | {frac(sum(r['source_relation'] == 'duplicate' for r in sub), n)} | "
                     f"{frac(sum(r['any_duplicate'] for r in sub), n)} | {frac(t3['concord'], n)} | "
                     f"{frac(t3['fts'], n)} | {frac(t3['tfidf'], n)} |"
                     + (f" {frac(t3['minilm'], n)} |" if mini else ""))
        L.append("")
        L.append("What Concord called the report (among its top 10):")
        L.append("")
        L.append("| label | avoids rare words | n | duplicate | supports | contradicts | related | absent "
                 "| Concord returned no match | matches returned (mean) |")
        L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for label, rare in [("duplicate", False), ("duplicate", True), ("related", None), ("unrelated", None)]:
            sub = [r for r in rows if r["item"]["label"] == label
                   and (rare is None or r["item"]["avoids_rare_words"] == rare)]
            if not sub:
                continue
            c = collections.Counter(r["source_relation"] for r in sub)
            rare_s = "–" if rare is None else ("yes" if rare else "no")
            none = sum(1 for r in sub if not r.get("n_matches"))
            mean = sum(r.get("n_matches", 0) for r in sub) / len(sub)
            L.append(f"| {label} | {rare_s} | {len(sub)} | " + " | ".join(
                str(c.get(k, 0)) for k in RELATIONS + ["absent"]) + f" | {none} | {mean:.1f} |")
        L.append("")

    def report_contradictions(self, L: list[str]) -> None:
        rows = self.results["contradictions"]
        L.append("## Contradictions")
        L.append("")
        L.append(f"Draft `b` sent to `/api/v1/similar` (limit {CONTRA_FETCH}); what it says about the record "
                 "holding `a`. Baselines: whether `a`'s record is in their top 3 for `b`'s words.")
        L.append("")
        con = [r for r in rows if r["item"]["label"] == "contradicts"]
        com = [r for r in rows if r["item"]["label"] == "compatible"]
        tp = sum(1 for r in con if r["a_relation"] == "contradicts")
        fp_own = sum(1 for r in com if r["a_relation"] == "contradicts")
        all_labels = sum(len(r["contradicts_on_a_records"]) for r in rows)
        # Labels on another item's `a`: from the same report as this item's `a`, or another.
        src_of = collections.defaultdict(set)
        for x in self.sets["contradictions"]:
            src_of[self.a_of_item[x["id"]]].add(loose_key(x["a"]["source"]))
        other_same = other_diff = 0
        for r in rows:
            own_src = src_of[r["a_id"]]
            for rid in r["contradicts_on_a_records"]:
                if rid == r["a_id"]:
                    continue
                if src_of[rid] & own_src:
                    other_same += 1
                else:
                    other_diff += 1
        mini = bool(self.minilm)
        L.append("| label | n | `a` labelled contradicts (Concord) | `a` in top 3: Concord | FTS5 bm25 | TF-IDF cosine |"
                 + (" MiniLM cosine |" if mini else ""))
        L.append("|---|---:|---:|---:|---:|---:|" + ("---:|" if mini else ""))
        for label, sub in (("contradicts", con), ("compatible", com)):
            n = len(sub)
            if not n:
                continue
            t3 = {k: sum(1 for r in sub if r.get(f"rank_{k}") and r[f"rank_{k}"] <= 3)
                  for k in self.systems()}
            c = sum(1 for r in sub if r["a_relation"] == "contradicts")
            L.append(f"| {label} | {n} | {frac(c, n)} | {frac(t3['concord'], n)} | {frac(t3['fts'], n)} | "
                     f"{frac(t3['tfidf'], n)} |" + (f" {frac(t3['minilm'], n)} |" if mini else ""))
        L.append("")
        L.append(f"- **Recall** (contradicts items whose `a` is labelled contradicts): {frac(tp, len(con))}")
        L.append(f"- **False alarms** (compatible items whose `a` is labelled contradicts): {frac(fp_own, len(com))}")
        L.append(f"- **Precision** = true contradicts / every `contradicts` label on an `a` record "
                 f"(own or another item's): {frac(tp, all_labels)}; counting only each item's own `a`: "
                 f"{frac(tp, tp + fp_own)}. Labels on another item's `a`: {other_same} on an `a` written "
                 f"from the same report as this item's `a` (possibly a real conflict; the sets do not say), "
                 f"{other_diff} on an `a` from another report.")
        L.append("")
        L.append("What Concord called `a`'s record:")
        L.append("")
        L.append("| label | kind | n | contradicts | duplicate | supports | related | absent | `a` in top 3 |")
        L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for label, sub in (("contradicts", con), ("compatible", com)):
            kinds = sorted(set(r["item"]["kind"] for r in sub))
            for kind in kinds + ["(all)"]:
                s = sub if kind == "(all)" else [r for r in sub if r["item"]["kind"] == kind]
                if not s:
                    continue
                c = collections.Counter(r["a_relation"] for r in s)
                t3 = sum(1 for r in s if r["rank_concord"] and r["rank_concord"] <= 3)
                k = f"**{kind}**" if kind == "(all)" else kind
                L.append(f"| {label} | {k} | {len(s)} | " + " | ".join(
                    str(c.get(x, 0)) for x in ["contradicts", "duplicate", "supports", "related", "absent"])
                    + f" | {t3} |")
        L.append("")

    def report_quality(self, L: list[str]) -> None:
        rows = [r for r in self.results["quality"] if not r.get("error")]
        L.append("## Quality check")
        L.append("")
        L.append(f"`concord check --as-of {QUALITY_TODAY}` (the day the labeller was told to assume) on each draft; agreement = the exact verdict (pass/warn/fail) the labeller "
                 "gave. Baseline: always the commonest dev label of the criterion"
                 + (" (in-sample on dev)." if self.split != "test" else "."))
        L.append("")
        L.append("| criterion | n | Concord agrees | majority label | majority agrees | disagreements (label→Concord) |")
        L.append("|---|---:|---:|---|---:|---|")
        crits = list(dict.fromkeys(c for r in rows for c in r["item"]["verdicts"]))
        tot_n = tot_ok = tot_maj = 0
        past_deadline = 0
        for crit in crits:
            sub = [r for r in rows if crit in r["item"]["verdicts"]]
            n = len(sub)
            ok = sum(1 for r in sub if r["got"].get(crit) == r["item"]["verdicts"][crit])
            maj = self.majority.get(crit)
            mok = sum(1 for r in sub if r["item"]["verdicts"][crit] == maj)
            conf = collections.Counter(
                f"{r['item']['verdicts'][crit]}→{r['got'].get(crit, 'missing')}"
                for r in sub if r["got"].get(crit) != r["item"]["verdicts"][crit])
            if crit == "time_bound":
                past_deadline = sum(1 for r in sub if r["got"].get(crit) != r["item"]["verdicts"][crit]
                                    and "in the past" in r["messages"].get(crit, ""))
            tot_n, tot_ok, tot_maj = tot_n + n, tot_ok + ok, tot_maj + mok
            L.append(f"| {crit} | {n} | {frac(ok, n)} | {maj} | {frac(mok, n)} | "
                     + ", ".join(f"{k} {v}" for k, v in conf.most_common()) + " |")
        L.append(f"| **overall** | {tot_n} | {frac(tot_ok, tot_n)} | | {frac(tot_maj, tot_n)} | |")
        exact_all = sum(1 for r in rows if all(r["got"].get(c) == v for c, v in r["item"]["verdicts"].items()))
        L.append("")
        L.append(f"Drafts with every criterion agreeing: {frac(exact_all, len(rows))}.")
        if past_deadline:
            L.append(f"Of the time_bound disagreements, {past_deadline} are Concord saying the deadline is in the "
                     f"past (the machine's date is {dt.date.today().isoformat()}; the labels may assume an earlier "
                     "'today').")
        L.append("")

    def report_misses(self, L: list[str]) -> None:
        if self.split == "test":
            L.append("## Misses")
            L.append("")
            L.append("Not listed for the test split (tune on dev only: `--split dev`).")
            return
        L.append("## Misses (dev items only)")
        L.append("")
        L.append("### Search: relevant report not ranked first by Concord")
        L.append("")
        L.append("| id | class | query | Concord rank | FTS5 | TF-IDF | expected | Concord's top 3 |")
        L.append("|---|---|---|---:|---:|---:|---|---|")
        for set_name in ("search_a", "search_b"):
            for r in self.results["search"][set_name]:
                x = r["item"]
                if not self.show_misses_for(x) or not r["relevant"] or r["rank_concord"] == 1:
                    continue
                top = "; ".join(f"{i} {md(r.get('titles', {}).get(i, ''), 60)}" for i in r["concord"][:3])
                L.append(f"| {x['id']} | {x['class']} | {md(x['query'])} | {r['rank_concord'] or '>10'} | "
                         f"{r['rank_fts'] or '>10'} | {r['rank_tfidf'] or '>10'} | "
                         f"{', '.join(sorted(r['relevant']))} | {top} |")
        L.append("")
        L.append("### Pairs: duplicate not first in Concord's list or not labelled duplicate; related/unrelated labelled duplicate")
        L.append("")
        L.append("| id | label | rare | report | Concord rank | relation | FTS5 | TF-IDF | Concord's top 3 (relation) |")
        L.append("|---|---|---|---|---:|---|---:|---:|---|")
        for r in self.results["pairs"]:
            x = r["item"]
            if not self.show_misses_for(x) or not r["source_ids"]:
                continue
            if x["label"] == "duplicate":
                miss = r["rank_concord"] != 1 or r["source_relation"] != "duplicate"
            else:
                miss = r["source_relation"] == "duplicate"
            if not miss:
                continue
            top = "; ".join(f"{m['id']} ({m['relation']})" for m in r.get("concord", [])[:3])
            L.append(f"| {x['id']} | {x['label']} | {'yes' if x['avoids_rare_words'] else 'no'} | "
                     f"{', '.join(sorted(r['source_ids']))} | {r['rank_concord'] or '>10'} | "
                     f"{r['source_relation']} | {r['rank_fts'] or '>10'} | {r['rank_tfidf'] or '>10'} | {top} |")
        L.append("")
        L.append("### Contradictions: contradicts not found, compatible flagged")
        L.append("")
        L.append("| id | label | kind | `a` record | relation | rank | reason | note |")
        L.append("|---|---|---|---|---|---:|---|---|")
        for r in self.results["contradictions"]:
            x = r["item"]
            if not self.show_misses_for(x):
                continue
            wrong = (r["a_relation"] != "contradicts") if x["label"] == "contradicts" else (
                r["a_relation"] == "contradicts")
            if not wrong:
                continue
            reason = next((m.get("reason", "") for m in r.get("concord", []) if m["id"] == r["a_id"]), "")
            L.append(f"| {x['id']} | {x['label']} | {x['kind']} | {r['a_id']} | {r['a_relation']} | "
                     f"{r['rank_concord'] or '>10'} | {md(reason, 120)} | {md(x.get('note', ''), 140)} |")
        L.append("")
        L.append("### Quality: verdicts that differ")
        L.append("")
        L.append("| id | criterion | label | Concord | Concord's message | labeller's why |")
        L.append("|---|---|---|---|---|---|")
        for r in self.results["quality"]:
            x = r["item"]
            if not self.show_misses_for(x):
                continue
            for crit, want in x["verdicts"].items():
                got = r["got"].get(crit, "missing" if not r.get("error") else "error")
                if got == want:
                    continue
                L.append(f"| {x['id']} | {crit} | {want} | {got} | {md(r['messages'].get(crit, ''), 140)} | "
                         f"{md(x.get('why', {}).get(crit, ''), 140)} |")
        L.append("")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Evaluate Concord on the frozen held-out sets (evaluation/heldout) against baselines.")
    ap.add_argument("--bin", default=os.environ.get("CONCORD_BIN") or DEFAULT_BIN,
                    help="the concord binary (default: $CONCORD_BIN or %(default)s)")
    ap.add_argument("--split", choices=["dev", "test", "all"], default="dev",
                    help="which items to measure (default: dev)")
    ap.add_argument("--out", default=str(HERE / "RESULTS-latest.md"),
                    help="the Markdown report (default: evaluation/RESULTS-latest.md)")
    ap.add_argument("--data", default=str(DEFAULT_DATA),
                    help="the folder of PFD files (default: %(default)s)")
    ap.add_argument("--workdir", default=None,
                    help="where the temporary register goes (default: the system's temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary register and server log")
    ap.add_argument("--minilm", default=default_minilm_bin(),
                    help="the embed_lines example (cargo build --release -p concord-embed --features embeddings "
                         "--example embed_lines) for the MiniLM-alone baseline; empty: no MiniLM baseline")
    ap.add_argument("--vectors", default="",
                    help="a vector cache file to start the server's from and save back to (saves recomputing "
                         "passage vectors between runs)")
    ap.add_argument("--draft-title", choices=["auto", "field", "join", "drop"], default="auto",
                    help="how a draft's title reaches /similar: auto = a title field when the API has "
                         "one, else joined in front of the text (default: auto)")
    ap.add_argument("--http-timeout", type=float, default=120, help="seconds per HTTP call (default: 120)")
    ap.add_argument("--ready-timeout", type=float, default=3600,
                    help="seconds to wait for the server's indexes (default: 3600)")
    args = ap.parse_args(argv)

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    run = Run(args)
    workdir = None
    keep = args.keep
    try:
        run.prepare()
        workdir = Path(tempfile.mkdtemp(prefix="concord-eval-", dir=args.workdir))
        log(f"temporary register in {workdir}")
        run.build_register(workdir)
        run.build_baselines()
        try:
            run.serve_and_measure(workdir)
        finally:
            if getattr(run, "server", None):
                run.server.stop()
                log("server stopped")
        text = run.report()
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        log(f"report written to {out} ({(time.monotonic() - run.t0) / 60:.1f} min)")
        return 0
    except EvalError as e:
        keep = True  # for a look at the register and the server's log
        print(f"error: {e}", file=sys.stderr)
        return 2 if "checksum" in str(e) else 1
    except KeyboardInterrupt as e:
        print(f"interrupted ({e})", file=sys.stderr)
        return 130
    finally:
        if getattr(run, "server", None):
            run.server.stop()
        if workdir is not None:
            if keep:
                log(f"kept the temporary register in {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
