# Writes quality_eval.json: hand-written drafts with the verdict a reviewer
# gives on each criterion. Criteria not listed in "expect" are expected to pass.
# Written by the engineers who tuned the criteria, so it is a dev set: the
# held-out judgement is evaluation/heldout/quality.json. On 2026-12-06 its
# conventions were aligned with that set's labelling guide (a kind of body
# such as "every acute trust", or a body not in the register, is an
# addressee; a vague party or "consider" alone is a warning, not a failure;
# two linked actions are one recommendation, three or more a bundle; a long
# sentence is a warning, four unexplained abbreviations a failure).
# (Kept beside the data so the variants' derivation from the base is visible.)
import copy, json

BASE = {
  "issuer": "HSSIB",
  "title": "Escalating deterioration on adult wards",
  "text": ("NHS England should require every acute trust to use the National Early Warning Score 2 (NEWS2) "
           "escalation checklist on adult general wards by 31 March 2026. "
           "Each trust will publish a quarterly audit of compliance. "
           "Our investigation found that missed escalation contributed to three deaths. "
           "This is so that patients whose condition worsens are seen by a doctor within one hour."),
  "addressees": [{"name": "NHS England", "org": "NHSE"}],
  "settings": ["acute"],
  "response_deadline": "2026-03-31",
  "evidence": {"kind": "investigation", "references": ["HSSIB investigation report I2024/012"]},
  "patient_impact": "Patients who deteriorate are seen by a doctor within one hour.",
  "cost": {"one_off": 250000, "recurring": 40000},
  "equality": {"groups": ["older people", "people with learning disabilities"], "direction": "reduces"},
  "links": ["HSSIB-2023-0004"],
}

items = []
def add(name, draft, expect=None, similar=None):
    it = {"name": name, "draft": draft, "expect": expect or {}}
    if similar is not None:
        it["similar"] = similar
    items.append(it)

def var(name, expect=None, similar=None, drop=(), text=None, **set_):
    d = copy.deepcopy(BASE)
    for k in drop:
        d.pop(k, None)
    if text is not None:
        d["text"] = text
    d.update(set_)
    add(name, d, expect, similar)

T = BASE["text"]
add("well-made base", copy.deepcopy(BASE))
var("a kind of body as the addressee, in the text only", drop=["addressees"],
    text=T.replace("NHS England should require every acute trust to use", "Every acute trust should use"))
var("vague addressee field", {"addressee": "warn"}, addressees=["All relevant organisations"])
var("addressee only in the text, registered", drop=["addressees"])
var("addressee not in the register", drop=["addressees"],
    text=T.replace("NHS England should require", "The Northmoor Widget Council should require"))
var("vague addressee in text", {"addressee": "warn", "achievable": "warn"}, drop=["addressees"],
    text=T.replace("NHS England should require", "All relevant stakeholders should require"))
var("addressee as plain string", addressees="Care Quality Commission")
var("consider alone", {"action": "warn", "measurable": "warn", "plain_language": "warn"},
    text="NHS England should consider the NEWS2 escalation checklist for adult general wards by 31 March 2026. "
         "Our investigation found that missed escalation contributed to three deaths. "
         "This is so that patients whose condition worsens are seen by a doctor within one hour.")
var("raise awareness alone", {"action": "warn", "measurable": "fail"},
    text="NHS England should raise awareness of deterioration on adult general wards by 31 March 2026. "
         "Our investigation found that missed escalation contributed to three deaths. "
         "This is so that patients whose condition worsens are seen by a doctor within one hour.")
var("review alone", {"action": "warn", "measurable": "fail"},
    text="NHS England should review escalation on adult general wards by 31 March 2026. "
         "Our investigation found that missed escalation contributed to three deaths. "
         "This is so that patients whose condition worsens are seen by a doctor within one hour.")
var("several unrelated actions", {"specific": "warn", "plain_language": "warn"},
    text="NHS England should act on adult general wards by 31 March 2026:\n"
         "(a) require the NEWS2 escalation checklist;\n(b) fund more night nurses;\n"
         "(c) replace the paper observation charts;\n(d) publish a quarterly audit of compliance.\n"
         "Our investigation found that missed escalation contributed to three deaths, "
         "so that patients whose condition worsens are seen within one hour.")
var("two linked actions",
    text=T.replace("Each trust will publish", "Each trust should publish"))
var("no scope", {"specific": "warn", "plain_language": "warn"}, drop=["settings"],
    text="NHS England should require the NEWS2 escalation checklist by 31 March 2026. "
         "Each trust will publish a quarterly audit of compliance. "
         "Our investigation found that missed escalation contributed to three deaths. "
         "This is so that deteriorating patients are seen by a doctor within one hour.")
var("no deadline", {"time_bound": "fail"}, drop=["response_deadline"], text=T.replace(" by 31 March 2026", ""))
var("as soon as possible", {"time_bound": "warn"}, drop=["response_deadline"],
    text=T.replace("by 31 March 2026", "as soon as possible"))
var("past deadline", {"time_bound": "warn"}, response_deadline="2020-01-31", text=T.replace(" by 31 March 2026", ""))
var("deadline in the text only", drop=["response_deadline"])
var("within six months in the text", drop=["response_deadline"],
    text=T.replace("by 31 March 2026", "within six months of this report"))
var("review date field", drop=["response_deadline"], review_date="2026-09-30", text=T.replace(" by 31 March 2026", ""))
var("addressee due date", drop=["response_deadline"], addressees=[{"name": "NHS England", "due": "2026-01-31"}],
    text=T.replace(" by 31 March 2026", ""))
var("no evidence", {"evidence": "fail"}, drop=["evidence"],
    text=T.replace("Our investigation found that missed escalation contributed to three deaths. ", "Escalation is often missed and the risk is high. "))
var("evidence type without citation", {"evidence": "warn"}, evidence={"kind": "audit"},
    text=T.replace("Our investigation found that missed escalation contributed to three deaths. ", "Escalation is often missed and the risk is high. "))
var("evidence cited in text only", drop=["evidence"])
var("no patient impact", {"patient_impact": "fail"}, drop=["patient_impact"],
    text=T.replace(" This is so that patients whose condition worsens are seen by a doctor within one hour.", ""))
var("patients mentioned, impact unstated", {"patient_impact": "fail"}, drop=["patient_impact"],
    text=T.replace("This is so that patients whose condition worsens are seen by a doctor within one hour.", "The checklist applies to all patients on those wards."))
var("patient impact in text only", drop=["patient_impact"])
var("not costed", {"cost": "fail"}, drop=["cost"])
var("cost not estimated, with reason", cost={"not_estimated": "Depends on each trust's existing electronic observation system."})
var("cost in the text", drop=["cost"], text=T + " This can be done within existing resources.")
var("funding mentioned without estimate", {"cost": "warn"}, drop=["cost"], text=T + " Trusts will need funding for this.")
var("no equality consideration", {"equality": "fail"}, drop=["equality"])
var("group named in text only", {"equality": "warn"}, drop=["equality"],
    text=T.replace("adult general wards", "adult general wards, including for people with dementia,"))
var("inequalities considered in text", drop=["equality"], text=T + " It should narrow inequalities in access to urgent review.")
var("no links, no citation", {"cross_reference": "warn"}, drop=["links"])
var("cites a recommendation id in the text", drop=["links"], text=T + " It builds on HSSIB-2023-0004.")
var("similar existing recommendation not linked", {"cross_reference": "warn"}, drop=["links"],
    similar=[{"id": "NHSE-2022-0031", "score": 0.91, "relation": "duplicate"}])
var("similar existing recommendation linked", links=["NHSE-2022-0031"],
    similar=[{"id": "NHSE-2022-0031", "score": 0.91, "relation": "duplicate"}])
var("similarity engine found nothing", drop=["links"], similar=[])
var("unexplained abbreviations", {"plain_language": "fail"},
    text=T.replace("National Early Warning Score 2 (NEWS2)", "NEWS2") + " Escalation to the CCOT and SDEC should follow local SOPs.")
var("very long sentence", {"plain_language": "warn", "specific": "pass"},
    text=("NHS England should require every acute trust, working with its integrated care board and with the "
          "regional patient safety teams and the professional bodies whose members staff adult general wards, "
          "to use the National Early Warning Score 2 (NEWS2) escalation checklist on adult general wards by "
          "31 March 2026 and to publish a quarterly audit of compliance, because our investigation found that "
          "missed escalation contributed to three deaths, so that patients whose condition worsens are seen "
          "by a doctor within one hour."))
var("no measure, deliverable only", {"measurable": "warn"},
    text="NHS England should publish national guidance on escalation for adult general wards by 31 March 2026. "
         "Our investigation found that missed escalation contributed to three deaths. "
         "This is so that patients whose condition worsens are seen by a doctor within one hour.")
var("measure field", measure="Share of deteriorating patients seen within one hour, from quarterly audit.",
    text=T.replace("Each trust will publish a quarterly audit of compliance. ", ""))
var("law change asked of NHS England", {"achievable": "warn"},
    text=T + " NHS England should also seek primary legislation to make the checklist statutory.")
var("law change asked of DHSC", addressees=[{"name": "Department of Health and Social Care"}],
    text=T.replace("NHS England should require every acute trust to use", "The Department of Health and Social Care should bring forward legislation requiring every acute trust to use"))
var("absolute target", {"achievable": "warn"},
    text=T.replace("This is so that patients", "This will eliminate missed escalation, so that patients"))

# Whole drafts, not variants.
add("the brief's bad example", {"text": "All relevant organisations should consider raising awareness of sepsis."},
    {"addressee": "warn", "action": "fail", "specific": "warn", "measurable": "fail", "achievable": "warn",
     "relevant": "fail", "time_bound": "fail", "evidence": "fail", "patient_impact": "fail", "cost": "fail",
     "equality": "fail", "cross_reference": "warn"})
add("a coroner's concern, no action", {"text":
    "During the inquest I heard evidence that the ward did not have enough nurses at night. "
    "The patient was not observed for six hours. There is a risk that future deaths will occur."},
    {"addressee": "fail", "action": "fail", "specific": "warn", "measurable": "fail", "achievable": "warn",
     "time_bound": "fail", "patient_impact": "fail", "cost": "fail", "equality": "fail",
     "cross_reference": "warn"})
add("maternity, well made", {
    "issuer": "MNSI", "title": "Interpreters in maternity triage",
    "text": ("Every trust with a maternity unit should provide a professional interpreter, in person or by video, "
             "at each triage assessment of a woman whose first language is not English. "
             "Trusts should report the share of such assessments with an interpreter each quarter from April 2026. "
             "Our investigations found that language barriers delayed the recognition of sepsis in four cases, "
             "so that women who do not speak English are assessed as safely as others."),
    "addressees": [{"name": "Care Quality Commission"}], "settings": ["maternity"], "response_deadline": "2026-04-30",
    "evidence": {"kind": "investigation", "references": ["MNSI thematic review 2024"]},
    "cost": {"recurring": 1200000}, "equality": {"groups": ["women whose first language is not English"], "direction": "reduces"},
    "links": ["HSSIB-2023-0011"]})
add("mental health, well made", {
    "issuer": "CQC", "title": "Ligature risk assessments",
    "text": ("NHS England should issue a national standard for ligature risk assessment on mental health inpatient wards by 30 September 2026. "
             "Trusts will audit wards against it each year. The inspection found anchor points in 14 wards after two deaths, "
             "so that patients at risk of suicide are kept safe."),
    "addressees": ["NHS England"], "settings": ["mental health"], "equality": {"groups": ["people with severe mental illness"], "direction": "reduces"},
    "cost": {"not_estimated": "Depends on the estate survey."}, "evidence": {"kind": "inspection", "references": ["CQC inspection reports 2024"]},
    "links": ["PFD-2023-0412"]})
add("medicines, missing cost and equality", {
    "issuer": "MHRA", "title": "Valproate pregnancy prevention",
    "text": ("NHS England should require every GP practice to record an annual review of each woman prescribed valproate by 31 December 2025. "
             "The audit showed that one in five reviews were missed, so that fewer babies are exposed to valproate."),
    "addressees": ["NHS England"], "settings": ["primary care"], "links": ["MHRA-2018-0001"]},
    {"cost": "fail", "equality": "warn"})
add("ambulance, vague deadline and weak verb", {
    "issuer": "HSSIB", "title": "Handover delays",
    "text": ("NHS England should review ambulance handover delays at emergency departments urgently. "
             "Our investigation found that patients waited over four hours in ambulances."),
    "addressees": ["NHS England"]},
    {"action": "warn", "measurable": "fail", "time_bound": "warn", "patient_impact": "fail", "cost": "fail",
     "equality": "fail", "cross_reference": "warn"})
add("prison healthcare, no addressee, no deadline", {
    "text": ("Healthcare staff in prisons should introduce a checklist for alcohol withdrawal on reception. "
             "The inquest heard that withdrawal was not recognised, so that prisoners in withdrawal are treated the same day.")},
    {"addressee": "warn", "achievable": "warn", "measurable": "warn", "time_bound": "fail", "cost": "fail", "equality": "warn",
     "cross_reference": "warn"})
add("jargon-heavy", {
    "issuer": "HSSIB",
    "text": ("NHSE should mandate ICBs to ensure PCNs implement SNOMED-coded LTC registers by 31 March 2026, "
             "with QOF-linked audit, because the HSSIB review found VTE and AKI harms, so that patients are safer."),
    "addressees": ["NHS England"], "settings": ["primary care"], "cost": {"one_off": 1}, "equality": {"groups": ["all"]}, "links": ["HSSIB-2022-0001"]},
    {"plain_language": "fail"})

json.dump(items, open("quality_eval.json", "w"), indent=1, ensure_ascii=False)
print(len(items), "drafts")
