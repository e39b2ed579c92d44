"""A second pairs set, dev only, through the main harness.

    python3 evaluation/dev-s10/run.py --bin target/release/concord --minilm "" --out FILE

Runs evaluation/run.py with this folder's pairs.json in place of the frozen
pairs (every item treated as dev; the other sets' search and quality items
left out, the contradiction set kept) and writes, above the usual report, a
summary per label and every item with Concord's top 3.
"""
import collections
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import run as R  # noqa: E402

items = json.load(open(HERE / "pairs.json", encoding="utf-8"))
for x in items:
    x['_split'] = 'dev'
orig_prepare = R.Run.prepare
def prepare(self):
    orig_prepare(self)
    self.sets['pairs'] = items
    # only the pairs matter here: drop the other sets' dev items from the run
    for k in ('search_a', 'search_b', 'quality'):
        self.sets[k] = []
R.Run.prepare = prepare
orig_report = R.Run.report
def report(self):
    rows = self.results['pairs']
    out = []
    by = collections.defaultdict(list)
    for r in rows:
        x = r['item']
        key = (x['label'], x.get('avoids_rare_words'))
        by[key].append(r)
    for key, rs in sorted(by.items(), key=str):
        n = len(rs)
        t1 = sum(1 for r in rs if r.get('rank_concord') == 1)
        t3 = sum(1 for r in rs if r.get('rank_concord') and r['rank_concord'] <= 3)
        f3 = sum(1 for r in rs if r.get('rank_fts') and r['rank_fts'] <= 3)
        rel = collections.Counter(r.get('source_relation') for r in rs)
        out.append(f"{key}: n={n} concord top1={t1} top3={t3} fts top3={f3} relations={dict(rel)}")
    out.append('')
    for r in rows:
        x = r['item']
        out.append(f"{x['id']} {x['label']} rare={x.get('avoids_rare_words')} rank={r.get('rank_concord')} rel={r.get('source_relation')} fts={r.get('rank_fts')} :: {x['draft'][:150]}")
        for m in r.get('concord', [])[:3]:
            out.append(f"     {m['id']} {m['relation']} {m['reason'][:140]}")
    return '\n'.join(out) + '\n\n' + orig_report(self)
R.Run.report = report
sys.exit(R.main(["--split", "dev"] + sys.argv[1:]))
