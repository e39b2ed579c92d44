#!/usr/bin/env python3
"""Validate Concord's demo data set (organisations.json, recommendations.json, PAIRS.md).

Run from anywhere:  python3 crates/app/demo/validate_demo.py
Optional: CONCORD_SHARED_DATA=/path/to/shared/data to enable the
"no text lifted from the real PFD data" check (skipped if not found).
Exit status 0 when every check passes, 1 otherwise.
"""
import csv, datetime as dt, json, os, re, sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
TODAY = dt.date(2026, 10, 1)          # reference date for "overdue"
PUB_MIN, PUB_MAX = dt.date(2019, 1, 1), dt.date(2026, 10, 31)

SEED = {"HSSIB", "MNSI", "PHSO", "CQC", "MHRA", "HFEA", "HTA", "HRA", "NICE", "NHSE", "DHSC", "UKHSA",
        "NHSBT", "NHSR", "NGO", "NQB", "PSC", "AOMRC", "NHSCONFED", "NHSPROV", "HIN", "PFD"}
REC_KIND = {"recommendation", "safety_observation", "safety_action", "concern"}
STATUS = {"published", "draft", "closed", "withdrawn"}
LEVEL = {"national", "regional", "system", "provider"}
ADDR_STATUS = {"awaiting_response", "response_received", "not_required"}
EV_KIND = {"investigation", "inquest", "inspection", "audit", "systematic_review", "guideline",
           "expert_opinion", "incident_data", "other"}
STRENGTH = {"strong", "moderate", "limited", "none", None}
CONF = {"high", "medium", "low", None}
DIRECTION = {"reduces", "widens", "neutral", "unknown"}
RISK = {"low", "medium", "high", "critical", None}
LINK_KIND = {"duplicates", "supports", "contradicts", "supersedes", "builds_on", "related"}
LINK_STATE = {"confirmed", "suggested"}
ORG_KIND = {"investigator", "regulator", "national_body", "icb", "provider", "professional_body", "coroner",
            "ombudsman", "government", "oversight", "membership_body", "local_authority", "other"}
PROVIDER_KIND = {None, "acute_trust", "mental_health_trust", "ambulance_service", "community_trust", "care_home",
                 "gp_practice", "hospice", "independent_provider"}
REC_KEYS = {"id", "local_ref", "kind", "issuer", "source", "title", "text", "published", "status", "level",
            "addressees", "themes", "settings", "evidence", "patient_impact", "cost", "equality", "risk",
            "response_deadline", "links"}
ID_RE = re.compile(r"^[A-Z][A-Z0-9]{1,15}-\d{4}-\d{4,}$")
CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
MENTION_RE = re.compile(r"\b(?:[A-Z][A-Z0-9]{1,15}-\d{4}-\d{4,}|(?:19|20)\d{2}-\d{4})\b")

errors, notes = [], []
def err(msg): errors.append(msg)

def date(s, where, lo=None, hi=None):
    try:
        d = dt.date.fromisoformat(s)
    except (TypeError, ValueError):
        err(f"{where}: bad date {s!r}"); return None
    if len(s) != 10: err(f"{where}: date not YYYY-MM-DD: {s!r}")
    if lo and d < lo or hi and d > hi: err(f"{where}: date {s} outside {lo}..{hi}")
    return d

orgs = json.load(open(HERE / "organisations.json", encoding="utf-8"))
recs = json.load(open(HERE / "recommendations.json", encoding="utf-8"))

# ---- organisations
codes = Counter(o["code"] for o in orgs)
for o in orgs:
    c = o["code"]
    if set(o) != {"code", "name", "kind", "level", "provider_kind", "region", "aliases"}: err(f"org {c}: keys {sorted(o)}")
    if not CODE_RE.match(c): err(f"org {c}: bad code")
    if codes[c] > 1: err(f"org {c}: duplicate code")
    if c in SEED: err(f"org {c}: already in the seed table")
    if o["kind"] not in ORG_KIND: err(f"org {c}: kind {o['kind']}")
    if o["level"] not in LEVEL: err(f"org {c}: level {o['level']}")
    if o["provider_kind"] not in PROVIDER_KIND: err(f"org {c}: provider_kind {o['provider_kind']}")
    if o["provider_kind"] and o["kind"] != "provider": err(f"org {c}: provider_kind on non-provider")
    if not isinstance(o["aliases"], list): err(f"org {c}: aliases not a list")
known = SEED | set(codes)

# ---- recommendations
if len(recs) < 160: err(f"only {len(recs)} recommendations (need >= 160)")
ids = Counter(r["id"] for r in recs)
for i, n in ids.items():
    if n > 1: err(f"duplicate id {i}")
allids = set(ids)
overdue = []
texts_with_mentions = []
for r in recs:
    rid = r["id"]; w = rid
    if set(r) != REC_KEYS: err(f"{w}: keys differ: {sorted(set(r) ^ REC_KEYS)}")
    if not ID_RE.match(rid): err(f"{w}: id format")
    issuer, year, _ = rid.split("-")
    if issuer != r["issuer"]: err(f"{w}: issuer {r['issuer']} != id prefix")
    if r["issuer"] not in SEED: err(f"{w}: issuer {r['issuer']} not in seed table")
    pub = date(r["published"], w + ".published", PUB_MIN, PUB_MAX)
    if pub and str(pub.year) != year: err(f"{w}: id year != published year")
    if r["kind"] not in REC_KIND: err(f"{w}: kind {r['kind']}")
    if issuer == "PFD":
        if r["kind"] != "concern": err(f"{w}: PFD must be a concern")
        if r["local_ref"] != rid[4:]: err(f"{w}: PFD local_ref should be {rid[4:]}")
    if r["status"] not in STATUS: err(f"{w}: status {r['status']}")
    if r["level"] is not None and r["level"] not in LEVEL: err(f"{w}: level {r['level']}")
    if r["risk"] not in RISK: err(f"{w}: risk {r['risk']}")
    if not r["title"] or not r["text"]: err(f"{w}: empty title/text")
    s = r["source"]
    if set(s) != {"title", "date", "url", "local_ref"}: err(f"{w}: source keys")
    date(s["date"], w + ".source.date", PUB_MIN, PUB_MAX)
    if not s["url"].startswith("https://example.org/"): err(f"{w}: source url not example.org")
    dl = r["response_deadline"]
    if dl is not None:
        d = date(dl, w + ".response_deadline")
        if pub and d and issuer == "PFD" and (d - pub).days != 56: err(f"{w}: PFD deadline should be published+56")
        if pub and d and issuer in ("HSSIB", "MNSI") and (d - pub).days != 90: err(f"{w}: {issuer} deadline should be published+90")
    for t in r["themes"] + r["settings"]:
        if t != t.lower() or not t.strip(): err(f"{w}: theme/setting not lower-case: {t!r}")
    if not r["addressees"]: err(f"{w}: no addressees")
    for a in r["addressees"]:
        aw = f"{w}.addressee[{a.get('name')}]"
        if set(a) != {"name", "org", "status", "due", "responses"}: err(f"{aw}: keys")
        if a["org"] is not None and a["org"] not in known: err(f"{aw}: unknown org {a['org']}")
        if a["status"] not in ADDR_STATUS: err(f"{aw}: status {a['status']}")
        due = date(a["due"], aw + ".due") if a["due"] is not None else None
        if a["status"] == "response_received" and not a["responses"]: err(f"{aw}: received but no response")
        if a["status"] != "response_received" and a["responses"]: err(f"{aw}: responses but status {a['status']}")
        if a["status"] == "awaiting_response" and due and due < TODAY: overdue.append((rid, a["name"], a["due"]))
        for x in a["responses"]:
            if set(x) != {"received", "respondent", "url", "text"}: err(f"{aw}: response keys")
            if x["received"] is not None:
                d = date(x["received"], aw + ".received")
                if d and pub and d < pub: err(f"{aw}: response before publication")
                if d and d > TODAY: err(f"{aw}: response in the future")
            if x["url"] is not None and not x["url"].startswith("https://example.org/"): err(f"{aw}: response url")
    e = r["evidence"]
    if e is not None:
        if set(e) != {"kind", "references", "strength"}: err(f"{w}: evidence keys")
        if e["kind"] not in EV_KIND: err(f"{w}: evidence kind {e['kind']}")
        if e["strength"] not in STRENGTH: err(f"{w}: evidence strength {e['strength']}")
    c = r["cost"]
    if c is not None:
        if set(c) != {"one_off", "recurring", "currency", "confidence", "cost_effectiveness"}: err(f"{w}: cost keys")
        if c["currency"] != "GBP": err(f"{w}: currency")
        if c["confidence"] not in CONF: err(f"{w}: cost confidence")
        for k in ("one_off", "recurring"):
            if c[k] is not None and (not isinstance(c[k], (int, float)) or c[k] < 0): err(f"{w}: cost {k} {c[k]!r}")
    q = r["equality"]
    if q is not None:
        if set(q) != {"groups", "direction", "mitigation"}: err(f"{w}: equality keys")
        if q["direction"] not in DIRECTION: err(f"{w}: equality direction")
    for l in r["links"]:
        if set(l) != {"kind", "target", "state", "asserted_by", "asserted_at"}: err(f"{w}: link keys")
        if l["kind"] not in LINK_KIND: err(f"{w}: link kind {l['kind']}")
        if l["state"] not in LINK_STATE: err(f"{w}: link state {l['state']}")
        if l["target"] not in allids: err(f"{w}: link target {l['target']} missing")
        if l["target"] == rid: err(f"{w}: self link")
        if l["asserted_by"] not in known: err(f"{w}: asserted_by {l['asserted_by']}")
        try: dt.datetime.strptime(l["asserted_at"], "%Y-%m-%dT%H:%M:%SZ")
        except (TypeError, ValueError): err(f"{w}: asserted_at {l['asserted_at']!r}")
    if any(x["text"] == r["text"] for a in r["addressees"] for x in a["responses"]):
        err(f"{w}: recommendation text identical to a response text")
    mentions = [m for m in MENTION_RE.findall(r["text"]) if m != rid]
    if mentions:
        texts_with_mentions.append((rid, mentions))
        for m in mentions:
            target = m if m in allids else f"PFD-{m}"
            if target not in allids: err(f"{w}: text mentions {m}, which is not in the file")

if len(overdue) < 20: err(f"only {len(overdue)} overdue awaiting addressees (need >= 20)")
if len(texts_with_mentions) < 5: err(f"only {len(texts_with_mentions)} texts mention another id (need >= 5)")
issuers = Counter(r["issuer"] for r in recs)
if len(issuers) < 10: err(f"only {len(issuers)} issuers (need >= 10)")
costed = sum(r["cost"] is not None for r in recs)

# ---- PAIRS.md
pairs = {"duplicate": [], "contradiction": []}
pairs_path = HERE / "PAIRS.md"
if pairs_path.exists():
    for line in pairs_path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Z][A-Z0-9]+-\d{4}-\d{4,}), ([A-Z][A-Z0-9]+-\d{4}-\d{4,}), (duplicate|contradiction), (.+)$", line)
        if not m: continue
        a, b, k, _ = m.groups()
        for x in (a, b):
            if x not in allids: err(f"PAIRS.md: {x} not in recommendations.json")
        if a.split("-")[0] == b.split("-")[0] and k == "duplicate": err(f"PAIRS.md: {a},{b} same issuer")
        pairs[k].append((a, b))
else:
    err("PAIRS.md missing")
if len(pairs["duplicate"]) < 12: err(f"only {len(pairs['duplicate'])} near-duplicate pairs")
if len(pairs["contradiction"]) < 8: err(f"only {len(pairs['contradiction'])} contradictory pairs")

# ---- nothing lifted from the real PFD data (8-word shingles)
# Names of bodies and statutes are shared vocabulary, not lifted text: a shingle may not span them.
SHARED_PHRASES = [r"national institute for health and care excellence", r"section \d+ of the mental health act( 1983)?",
                  r"medicines and healthcare products regulatory agency", r"health services safety investigations body",
                  r"department of health and social care", r"royal college of [a-z ]+?(?=[,.;]| and | to | has | will |$)"]
def words(s): return re.findall(r"[a-z0-9']+", s.lower())
def shingles(s, n=8):
    out = set()
    s = s.lower()
    for p in SHARED_PHRASES: s = re.sub(p, "\n", s)
    for seg in s.split("\n"):
        w = words(seg); out |= {" ".join(w[i:i + n]) for i in range(len(w) - n + 1)}
    return out
data_dir = Path(os.environ.get("CONCORD_SHARED_DATA", HERE.parents[3] / "shared" / "data"))
pfd_dir = data_dir / "pfd"
if pfd_dir.is_dir():
    csv.field_size_limit(10**9)
    real = set()
    for f in sorted(pfd_dir.glob("*.csv")):
        with open(f, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                for col in ("concerns", "action", "response", "circumstances", "investigation"):
                    if row.get(col): real |= shingles(row[col])
    ours = []
    for r in recs:
        ours.append((r["id"], r["text"]))
        for a in r["addressees"]:
            for x in a["responses"]:
                if x["text"]: ours.append((r["id"] + " response", x["text"]))
    lifted = [(w, sorted(shingles(t) & real)[:3]) for w, t in ours if shingles(t) & real]
    for w, sh in lifted: err(f"{w}: shares 8-word phrases with real PFD data: {sh}")
    notes.append(f"lifted-text check: compared {len(ours)} texts with {len(real)} real 8-word phrases, {len(lifted)} hits")
else:
    notes.append(f"lifted-text check skipped: {pfd_dir} not found")

# ---- report
print(f"organisations: {len(orgs)}; recommendations: {len(recs)}")
print("issuers:", dict(sorted(issuers.items(), key=lambda kv: -kv[1])))
print("kinds:", dict(Counter(r["kind"] for r in recs)))
print("status:", dict(Counter(r["status"] for r in recs)))
print("addressee status:", dict(Counter(a["status"] for r in recs for a in r["addressees"])))
print(f"overdue awaiting addressees (due < {TODAY}): {len(overdue)}")
print(f"costed: {costed} ({100 * costed / len(recs):.0f}%), uncosted {100 - 100 * costed / len(recs):.0f}%")
print(f"texts mentioning other ids: {len(texts_with_mentions)}")
print("link kinds:", dict(Counter(l["kind"] for r in recs for l in r["links"])))
print(f"PAIRS.md: {len(pairs['duplicate'])} near-duplicates, {len(pairs['contradiction'])} contradictions")
for n in notes: print(n)
if errors:
    print(f"\n{len(errors)} ERROR(S):")
    for e in errors: print("  -", e)
    sys.exit(1)
print("\nOK: all checks passed")
