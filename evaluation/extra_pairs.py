"""More pairs sets (evaluation/extra/) through the main harness.

    python3 evaluation/extra_pairs.py --pairs evaluation/extra/s10-pairs.json \
        --bin target/release/concord --minilm "" --out FILE

Runs evaluation/run.py with the given pairs in place of the frozen ones
(every item treated as dev: its misses are listed; the frozen search and
quality items are left out, the contradiction set's records kept) and writes,
above the usual report, a summary per label and kind (or rare-word flag) and
every item with Concord's top 3. Items may say `contradicts` or `compatible`
as well as the frozen labels.
"""
import collections
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run as R  # noqa: E402


def main(argv: list[str]) -> int:
    got = R.extra_set(argv, "--pairs", "extra_pairs.py")
    if got is None:
        return 2
    items, rest = got
    path = Path(argv[argv.index("--pairs") + 1])
    for x in items:
        x.setdefault("avoids_rare_words", False)

    orig_prepare = R.Run.prepare

    def prepare(self):
        orig_prepare(self)
        self.sets["pairs"] = items
        for name in ("search_a", "search_b", "quality"):
            self.sets[name] = []

    orig_report = R.Run.report

    def report(self):
        rows = self.results["pairs"]
        out = [f"# {path.name}: {len(rows)} drafts", ""]
        by = collections.defaultdict(list)
        for r in rows:
            x = r["item"]
            by[(x["label"], x.get("kind") or ("avoids rare words" if x["avoids_rare_words"] else ""))].append(r)
        out.append("| label | kind | n | Concord top-1 | top-3 | FTS5 top-3 | what Concord called the report |")
        out.append("|---|---|---:|---:|---:|---:|---|")
        for (label, kind), rs in sorted(by.items()):
            t1 = sum(1 for r in rs if r.get("rank_concord") == 1)
            t3 = sum(1 for r in rs if r.get("rank_concord") and r["rank_concord"] <= 3)
            f3 = sum(1 for r in rs if r.get("rank_fts") and r["rank_fts"] <= 3)
            rel = collections.Counter(r.get("source_relation") for r in rs)
            said = ", ".join(f"{k} {v}" for k, v in sorted(rel.items()))
            out.append(f"| {label} | {kind} | {len(rs)} | {t1} | {t3} | {f3} | {said} |")
        out.append("")
        for r in rows:
            x = r["item"]
            out.append(f"- {x['id']} {x['label']} {x.get('kind', '')} rank={r.get('rank_concord')} "
                       f"called={r.get('source_relation')} :: {x['draft'][:160]}")
            for m in r.get("concord", [])[:3]:
                out.append(f"  - {m['id']} {m['relation']}: {m['reason'][:140]}")
        return "\n".join(out) + "\n\n" + orig_report(self)

    R.Run.prepare = prepare
    R.Run.report = report
    return R.main(["--split", "dev"] + rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
