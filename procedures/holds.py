"""Medication holds, the labs they need, and medications nobody has classified yet.

Part of the safety check (procedures/safety.py registers `medication_findings` and
`platelet_findings` as rules). A medication's hold rules are found by its resolved
generic(s) (patients/vocabulary.py), so a brand name holds exactly like its generic and a
combination product holds for each component. Where the rule depends on why the drug is
taken (aspirin: primary or secondary prevention; enoxaparin: prophylactic or therapeutic
dose) the recorded indication picks it, and an unknown indication takes the stricter rule
and says so. Every number is a SafetyThreshold or an AnticoagulantRule a manager edits.

Dates: a hold of N days means N whole days without the drug before the procedure day.
The last dose is the day before the first day without it; restart follows the guideline's
restart column (anticoagulants.csv), counted from the procedure.
"""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.utils import translation

from patients.models import (
    BLEEDING_RISK_CLASSES,
    Classification,
    Indication,
    LabKind,
    LabResult,
    Medication,
)
from patients.vocabulary import name_key

from .hold_words import hold_details, patient_hold_text
from .models import AnticoagulantRule, HoldDecision
from .safety import BLOCK, INFO, WARN, Context, Finding
from .until import Until, no_expiry, until_condition, until_date

INDICATION_WORDS: dict[str, str] = {
    Indication.PRIMARY_PREVENTION: "primary prevention",
    Indication.SECONDARY_PREVENTION: "secondary prevention",
    Indication.PROPHYLACTIC_DOSE: "prophylactic dose",
    Indication.THERAPEUTIC_DOSE: "therapeutic dose",
}
INR_RISKS = frozenset({"intermediate", "high"})
# anticoagulants.csv: "dabigatran, 4-5 days (5-6 days with renal impairment)" for high risk.
RENAL_DRUG = "dabigatran"
RENAL_RISKS = frozenset({"high"})
LAB_NAMES: dict[str, str] = {
    LabKind.INR: "INR",
    LabKind.PLATELETS: "platelet count",
    LabKind.CRCL: "creatinine clearance (CrCl)",
    LabKind.EGFR: "eGFR",
}


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _iso(day: date) -> str:
    return f"{day:%Y-%m-%d}"


def _in_english(details: dict) -> str:
    """The patient's sentence as it is kept with the finding; pages and messages put it
    together again in the reader's language (procedures/hold_words.py)."""
    with translation.override("en"):
        return patient_hold_text(details) or ""


def procedure_of(risk: str) -> str:
    article = "an" if risk == "intermediate" else "a"
    return f"{article} {risk}-risk procedure"


def _describe(decision: str, hours: int | None) -> str:
    if decision == HoldDecision.NO_HOLD:
        return "no hold"
    amount = (
        "" if hours is None else (f"{hours // 24} days" if hours % 24 == 0 else f"{hours} hours")
    )
    if decision == HoldDecision.SHARED:
        return "a shared decision with the prescriber" + (f" (if held, {amount})" if amount else "")
    return f"hold {amount}"


# --- Labs -----------------------------------------------------------------------------------------


def _a(name: str) -> str:
    return f"{'an' if name[:1].lower() in 'aeio' else 'a'} {name}"


def _lab_missing(ctx: Context, kind: str, since: date, why: str) -> Finding:
    name = LAB_NAMES[kind]
    return Finding(
        f"lab_missing:{kind}",
        WARN,
        f"No {name} is on record for {why}: one taken between {_iso(since)} and "
        f"{_iso(ctx.planned_date)} is needed by {_iso(ctx.planned_date)}.",
        "Safety thresholds (clinic defaults to confirm); ASRA 2018 (N18)",
        {"lab": kind, "needed_from": _iso(since), "needed_by": _iso(ctx.planned_date)},
        until=until_condition(f"{_a(name)} taken on or after {_iso(since)} is on the chart"),
        action=f"Order {_a(name)} taken between {_iso(since)} and {_iso(ctx.planned_date)} "
        "and record its result on the chart.",
    )


def _window_start(ctx: Context, max_age_key: str) -> date:
    return ctx.planned_date - timedelta(days=int(ctx.threshold(max_age_key)))


@dataclass
class InrCheck:
    need: str  # "a normal INR (at most 1.2) taken on or after ..."
    normal: bool
    findings: list[Finding] = field(default_factory=list)

    @property
    def requirement(self) -> str:
        return f" and {self.need}"


def _inr(ctx: Context, medication: Medication, risk: str) -> InrCheck:
    limit = ctx.threshold("inr_normal_max")
    since = _window_start(ctx, "inr_max_age_days")
    requirement = f"a normal INR (at most {_num(limit)}) taken on or after {_iso(since)}"
    lab = ctx.latest_lab(LabKind.INR, max_age_key="inr_max_age_days")
    if lab is None:
        why = f"{medication.name} before {procedure_of(risk)}"
        return InrCheck(requirement, False, [_lab_missing(ctx, LabKind.INR, since, why)])
    if lab.value > limit:
        finding = Finding(
            "inr_abnormal",
            BLOCK,
            f"INR {_num(lab.value)} on {_iso(lab.taken_on)} is above {_num(limit)}: "
            f"{medication.name} needs a normal INR before {procedure_of(risk)}.",
            "ASRA 2018 (N18); INR limit is a clinic default to confirm",
            {"inr": str(lab.value), "taken_on": _iso(lab.taken_on)},
            until=until_condition(f"the INR is {_num(limit)} or lower"),
            action=f"Repeat the INR before the procedure; if it stays above {_num(limit)}, "
            f"agree the {medication.name} hold with the prescriber or move the procedure.",
        )
        return InrCheck(requirement, False, [finding])
    return InrCheck(
        f"{requirement} (INR {_num(lab.value)} on {_iso(lab.taken_on)} is normal)", True
    )


def _renal_lab(ctx: Context) -> LabResult | None:
    return ctx.latest_lab(LabKind.CRCL, max_age_key="renal_lab_max_age_days") or ctx.latest_lab(
        LabKind.EGFR, max_age_key="renal_lab_max_age_days"
    )


def _renal(
    ctx: Context, rule: AnticoagulantRule, risk: str, hours: int | None
) -> tuple[int | None, str, list[Finding]]:
    """Dabigatran's longer hold with renal impairment: (hours, sentence, findings)."""
    if RENAL_DRUG not in rule.match_names or risk not in RENAL_RISKS or hours is None:
        return hours, "", []
    renal_hours = max(hours, int(ctx.threshold("dabigatran_renal_hold_days")) * 24)
    cutoff = ctx.threshold("dabigatran_renal_crcl")
    lab = _renal_lab(ctx)
    if lab is None:
        since = _window_start(ctx, "renal_lab_max_age_days")
        missing = _lab_missing(ctx, LabKind.CRCL, since, f"dabigatran before {procedure_of(risk)}")
        return (
            renal_hours,
            " No creatinine clearance is on record, so the longer hold for renal impairment "
            "is applied.",
            [missing],
        )
    measured = f"{LAB_NAMES[lab.kind]} {_num(lab.value)} {lab.unit} on {_iso(lab.taken_on)}"
    if lab.value < cutoff:
        return renal_hours, f" Renal impairment ({measured}, below {_num(cutoff)}).", []
    return hours, f" Kidney function: {measured}.", []


# --- Indication -------------------------------------------------------------------------------


def _for_indication(
    rules: list[AnticoagulantRule], indication: str
) -> tuple[list[AnticoagulantRule], bool]:
    """The rules for the recorded indication; (all of them, True) when it is unknown."""
    if len(rules) < 2:
        return rules, False
    words = INDICATION_WORDS.get(indication)
    chosen = [r for r in rules if words and words in r.drug]
    return (chosen, False) if chosen else (rules, True)


def _strictness(risk: str):
    def key(rule: AnticoagulantRule) -> tuple[bool, int]:
        decision, hours = rule.hold_for(risk)
        return decision == HoldDecision.HOLD, hours or 0

    return key


def _indication_note(rules: list[AnticoagulantRule], rule: AnticoagulantRule, risk: str) -> str:
    others = [r for r in rules if r is not rule and r.hold_for(risk) != rule.hold_for(risk)]
    if not others:
        return ""
    alternatives = "; ".join(f"if it is {r.drug}, {_describe(*r.hold_for(risk))}" for r in others)
    return (
        f" The indication is not recorded, so the stricter rule ({rule.drug}) is applied; "
        f"{alternatives}. Record the indication on the chart."
    )


# --- Hold findings ----------------------------------------------------------------------------


@dataclass
class Plan:
    """One medication's hold for this procedure, as the rule and the labs decide it."""

    medication: Medication
    rule: AnticoagulantRule
    risk: str
    decision: str
    hours: int | None
    notes: str
    source: str
    inr: InrCheck | None


def _restart(rule: AnticoagulantRule, planned: date) -> tuple[str, date | None]:
    """(clinician sentence, restart date where the column gives whole days' hours)."""
    text = rule.restart_after.strip()
    if not text:
        return "", None
    exact = re.fullmatch(r"(\d+)\s*hours?", text)
    if exact and int(exact.group(1)) >= 24:
        on = planned + timedelta(days=-(-int(exact.group(1)) // 24))
        return (
            f" Restart: {text} after the procedure (from {_iso(on)}) if there is no bleeding concern.",
            on,
        )
    return f" Restart: {text} after the procedure if there is no bleeding concern.", None


def _hold_until(ctx: Context, plan: Plan, held: str, restart_on: date | None) -> Until:
    """A hold stands until the drug is restarted after the procedure."""
    if restart_on is not None:
        return until_date(restart_on, f"restart then if there is no bleeding concern; {held}")
    restart = plan.rule.restart_after.strip()
    if restart:
        return until_condition(
            f"the restart, {restart} after the procedure on {_iso(ctx.planned_date)}; {held}"
        )
    return until_date(ctx.planned_date, f"the procedure; {held}")


def _keep_stopped(plan: Plan) -> str:
    restart = plan.rule.restart_after.strip()
    then = (
        f"restart it {restart} after if there is no bleeding concern"
        if restart
        else "ask the prescriber when to restart it"
    )
    return f"Keep it stopped until the procedure; {then}."


def _days_hold(ctx: Context, plan: Plan) -> Finding:
    hours = plan.hours or 0
    name, risk = plan.medication.name, plan.risk
    whole_days = -(-hours // 24)  # a part of a day counts as a whole one (stricter)
    days = _num(Decimal(hours) / 24)
    first = ctx.planned_date - timedelta(days=whole_days)
    last = first - timedelta(days=1)
    restart, restart_on = _restart(plan.rule, ctx.planned_date)
    inr = plan.inr.requirement if plan.inr else ""
    details = {
        "hold_start": _iso(first),
        "hold_hours": hours,
        "last_dose": _iso(last),
        "first_day_without": _iso(first),
        "restart_after": plan.rule.restart_after,
        "restart_on": _iso(restart_on) if restart_on else None,
    }
    timing = (
        f"last dose on {_iso(last)}, first day without it {_iso(first)} ({days} days before "
        f"{procedure_of(risk)} on {_iso(ctx.planned_date)})"
    )
    held = f"no {name} from {_iso(first)} (the procedure day less {whole_days} days)"
    stopped = plan.medication.end_date
    if stopped is not None and stopped <= first:
        waiting = plan.inr is not None and not plan.inr.normal
        return Finding(
            f"hold:{plan.rule.drug}",
            WARN if waiting else INFO,
            f"{name} was stopped on {_iso(stopped)}, in time for {procedure_of(risk)} on "
            f"{_iso(ctx.planned_date)} (hold {days} days{' and a normal INR' if plan.inr else ''})"
            f"{'; it still needs ' + plan.inr.need if waiting and plan.inr else inr}."
            f"{plan.notes}{restart}",
            plan.source,
            # Already stopped: no hold left to start, so no "start pausing" message.
            {k: v for k, v in details.items() if k != "hold_start"},
            until=_hold_until(ctx, plan, held, restart_on),
            action=f"Get {plan.inr.need} before the procedure."
            if waiting and plan.inr
            else _keep_stopped(plan),
        )
    if stopped is not None:
        return Finding(
            f"hold:{plan.rule.drug}",
            BLOCK,
            f"{name} stops on {_iso(stopped)}, but must stop in time: {timing}{inr}.{plan.notes}{restart}",
            plan.source,
            details,
            until=until_condition(f"the chart shows {name} stopped by {_iso(first)}"),
            action=f"Ask the prescriber to stop it from {_iso(first)} (last dose {_iso(last)}) "
            "and correct its end date on the chart, or move the procedure.",
        )
    if first < ctx.today:
        earliest = ctx.today + timedelta(days=whole_days)
        return Finding(
            f"hold:{plan.rule.drug}",
            BLOCK,
            f"{name} must be stopped {days} days before {procedure_of(risk)}{inr}; that was "
            f"due by {_iso(first)}, too late for {_iso(ctx.planned_date)}. If it is not taken "
            f"from today, the earliest safe date is {_iso(earliest)}.{plan.notes}{restart}",
            plan.source,
            details | {"earliest_safe_date": _iso(earliest)},
            until=until_date(
                earliest, "the earliest safe date if it is not taken from today", eligible=True
            ),
            action=f"With the prescriber's agreement, stop {name} from today and move the "
            f"procedure to {_iso(earliest)} or later.",
        )
    needs_test = plan.inr is not None and not plan.inr.normal
    details |= hold_details(
        medication=name,
        procedure_on=ctx.planned_date,
        inr_test_from=_window_start(ctx, "inr_max_age_days") if needs_test else None,
    )
    details["patient_text"] = _in_english(details)
    test = f" Get {plan.inr.need} before the procedure." if needs_test and plan.inr else ""
    return Finding(
        f"hold:{plan.rule.drug}",
        WARN,
        f"{name}: {timing}{inr}.{plan.notes}{restart}",
        plan.source,
        details,
        until=_hold_until(ctx, plan, held, restart_on),
        action=f"Confirm the hold with the prescriber and tell the patient: last dose on "
        f"{_iso(last)}, none from {_iso(first)}.{test}",
    )


def _hours_hold(ctx: Context, plan: Plan) -> Finding:
    restart, _ = _restart(plan.rule, ctx.planned_date)
    inr = plan.inr.requirement if plan.inr else ""
    name = plan.medication.name
    details = {
        "hold_hours": plan.hours,
        "restart_after": plan.rule.restart_after,
        **hold_details(medication=name, procedure_on=ctx.planned_date, inr_test_from=None),
    }
    details["patient_text"] = _in_english(details)
    held = f"the last dose at least {plan.hours} hours before the procedure"
    return Finding(
        f"hold:{plan.rule.drug}",
        WARN,
        f"{name}: take the last dose at least {plan.hours} hours before {procedure_of(plan.risk)} "
        f"on {_iso(ctx.planned_date)}{inr}.{plan.notes}{restart}",
        plan.source,
        details,
        until=_hold_until(ctx, plan, held, None),
        action=f"Confirm the timing with the prescriber and tell the patient: the last dose at "
        f"least {plan.hours} hours before the procedure.",
    )


def _plan_finding(ctx: Context, plan: Plan) -> Finding:
    name, risk, rule = plan.medication.name, plan.risk, plan.rule
    if plan.decision == HoldDecision.NO_HOLD:
        return Finding(
            f"hold:{rule.drug}",
            INFO,
            f"{name}: no hold needed for {procedure_of(risk)}.{plan.notes}",
            plan.source,
            until=no_expiry(),
            action="Continue it as prescribed.",
        )
    if plan.decision == HoldDecision.SHARED or plan.hours is None:
        restart, _ = _restart(rule, ctx.planned_date)
        held = ""
        if plan.hours and plan.hours >= 24:
            first = ctx.planned_date - timedelta(days=-(-plan.hours // 24))
            held = f" If it is held: last dose on {_iso(first - timedelta(days=1))}, first day without it {_iso(first)}."
        return Finding(
            f"hold:{rule.drug}",
            WARN,
            f"{name}: holding it before {procedure_of(risk)} is a shared decision with the "
            f"prescriber ({rule.note}).{held}{plan.notes}{restart}",
            plan.source,
            until=until_condition("the prescriber and the patient have decided whether to hold it"),
            action="Agree with the prescriber whether to hold it and write the decision in the "
            "order's notes.",
        )
    if plan.hours < 24:
        return _hours_hold(ctx, plan)
    return _days_hold(ctx, plan)


def _hold_findings(
    ctx: Context, medication: Medication, rules: list[AnticoagulantRule]
) -> list[Finding]:
    risk = ctx.procedure_type.bleeding_risk
    candidates, unknown = _for_indication(rules, medication.indication)
    rule = max(candidates, key=_strictness(risk))
    decision, hours = rule.hold_for(risk)
    hours, renal_note, found = _renal(ctx, rule, risk, hours)
    inr = None
    if rule.requires_normal_inr and risk in INR_RISKS and decision == HoldDecision.HOLD:
        inr = _inr(ctx, medication, risk)
        found += inr.findings
    notes = renal_note + (_indication_note(candidates, rule, risk) if unknown else "")
    plan = Plan(
        medication=medication,
        rule=rule,
        risk=risk,
        decision=decision,
        hours=hours,
        notes=notes,
        source=f"{rule.source} ({'confirmed' if rule.certain else 'unconfirmed value'})",
        inr=inr,
    )
    return [_plan_finding(ctx, plan), *found]


def _rule_groups(ctx: Context, medication: Medication) -> list[list[AnticoagulantRule]]:
    """The hold rules of each generic the medication resolves to (a combination product has
    one group per component); a name never resolved is matched by the words in it."""
    groups: list[list[AnticoagulantRule]] = []
    if medication.generics:
        for generic in medication.generics:
            rules = [r for r in ctx.hold_rules if generic.lower() in r.match_names]
            if rules and rules not in groups:
                groups.append(rules)
        return groups
    name = medication.name.lower()
    rules = [r for r in ctx.hold_rules if any(n in name for n in r.match_names)]
    return [rules] if rules else []


def _unclassified(medication: Medication) -> Finding:
    return Finding(
        f"unclassified:{name_key(medication.name)}",
        WARN,
        f"{medication.name} is not in the drug vocabulary and no clinician has classified it: "
        "classify it on the chart (it may affect bleeding or sedation).",
        "Drug vocabulary (vocabulary/drug_names.csv)",
        until=until_condition("a clinician classifies it on the chart"),
        action="Classify it on the chart: its drug class, which says whether it affects "
        "bleeding or sedation.",
    )


def _no_rule(medication: Medication) -> list[Finding]:
    classes = set(medication.drug_classes) | {medication.drug_class}
    if not classes & BLEEDING_RISK_CLASSES:
        return []
    return [
        Finding(
            f"hold_unknown:{medication.name.lower()}",
            WARN,
            f"{medication.name} affects bleeding and has no hold rule here; "
            "check the hold with the prescriber (ASRA 2018 gives its own).",
            "ASRA 2018 (N18)",
            until=until_condition("the hold is agreed with the prescriber"),
            action="Agree the hold with the prescriber and write it in the order's notes.",
        )
    ]


def medication_findings(ctx: Context) -> list[Finding]:
    found: list[Finding] = []
    for medication in ctx.medications:
        if medication.classification == Classification.UNRECOGNISED:
            found.append(_unclassified(medication))
        groups = _rule_groups(ctx, medication)
        if not groups:
            found += _no_rule(medication)
        for rules in groups:
            found += _hold_findings(ctx, medication, rules)
    unique: dict[str, Finding] = {}
    for finding in found:
        unique.setdefault(finding.code, finding)
    return list(unique.values())


def platelet_findings(ctx: Context) -> list[Finding]:
    if ctx.procedure_type.bleeding_risk != "high":
        return []
    since = _window_start(ctx, "platelet_max_age_days")
    lab = ctx.latest_lab(LabKind.PLATELETS, max_age_key="platelet_max_age_days")
    if lab is None:
        return [_lab_missing(ctx, LabKind.PLATELETS, since, "a high-risk procedure")]
    minimum = ctx.threshold("platelet_min_high_risk")
    if lab.value >= minimum:
        return []
    return [
        Finding(
            "platelets_low",
            BLOCK,
            f"Platelet count {_num(lab.value)} {lab.unit} on {_iso(lab.taken_on)} is below "
            f"{_num(minimum)} for a high-risk procedure.",
            "Safety threshold platelet_min_high_risk (clinic default to confirm); ASRA 2018 (N18)",
            {"platelets": str(lab.value), "taken_on": _iso(lab.taken_on)},
            until=until_condition(
                f"a platelet count of {_num(minimum)} {lab.unit} or more is on the chart"
            ),
            action="Repeat the platelet count before the procedure; if it stays low, plan with "
            "hematology.",
        )
    ]
