"""More contradiction sets (evaluation/extra/) through the main harness.

    python3 evaluation/extra_contradictions.py --set evaluation/extra/c3-contradictions.json \
        --bin target/release/concord --minilm "" --out FILE

Runs evaluation/run.py with the given set in place of the frozen
contradiction set (its `a` recommendations become the register's HSSIB
records; every item is treated as dev, so its misses are listed; the frozen
search, pairs and quality items are left out). Same item format as
heldout/contradictions.json.
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run as R  # noqa: E402


def main(argv: list[str]) -> int:
    got = R.extra_set(argv, "--set", "extra_contradictions.py")
    if got is None:
        return 2
    items, rest = got

    orig_prepare = R.Run.prepare

    def prepare(self):
        orig_prepare(self)
        self.sets["contradictions"] = items
        for name in ("search_a", "search_b", "pairs", "quality"):
            self.sets[name] = []

    orig_report = R.Run.report

    def report(self):
        # Every `contradicts` label on another item's `a` record, with its
        # reason: the false alarms a precision figure counts (dev set, read).
        out = ["## `contradicts` on another item's `a`", "",
               "| draft | its label | record | reason |", "|---|---|---|---|"]
        for r in self.results["contradictions"]:
            for m in r.get("concord", []):
                if (m["id"] in r["contradicts_on_a_records"] and m["id"] != r["a_id"]):
                    out.append(f"| {r['item']['id']} | {r['item']['label']} | {m['id']} | "
                               f"{R.md(m.get('reason', ''), 220)} |")
        return orig_report(self) + "\n" + "\n".join(out) + "\n"

    R.Run.prepare = prepare
    R.Run.report = report
    return R.main(["--split", "dev"] + rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
