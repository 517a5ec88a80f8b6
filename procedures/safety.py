"""The pre-procedure safety check: one function, many small rules, every number from data.

`safety_check` takes a patient, a procedure type with side and levels, and a planned date,
and returns findings: a severity (block, warn, info), a plain-language reason and the
rule's source. It supports, and does not replace, clinical judgement; a clinician may
override a block with a recorded reason (services.order_override).
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from patients.instruments import Instrument, percent_relief
from patients.models import (
    Allergy,
    AllergySeverity,
    Assessment,
    ClinicalEntry,
    Condition,
    ConditionKind,
    DeviceKind,
    DrugClass,
    ImplantedDevice,
    LabResult,
    Medication,
    Patient,
    ProcedureAllergyClass,
)

from .catalog import safety_rule_rows
from .models import (
    AnticoagulantRule,
    AuthStatus,
    ProcedureOrder,
    ProcedureOutcome,
    ProcedureRecord,
    ProcedureType,
    SafetyRule,
    SafetyThreshold,
    Sedation,
    Steroid,
    Usage,
)
from .payer_rules import NOT_APPLIED, RuleSet, rule_set_for
from .sources import readable_source
from .until import Until, no_expiry, until_condition, until_date, until_of_rule

BLOCK, WARN, INFO = "block", "warn", "info"
SEVERITY_ORDER = {BLOCK: 0, WARN: 1, INFO: 2}
DISCLAIMER = "These findings support, and do not replace, clinical judgment."
SPINAL_REGIONS = {"cervical_thoracic", "lumbar_sacral"}
HISTORY_DAYS = 3 * 365  # enough for the longest look-back (blocks expire after 2 years)


def _num(value: Decimal) -> str:
    """A threshold as people write it: 10, 80, 1.5 (never 1E+1)."""
    return format(value.normalize(), "f")


def local_day(record) -> date:
    """The day a procedure happened where it happened (not the UTC date)."""
    return record.performed_at.astimezone(record.location.zone).date()


@dataclass(frozen=True)
class Finding:
    """What was found and why (`reason`), on what authority (`source`), until when it stands
    (`until`, procedures/until.py) and what to do about it (`action`)."""

    code: str
    severity: str
    reason: str
    source: str
    details: dict = field(default_factory=dict)
    until: Until = field(kw_only=True)
    action: str = field(kw_only=True)

    def __post_init__(self) -> None:
        # Every rule names its source by the reference data's keys; a physician reads words.
        object.__setattr__(self, "source", readable_source(self.source))

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "reason": self.reason,
            "source": self.source,
            "details": dict(self.details),
            "until": self.until.as_dict(),
            "action": self.action,
        }


@dataclass
class Context:
    """Everything the rules read, loaded in a fixed number of queries."""

    patient: Patient
    procedure_type: ProcedureType
    planned_date: date
    today: date
    side: str
    levels: list[str]
    order: ProcedureOrder | None
    thresholds: dict[str, Decimal]
    medications: list[Medication]
    allergies: list[Allergy]
    conditions: set[str]
    devices: set[str]
    records: list[ProcedureRecord]
    hold_rules: list[AnticoagulantRule]
    steroids: dict[str, Steroid]
    labs: list[LabResult]
    rules: dict[str, SafetyRule] = field(default_factory=dict)
    rule_set: RuleSet = NOT_APPLIED  # the payer's rules (payer_rules.py)

    def threshold(self, key: str) -> Decimal:
        return self.thresholds[key]

    def rule(self, key: str) -> SafetyRule:
        """The chart-driven rule `key` as a manager left it (the shipped row if the caller
        did not load the rules)."""
        return self.rules.get(key) or DEFAULT_RULES[key]

    def latest_ort(self) -> Assessment | None:
        """The newest Opioid Risk Tool on or before the planned day (read only when a rule
        needs it)."""
        return (
            Assessment.objects.filter(
                patient=self.patient,
                instrument=Instrument.ORT,
                taken_at__date__lte=self.planned_date + timedelta(days=1),
            )
            .order_by("-taken_at")
            .first()
        )

    def latest_lab(self, kind: str, *, max_age_key: str) -> LabResult | None:
        """The newest lab of `kind` taken in the window the threshold `max_age_key` gives
        (days before the planned date, the planned date included)."""
        since = self.planned_date - timedelta(days=int(self.threshold(max_age_key)))
        taken = [
            lab
            for lab in self.labs
            if lab.kind == kind and since <= lab.taken_on <= self.planned_date
        ]
        return max(taken, key=lambda lab: (lab.taken_on, lab.recorded_at), default=None)

    def window_start(self) -> date:
        return self.planned_date - timedelta(days=int(self.threshold("frequency_window_days")))

    def records_of(self, *, family: str, same_region: bool = True, since: date | None = None):
        region = self.procedure_type.region
        return [
            r
            for r in self.records
            if r.procedure_type.family == family
            and (not same_region or r.procedure_type.region == region)
            and (since is None or local_day(r) >= since)
        ]


@dataclass(frozen=True)
class ChartRows:
    """A patient's chart lists as loaded, every entry whatever its dates."""

    medications: list[Medication]
    allergies: list[Allergy]
    conditions: list[Condition]
    devices: list[ImplantedDevice]
    labs: list[LabResult]


# The chart-driven rules as shipped (catalog.SAFETY_RULES); the rows a manager edits win.
DEFAULT_RULES: dict[str, SafetyRule] = {row["key"]: SafetyRule(**row) for row in safety_rule_rows()}


def rule_finding(
    ctx: Context,
    key: str,
    code: str,
    *,
    before: str = "",
    after: str = "",
    details: dict | None = None,
) -> Finding:
    """A finding whose severity, advice, until, action and source are the editable rule
    `key`."""
    rule = ctx.rule(key)
    source = rule.source if rule.certain else f"{rule.source} (unconfirmed)"
    return Finding(
        code,
        rule.severity,
        f"{before}{rule.advice}{after}",
        source,
        details or {},
        until=until_of_rule(rule.until),
        action=rule.action,
    )


# Medications that ended shortly before the planned day still matter: a drug stopped
# inside its hold window was stopped too late. Longer than any hold in anticoagulants.csv;
# the threshold "medication_recent_days" (editable) replaces this default.
RECENTLY_STOPPED_DAYS = 30


def in_effect(entry: ClinicalEntry, day: date) -> bool:
    """A chart entry in effect on `day`: started by then and not ended before it. The one
    meaning of "current" for allergies, medications, conditions and devices."""
    started = entry.start_date is None or entry.start_date <= day
    return started and (entry.end_date is None or entry.end_date > day)


def taken_recently(medication: ClinicalEntry, day: date, days: int = RECENTLY_STOPPED_DAYS) -> bool:
    """Taken on `day`, or stopped within the `days` before it."""
    started = medication.start_date is None or medication.start_date <= day
    recent = day - timedelta(days=days)
    return started and (medication.end_date is None or medication.end_date > recent)


def context_from_rows(
    *,
    patient: Patient,
    procedure_type: ProcedureType,
    planned_date: date,
    today: date,
    chart: ChartRows,
    records: Iterable[ProcedureRecord],
    thresholds: dict[str, Decimal],
    hold_rules: list[AnticoagulantRule],
    steroids: dict[str, Steroid],
    side: str = "",
    levels: Iterable[str] = (),
    order: ProcedureOrder | None = None,
    rules: dict[str, SafetyRule] | None = None,
    rule_set: RuleSet = NOT_APPLIED,
) -> Context:
    """The context the rules read, from rows already loaded (the check loads them itself;
    the physician's view passes the ones it shows). `records` newest first. `rule_set`: the
    patient's payer's rules over the Medicare LCD thresholds."""
    thresholds = rule_set.thresholds(thresholds)
    history_start = planned_date - timedelta(days=HISTORY_DAYS)
    recent = int(thresholds.get("medication_recent_days", RECENTLY_STOPPED_DAYS))
    return Context(
        patient=patient,
        procedure_type=procedure_type,
        planned_date=planned_date,
        today=today,
        side=side or "",
        levels=list(levels or []),
        order=order,
        thresholds=thresholds,
        medications=[m for m in chart.medications if taken_recently(m, planned_date, recent)],
        allergies=[a for a in chart.allergies if in_effect(a, planned_date)],
        conditions={c.kind for c in chart.conditions if in_effect(c, planned_date)},
        devices={d.kind for d in chart.devices if in_effect(d, planned_date)},
        records=[r for r in records if history_start <= local_day(r) <= planned_date],
        hold_rules=hold_rules,
        steroids=steroids,
        labs=list(chart.labs),
        rules=rules or {},
        rule_set=rule_set,
    )


def load_context(
    *,
    patient: Patient,
    procedure_type: ProcedureType,
    planned_date: date,
    side: str = "",
    levels: Iterable[str] = (),
    order: ProcedureOrder | None = None,
    today: date | None = None,
) -> Context:
    outcomes = Prefetch("outcomes", queryset=ProcedureOutcome.objects.order_by("measured_at"))
    history_start = planned_date - timedelta(days=HISTORY_DAYS)
    records = (
        ProcedureRecord.objects.filter(
            patient=patient,
            performed_at__date__gte=history_start - timedelta(days=1),
            performed_at__date__lte=planned_date + timedelta(days=1),
        )
        .select_related("procedure_type", "steroid", "location")
        .prefetch_related(outcomes)
        .order_by("-performed_at")
    )
    chart = ChartRows(
        medications=list(Medication.objects.filter(patient=patient)),
        allergies=list(Allergy.objects.filter(patient=patient)),
        conditions=list(Condition.objects.filter(patient=patient)),
        devices=list(ImplantedDevice.objects.filter(patient=patient)),
        labs=list(LabResult.objects.filter(patient=patient, taken_on__lte=planned_date)),
    )
    return context_from_rows(
        patient=patient,
        procedure_type=procedure_type,
        planned_date=planned_date,
        today=today or timezone.localdate(),
        chart=chart,
        records=list(records),
        thresholds={t.key: t.value for t in SafetyThreshold.objects.all()},
        hold_rules=list(AnticoagulantRule.objects.all()),
        steroids={s.name: s for s in Steroid.objects.all()},
        side=side,
        levels=levels,
        order=order,
        rules={r.key: r for r in SafetyRule.objects.all()},
        rule_set=rule_set_for(patient),
    )


# --- Rules: each takes the context and returns findings -----------------------------------------


# Where a levels-per-session limit comes from, by family (the value is the catalog's
# max_levels, editable per procedure type).
LEVEL_SOURCES = {
    "esi": "LCD-ESI (L39240): levels per session",
    "mbb": "LCD-FACET (L38801): at most 2 levels per session, RFA included",
    "facet_injection": "LCD-FACET (L38801): at most 2 levels per session, RFA included",
    "rfa": "LCD-FACET (L38801): at most 2 levels per session, RFA included",
    "vertebral_augmentation": "procedures.csv: more than 3 levels is a relative contraindication",
}


def session_records(ctx: Context, family: str) -> list[ProcedureRecord]:
    """Records of `family` in the planned procedure's region on the planned day: the
    session the planned procedure joins (payers count one session per region and day)."""
    return [r for r in ctx.records_of(family=family) if local_day(r) == ctx.planned_date]


def levels_rule(ctx: Context) -> list[Finding]:
    kind = ctx.procedure_type
    found = []
    done_today = {level for r in session_records(ctx, kind.family) for level in r.levels}
    levels = set(ctx.levels) | done_today
    if kind.max_levels and len(levels) > kind.max_levels:
        # Payer coverage for injections; for vertebral augmentation more than three levels
        # is a relative contraindication (procedures.csv), so a warning.
        relative = kind.family == "vertebral_augmentation"
        also = f", {len(done_today)} of them already done today" if done_today else ""
        found.append(
            Finding(
                "too_many_levels",
                WARN if relative else BLOCK,
                f"{kind.name}: at most {kind.max_levels} level(s) in one session"
                f"{' is advised' if relative else ' are covered'}; {len(levels)} are planned "
                f"({', '.join(sorted(levels))}{also}). Both sides of a level count once.",
                LEVEL_SOURCES.get(kind.family, "procedures.csv"),
                {"levels": sorted(levels), "limit": kind.max_levels},
                until=until_condition(
                    f"this session has at most {kind.max_levels} level(s), today's included"
                ),
                action=f"Keep {kind.max_levels} level(s) in this session and treat the others "
                "in another session" + (", or record why more are needed." if relative else "."),
            )
        )
    if kind.side_applies and not ctx.side:
        found.append(
            Finding(
                "side_missing",
                WARN,
                "Say which side is to be treated.",
                "Catalog",
                until=until_condition("the order names the side"),
                action="Choose left, right or bilateral (a saved order without a side is "
                "cancelled and ordered again with it).",
            )
        )
    return found


def anticoagulant_rule(ctx: Context) -> list[Finding]:
    """Medication holds by generic and indication, with INR and kidney function, and the
    medications nobody has classified yet (procedures/holds.py)."""
    from .holds import medication_findings  # holds.py builds on this module's types

    return medication_findings(ctx)


def platelet_rule(ctx: Context) -> list[Finding]:
    """A recent platelet count at or above the threshold before a high-risk procedure."""
    from .holds import platelet_findings  # holds.py builds on this module's types

    return platelet_findings(ctx)


def contrast_allergy_rule(ctx: Context) -> list[Finding]:
    if ctx.procedure_type.contrast == Usage.NO:
        return []
    allergies = [
        a for a in ctx.allergies if a.procedure_class == ProcedureAllergyClass.IODINATED_CONTRAST
    ]
    if not allergies:
        return []
    severe = any(a.severity == AllergySeverity.ANAPHYLAXIS for a in allergies)
    planned = "uses" if ctx.procedure_type.contrast == Usage.YES else "may use"
    return [
        rule_finding(
            ctx,
            "contrast_allergy_severe" if severe else "contrast_allergy",
            "contrast_allergy",
            before=f"Iodinated contrast allergy and this procedure {planned} contrast: ",
        )
    ]


def _uses_xray(kind: ProcedureType) -> bool:
    imaging = kind.imaging.lower()
    return "fluoroscopy" in imaging or re.search(r"\bct\b", imaging) is not None


def pregnancy_rule(ctx: Context) -> list[Finding]:
    kind = ctx.procedure_type
    if ConditionKind.PREGNANCY not in ctx.conditions:
        return []
    if kind.family == "vertebral_augmentation":
        return [rule_finding(ctx, "pregnancy_augmentation", "pregnancy")]
    if not _uses_xray(kind):
        return []
    alternative = (
        " Or plan ultrasound guidance, an option for this procedure."
        if "ultrasound" in kind.imaging.lower()
        else ""
    )
    return [
        rule_finding(
            ctx,
            "pregnancy_fluoroscopy",
            "pregnancy",
            after=alternative,
            details={"imaging": kind.imaging},
        )
    ]


# Procedures whose current a pacemaker or ICD may sense (intake.md), by rule.
def _device_rule_key(kind: ProcedureType) -> str | None:
    if kind.family == "rfa" or kind.code.startswith("scs"):
        return "cardiac_device"
    if kind.code.startswith("pns"):
        return "cardiac_device_pns"
    return None


def cardiac_device_rule(ctx: Context) -> list[Finding]:
    key = _device_rule_key(ctx.procedure_type)
    if key is None:
        return []
    has_device = ConditionKind.PACEMAKER_ICD in ctx.conditions or ctx.devices & {
        DeviceKind.PACEMAKER,
        DeviceKind.ICD,
    }
    if not has_device:
        return []
    return [rule_finding(ctx, key, "cardiac_device")]


def infection_rule(ctx: Context) -> list[Finding]:
    if ConditionKind.ACTIVE_INFECTION not in ctx.conditions:
        return []
    # A missed refill can cause dangerous withdrawal (procedures.csv): not blocked by default.
    refill = ctx.procedure_type.code == "itp_refill"
    return [
        rule_finding(
            ctx, "active_infection_refill" if refill else "active_infection", "active_infection"
        )
    ]


# Allergy class -> when it applies to the procedure; severity and advice are the rule
# "allergy:<class>". Contrast has its own rule.
ALLERGY_RULES: dict[str, Callable[[ProcedureType], bool]] = {
    ProcedureAllergyClass.CORTICOSTEROID: lambda kind: kind.steroid != Usage.NO,
    ProcedureAllergyClass.LOCAL_ANAESTHETIC: lambda kind: True,
    ProcedureAllergyClass.BONE_CEMENT: lambda kind: kind.family == "vertebral_augmentation",
    ProcedureAllergyClass.CHLORHEXIDINE: lambda kind: True,
    ProcedureAllergyClass.LATEX: lambda kind: True,
}


def allergy_rule(ctx: Context) -> list[Finding]:
    found = []
    for allergy_class in sorted({a.procedure_class for a in ctx.allergies} & set(ALLERGY_RULES)):
        if ALLERGY_RULES[allergy_class](ctx.procedure_type):
            key = f"allergy:{allergy_class}"
            found.append(rule_finding(ctx, key, key))
    return found


def cancer_rule(ctx: Context) -> list[Finding]:
    if ConditionKind.CANCER_HISTORY not in ctx.conditions or ctx.procedure_type.family != "esi":
        return []
    return [rule_finding(ctx, "cancer_history", "cancer_history")]


def diabetes_rule(ctx: Context) -> list[Finding]:
    if ConditionKind.DIABETES not in ctx.conditions or ctx.procedure_type.steroid == Usage.NO:
        return []
    limit = ctx.threshold("diabetes_glucose_max")
    return [
        rule_finding(
            ctx,
            "diabetes_steroid",
            "diabetes_steroid",
            after=f" Defer the steroid if the glucose is above {_num(limit)} mg/dL "
            "(diabetes_glucose_max, a clinic default to confirm).",
            details={"glucose_max_mg_dl": str(limit)},
        )
    ]


def bleeding_disorder_rule(ctx: Context) -> list[Finding]:
    risk = ctx.procedure_type.bleeding_risk
    if ConditionKind.BLEEDING_DISORDER not in ctx.conditions or risk == "low":
        return []
    return [
        rule_finding(
            ctx,
            "bleeding_disorder",
            "bleeding_disorder",
            after=f" This is a {risk}-risk procedure.",
        )
    ]


def _is_opioid(medication: Medication) -> bool:
    return DrugClass.OPIOID in {*medication.drug_classes, medication.drug_class}


def opioid_sedation_rule(ctx: Context) -> list[Finding]:
    """Opioids with planned (or possible) sedation, with the Opioid Risk Tool if recorded."""
    sedation = ctx.procedure_type.sedation
    opioids = sorted({m.name for m in ctx.medications if _is_opioid(m)})
    if sedation == Sedation.NONE or not opioids:
        return []
    when = "If sedation is given: " if sedation == Sedation.OPTIONAL else "Sedation planned: "
    ort = ctx.latest_ort()
    details: dict = {"opioids": opioids}
    after = " No Opioid Risk Tool is on record."
    if ort is not None:
        band = f" ({ort.band})" if ort.band else ""
        after = (
            f" Opioid Risk Tool {_num(ort.total)}{band} on {ort.taken_at:%Y-%m-%d} "
            "(risk of opioid misuse: agree peri-procedural analgesia with the prescriber)."
        )
        details |= {"ort_total": str(ort.total), "ort_band": ort.band}
    return [
        rule_finding(
            ctx,
            "opioid_sedation",
            "opioid_sedation",
            before=f"{when}{', '.join(opioids)} (opioid). ",
            after=after,
            details=details,
        )
    ]


SESSION_LIMITS: dict[str, tuple[str, str, str]] = {
    # family -> (threshold key, what is counted, source)
    "esi": ("esi_max_sessions", "epidural steroid injection sessions", "LCD-ESI (L39240)"),
    "mbb": (
        "facet_max_diagnostic",
        "diagnostic medial branch block sessions",
        "LCD-FACET (L38801)",
    ),
    "facet_injection": (
        "facet_max_therapeutic",
        "therapeutic facet injection sessions",
        "LCD-FACET (L38801)",
    ),
    "tpi": ("tpi_max_sessions", "trigger point injection sessions", "LCD-TPI (L34211)"),
}
SESSION_NOTE = "Everything done in one region on one day is one session, levels and sides together."


def session_days(records: Iterable[ProcedureRecord]) -> list[date]:
    """The sessions of `records` as payers count them: their distinct local days (one
    region is the caller's filter), newest first."""
    return sorted({local_day(r) for r in records}, reverse=True)


def _limit_for(kind: ProcedureType) -> tuple[str, str, str] | None:
    if kind.family == "rfa" and kind.region in SPINAL_REGIONS:
        return ("rfa_max_sessions", "facet RFA sessions", "LCD-FACET (L38801)")
    if kind.family == "si":
        key = "si_max_diagnostic" if kind.purpose == "diagnostic" else "si_max_therapeutic"
        return (key, "sacroiliac sessions of this kind", "LCD-SI (L39462)")
    return SESSION_LIMITS.get(kind.family)


def _same_si_kind(record: ProcedureRecord, kind: ProcedureType) -> bool:
    return (record.procedure_type.purpose == "diagnostic") == (kind.purpose == "diagnostic")


def session_limit_rule(ctx: Context) -> list[Finding]:
    kind = ctx.procedure_type
    limit = _limit_for(kind)
    if limit is None:
        return []
    key, what, source = limit
    done = ctx.records_of(family=kind.family, since=ctx.window_start())
    if kind.family == "si":
        done = [r for r in done if _same_si_kind(r, kind)]
    # The planned procedure is a new session unless it joins one already done that day.
    earlier = [day for day in session_days(done) if day != ctx.planned_date]
    maximum = int(ctx.threshold(key))
    if len(earlier) < maximum:
        return []
    days = int(ctx.threshold("frequency_window_days"))
    covered_from = covered_again(earlier, maximum, days)
    return [
        Finding(
            f"session_limit:{key}",
            BLOCK,
            f"{len(earlier)} {what} in this region in the {days} days before "
            f"{ctx.planned_date:%Y-%m-%d}; the limit is {maximum}. Covered again from "
            f"{covered_from:%Y-%m-%d}: plan it then, or ask the payer for an exception. "
            f"{SESSION_NOTE}",
            source,
            {"count": len(earlier), "limit": maximum, "covered_from": covered_from.isoformat()},
            until=covered_until(covered_from),
            action=f"Plan it on or after {covered_from:%Y-%m-%d}, or ask the payer for an "
            "exception and give it as the override reason.",
        )
    ]


def covered_until(covered_from: date) -> Until:
    return until_date(covered_from, "the payer covers it again from this day", eligible=True)


def covered_again(session_days: list[date], maximum: int, window_days: int) -> date:
    """The first day on which fewer than `maximum` of `session_days` fall in the window of
    `window_days` before it: the oldest sessions have left the window."""
    leaving = sorted(session_days)[len(session_days) - maximum]
    return leaving + timedelta(days=window_days + 1)


# --- Relief of a diagnostic block, during its local anaesthetic ----------------------------------

# The local anaesthetic named on the record -> the threshold holding its duration.
ANAESTHETIC_KEYS = (
    ("bupivacaine", "anaesthetic_hours_bupivacaine"),
    ("ropivacaine", "anaesthetic_hours_bupivacaine"),
    ("lidocaine", "anaesthetic_hours_lidocaine"),
    ("lignocaine", "anaesthetic_hours_lidocaine"),
)
DEFAULT_ANAESTHETIC_KEY = "anaesthetic_hours_default"


def anaesthetic_hours(record: ProcedureRecord, thresholds: dict[str, Decimal]) -> Decimal:
    """How long the record's local anaesthetic acts (editable thresholds)."""
    named = (record.local_anaesthetic or "").lower()
    key = next((key for name, key in ANAESTHETIC_KEYS if name in named), DEFAULT_ANAESTHETIC_KEY)
    return thresholds[key]


@dataclass(frozen=True)
class BlockRelief:
    """A diagnostic block's relief as the LCDs count it: the best of the record's own pre-
    and post-procedure NRS and the follow-ups measured within the anaesthetic's duration."""

    record: ProcedureRecord
    day: date
    percent: Decimal | None
    how: str
    not_counted: tuple[str, ...] = ()

    def positive(self, threshold: Decimal) -> bool:
        return self.percent is not None and self.percent >= threshold


def _hours(delta: timedelta) -> str:
    return _num(Decimal(delta.total_seconds() / 3600).quantize(Decimal("0.1")))


def block_relief(record: ProcedureRecord, thresholds: dict[str, Decimal]) -> BlockRelief:
    hours = anaesthetic_hours(record, thresholds)
    candidates: list[tuple[Decimal, str]] = []
    own = percent_relief(record.pre_nrs, record.post_nrs)
    if own is not None:
        candidates.append(
            (own, f"NRS {record.pre_nrs} before and {record.post_nrs} after, on the record")
        )
    not_counted = []
    for outcome in record.outcomes.all():
        if outcome.percent_relief is None:
            continue
        after = outcome.measured_at - record.performed_at
        if timedelta(0) <= after <= timedelta(hours=float(hours)):
            candidates.append((outcome.percent_relief, f"follow-up {_hours(after)} h after"))
        else:
            not_counted.append(
                f"{_num(outcome.percent_relief)}% at {_hours(after)} h is outside the "
                f"local anesthetic's {_num(hours)} h"
            )
    best = max(candidates, key=lambda c: c[0], default=None)
    return BlockRelief(
        record=record,
        day=local_day(record),
        percent=best[0] if best else None,
        how=best[1] if best else "no pain score recorded",
        not_counted=tuple(not_counted),
    )


def _block_label(block: BlockRelief) -> str:
    relief = f"{_num(block.percent)}%" if block.percent is not None else "no relief known"
    return f"block of {block.day:%Y-%m-%d} ({relief}: {block.how})"


def counted_blocks(
    blocks: list[BlockRelief], threshold: Decimal, gap_days: int
) -> tuple[list[BlockRelief], list[tuple[BlockRelief, str]]]:
    """Which positive blocks count toward RFA, oldest first: one per session (day), each at
    least `gap_days` after the one before (LCD-FACET); the others with why not."""
    counted: list[BlockRelief] = []
    refused: list[tuple[BlockRelief, str]] = []
    for block in sorted(blocks, key=lambda b: (b.day, -(b.percent or 0))):
        last = counted[-1] if counted else None
        if not block.positive(threshold):
            refused.append((block, f"under {_num(threshold)}%"))
        elif last and block.day == last.day:
            refused.append((block, "the same session as a counted block"))
        elif last and (block.day - last.day).days < gap_days:
            refused.append((block, f"less than {gap_days} days after the block of {last.day}"))
        else:
            counted.append(block)
    return counted, refused


def _blocks_explained(counted, refused) -> str:
    parts = []
    if counted:
        parts.append("Counted: " + "; ".join(_block_label(b) for b in counted) + ".")
    if refused:
        parts.append(
            "Not counted: " + "; ".join(f"{_block_label(b)}, {why}" for b, why in refused) + "."
        )
    outside = [f"{b.day:%Y-%m-%d}: {n}" for b, _ in refused for n in b.not_counted]
    outside += [f"{b.day:%Y-%m-%d}: {n}" for b in counted for n in b.not_counted]
    if outside:
        parts.append("Follow-ups not counted: " + "; ".join(outside) + ".")
    return " ".join(parts)


def _blocks_details(counted, refused) -> list[dict]:
    rows = [(b, True, "") for b in counted] + [(b, False, why) for b, why in refused]
    return [
        {
            "record": str(b.record.pk),
            "day": b.day.isoformat(),
            "relief": None if b.percent is None else str(b.percent),
            "from": b.how,
            "counted": ok,
            "why_not": why,
            "follow_ups_not_counted": list(b.not_counted),
        }
        for b, ok, why in sorted(rows, key=lambda row: row[0].day)
    ]


def mbb_interval_rule(ctx: Context) -> list[Finding]:
    if ctx.procedure_type.family != "mbb":
        return []
    gap = int(ctx.threshold("mbb_second_block_min_days"))
    since = ctx.planned_date - timedelta(days=gap - 1)
    # The other side on the same day is the same session, not a second block.
    recent = [
        r for r in ctx.records_of(family="mbb", since=since) if local_day(r) != ctx.planned_date
    ]
    if not recent:
        return []
    earliest = local_day(recent[0]) + timedelta(days=gap)
    return [
        Finding(
            "mbb_interval",
            BLOCK,
            f"The second diagnostic block must be at least {gap} days after the first "
            f"(last on {local_day(recent[0]):%Y-%m-%d}).",
            "LCD-FACET (L38801)",
            until=until_date(earliest, "the second block may be done from this day", eligible=True),
            action=f"Plan the second block on or after {earliest:%Y-%m-%d}.",
        )
    ]


def rfa_rule(ctx: Context) -> list[Finding]:
    kind = ctx.procedure_type
    if kind.family != "rfa" or kind.region not in SPINAL_REGIONS:
        return []
    previous = [r for r in ctx.records_of(family="rfa") if local_day(r) != ctx.planned_date]
    expire = timedelta(days=int(ctx.threshold("rfa_blocks_expire_days")))
    last_rfa = previous[0] if previous else None
    if last_rfa and ctx.planned_date - local_day(last_rfa) <= expire:
        return _repeat_rfa(ctx, last_rfa)
    since = local_day(last_rfa) if last_rfa else None
    needed = int(ctx.threshold("mbb_positive_blocks_for_rfa"))
    relief = ctx.threshold("mbb_positive_relief")
    blocks = [block_relief(r, ctx.thresholds) for r in ctx.records_of(family="mbb", since=since)]
    counted, refused = counted_blocks(
        blocks, relief, int(ctx.threshold("mbb_second_block_min_days"))
    )
    explained = _blocks_explained(counted, refused)
    details = {
        "positive_blocks": len(counted),
        "needed": needed,
        "blocks": _blocks_details(counted, refused),
    }
    source = "LCD-FACET (L38801): >= 80% relief while the local anesthetic acts"
    if len(counted) >= needed:
        return [
            Finding(
                "rfa_blocks",
                INFO,
                f"Facet RFA: {len(counted)} positive medial branch block session(s) in this "
                f"region (>= {_num(relief)}% relief while the local anesthetic acts). {explained}",
                source,
                details,
                until=until_condition(
                    "an RFA is done in this region (a repeat then needs a lasting response)"
                ),
                action="Ablate the levels and side of the positive blocks.",
            )
        ]
    gap = int(ctx.threshold("mbb_second_block_min_days"))
    next_day = counted[-1].day + timedelta(days=gap) if counted else None
    next_block = (
        f" The next one may be done from {next_day:%Y-%m-%d} (at least {gap} days after the "
        "last counted block)."
        if next_day and next_day > ctx.today
        else ""
    )
    return [
        Finding(
            "rfa_needs_positive_blocks",
            BLOCK,
            f"Facet RFA needs {needed} positive medial branch blocks (>= {_num(relief)}% relief "
            f"while the local anesthetic acts) in the same region"
            f"{' since the last RFA' if last_rfa else ''}; {len(counted)} recorded. {explained}",
            source,
            details,
            until=until_condition(
                f"{needed} positive medial branch blocks are recorded in this region"
            ),
            action=f"Do {needed - len(counted)} more diagnostic medial branch block(s) and "
            "record the relief while the local anesthetic acts (NRS before and after, or a "
            f"pain diary).{next_block}",
        )
    ]


def _days_after(outcome: ProcedureOutcome, record: ProcedureRecord) -> int:
    """Calendar days from the procedure to the follow-up, in the clinic's zone (so that a
    change of clocks between them does not cost an hour of a day)."""
    return (outcome.measured_at.astimezone(record.location.zone).date() - local_day(record)).days


def _lasting_relief(session: list[ProcedureRecord], relief: Decimal, lasting: timedelta) -> bool:
    """Relief of at least `relief` percent measured at least `lasting` after the session."""
    return any(
        o.percent_relief is not None
        and o.percent_relief >= relief
        and _days_after(o, r) >= lasting.days
        for r in session
        for o in r.outcomes.all()
    )


def _last_session(records: list[ProcedureRecord]) -> list[ProcedureRecord]:
    """The records of the newest session among `records` (newest first)."""
    if not records:
        return []
    day = local_day(records[0])
    return [r for r in records if local_day(r) == day]


def _repeat_rfa(ctx: Context, last_rfa) -> list[Finding]:
    relief = ctx.threshold("rfa_repeat_min_relief")
    lasting = timedelta(days=int(ctx.threshold("rfa_repeat_min_days")))
    session = _last_session(
        [r for r in ctx.records_of(family="rfa") if local_day(r) != ctx.planned_date]
    )
    if _lasting_relief(session, relief, lasting):
        return []
    return [
        Finding(
            "rfa_repeat_response",
            BLOCK,
            f"A repeat RFA needs >= {_num(relief)}% improvement lasting >= {lasting.days} days "
            f"after the last one ({local_day(last_rfa):%Y-%m-%d}); none is recorded.",
            "LCD-FACET (L38801)",
            until=until_condition(
                f"a follow-up at least {lasting.days} days after the RFA of "
                f"{local_day(last_rfa):%Y-%m-%d} records >= {_num(relief)}% improvement"
            ),
            action=RECORD_RESPONSE,
        )
    ]


RECORD_RESPONSE = (
    "Record the follow-up pain score from the last session; without a lasting response a "
    "repeat is not covered, so override only with a documented reason."
)


def esi_repeat_rule(ctx: Context) -> list[Finding]:
    if ctx.procedure_type.family != "esi":
        return []
    previous = [
        r
        for r in ctx.records_of(family="esi", since=ctx.window_start())
        if local_day(r) != ctx.planned_date
    ]
    if not previous:
        return []
    session = _last_session(previous)
    last_day = local_day(session[0])
    retry_gap = int(ctx.threshold("esi_retry_min_days"))
    earliest = last_day + timedelta(days=retry_gap)
    if (ctx.planned_date - last_day).days < retry_gap:
        return [
            Finding(
                "esi_retry_interval",
                BLOCK,
                f"The last ESI in this region was on {last_day:%Y-%m-%d}: a repeat needs a "
                f"lasting response, and even a single retry after a failed injection waits "
                f">= {retry_gap} days (earliest {earliest:%Y-%m-%d}).",
                "LCD-ESI (L39240): no pre-planned series",
                until=until_date(earliest, "a repeat may be done from this day", eligible=True),
                action=f"Plan it on or after {earliest:%Y-%m-%d}.",
            )
        ]
    relief = ctx.threshold("esi_repeat_min_relief")
    lasting = timedelta(days=int(ctx.threshold("esi_repeat_min_days")))
    if _lasting_relief(session, relief, lasting):
        return []
    return [
        Finding(
            "esi_repeat_response",
            WARN,
            f"A repeat ESI needs >= {_num(relief)}% relief lasting >= {lasting.days} days after "
            f"the last one ({last_day:%Y-%m-%d}), or a single retry by another approach "
            f">= {retry_gap} days after a failed injection; document which applies.",
            "LCD-ESI (L39240)",
            until=until_condition(
                "the response to the last ESI, or a retry by another approach, is documented"
            ),
            action="Record the follow-up relief after the last ESI, or write in the order's "
            "notes that this is a single retry by another approach after a failed injection.",
        )
    ]


def esi_short_window_rule(ctx: Context) -> list[Finding]:
    """A payer's second, shorter ESI window (eviCore: at most 3 per 6 months), when its
    rule set has one; the Medicare LCD rules have only the 12-month cap."""
    short = {"esi_short_window_days", "esi_short_window_max_sessions"}
    if ctx.procedure_type.family != "esi" or not short <= ctx.thresholds.keys():
        return []
    window = int(ctx.threshold("esi_short_window_days"))
    maximum = int(ctx.threshold("esi_short_window_max_sessions"))
    since = ctx.planned_date - timedelta(days=window)
    done = [
        day
        for day in session_days(ctx.records_of(family="esi", since=since))
        if day != ctx.planned_date
    ]
    if len(done) < maximum:
        return []
    again = covered_again(done, maximum, window)
    return [
        Finding(
            "esi_short_window",
            BLOCK,
            f"{len(done)} epidural steroid injection sessions in this region in the {window} "
            f"days before {ctx.planned_date:%Y-%m-%d}; this payer allows {maximum}. "
            + SESSION_NOTE,
            "Payer rule",
            {"count": len(done), "limit": maximum, "window_days": window},
            until=covered_until(again),
            action=f"Plan it on or after {again:%Y-%m-%d}, or ask the payer for an exception "
            "and give it as the override reason.",
        )
    ]


# family -> (relief key, lasting days key, what, source) for the repeat-response rules.
REPEAT_RESPONSE: dict[str, tuple[str, str, str, str]] = {
    "tpi": (
        "tpi_repeat_min_relief",
        "tpi_repeat_min_days",
        "trigger point injection",
        "LCD-TPI (L34211)",
    ),
    "facet_injection": (
        "facet_repeat_min_relief",
        "facet_repeat_min_days",
        "therapeutic facet injection",
        "LCD-FACET (L38801)",
    ),
    "si": (
        "si_repeat_min_relief",
        "si_repeat_min_days",
        "therapeutic sacroiliac injection",
        "LCD-SI (L39462)",
    ),
}


def repeat_response_rule(ctx: Context) -> list[Finding]:
    """Trigger point, therapeutic facet and therapeutic SI repeats need a lasting response to
    the last session (frequency_rules.csv tpi_max, si_max; procedures.csv facet_ia_ls)."""
    kind = ctx.procedure_type
    rule = REPEAT_RESPONSE.get(kind.family)
    if rule is None or (kind.family == "si" and kind.purpose == "diagnostic"):
        return []
    relief_key, days_key, what, source = rule
    previous = [
        r
        for r in ctx.records_of(family=kind.family, since=ctx.window_start())
        if local_day(r) != ctx.planned_date and (kind.family != "si" or _same_si_kind(r, kind))
    ]
    session = _last_session(previous)
    if not session:
        return []
    relief = ctx.threshold(relief_key)
    lasting = timedelta(days=int(ctx.threshold(days_key)))
    if _lasting_relief(session, relief, lasting):
        return []
    return [
        Finding(
            f"repeat_response:{kind.family}",
            BLOCK,
            f"A repeat {what} needs >= {_num(relief)}% relief lasting >= {lasting.days} days "
            f"after the last session ({local_day(session[0]):%Y-%m-%d}); none is recorded.",
            source,
            {"relief_percent": str(relief), "days": lasting.days},
            until=until_condition(
                f"a follow-up at least {lasting.days} days after the session of "
                f"{local_day(session[0]):%Y-%m-%d} records >= {_num(relief)}% relief"
            ),
            action=RECORD_RESPONSE,
        )
    ]


def augmentation_level_rule(ctx: Context) -> list[Finding]:
    """Vertebral augmentation is done once per level (procedures.csv; LCD-PVA)."""
    if ctx.procedure_type.family != "vertebral_augmentation":
        return []
    earlier: dict[str, date] = {}
    for r in ctx.records:
        if r.procedure_type.family == "vertebral_augmentation" and local_day(r) != ctx.planned_date:
            for level in r.levels:
                earlier.setdefault(level, local_day(r))
    again = sorted(set(ctx.levels) & set(earlier))
    if not again:
        return []
    done = "; ".join(f"{level} on {earlier[level]:%Y-%m-%d}" for level in again)
    return [
        Finding(
            "augmentation_level_repeat",
            BLOCK,
            f"Vertebral augmentation is done once per level; already treated: {done}.",
            "procedures.csv (one-time per level); LCD-PVA (L34228)",
            {"levels": again},
            until=no_expiry("a level is treated once"),
            action=f"Take {', '.join(again)} off the order (cancel it and order the other levels).",
        )
    ]


def _same_knee(block_side: str, planned_side: str) -> bool:
    sides = {block_side, planned_side}
    return "" in sides or "bilateral" in sides or block_side == planned_side


def genicular_rfa_rule(ctx: Context) -> list[Finding]:
    """Genicular RFA needs a prior positive genicular nerve block on the same knee."""
    if ctx.procedure_type.code != "genicular_rfa":
        return []
    relief = ctx.threshold("genicular_block_positive_relief")
    blocks = [
        block_relief(r, ctx.thresholds)
        for r in ctx.records
        if r.procedure_type.code == "genicular_block"
        and local_day(r) < ctx.planned_date
        and _same_knee(r.side, ctx.side)
    ]
    positive = [b for b in blocks if b.positive(relief)]
    source = "procedures.csv: genicular block positive at >= 50% (unconfirmed value)"
    if positive:
        return [
            Finding(
                "genicular_block",
                INFO,
                f"Genicular RFA: positive {_block_label(positive[0])} counted.",
                source,
                until=no_expiry(),
                action="Ablate the genicular nerves of the knee that was blocked.",
            )
        ]
    seen = "; ".join(_block_label(b) for b in blocks)
    return [
        Finding(
            "genicular_rfa_needs_positive_block",
            BLOCK,
            f"Genicular RFA needs a positive genicular nerve block (>= {_num(relief)}% relief "
            f"while the local anesthetic acts) on the same knee; "
            + (f"not reached: {seen}." if blocks else "none is recorded."),
            source,
            until=until_condition("a positive genicular nerve block on this knee is recorded"),
            action="Do a diagnostic genicular nerve block on this knee and record the relief "
            f"while the local anesthetic acts (>= {_num(relief)}%).",
        )
    ]


def si_rfa_rule(ctx: Context) -> list[Finding]:
    if ctx.procedure_type.code != "si_rfa":
        return []
    relief = ctx.threshold("si_positive_relief")
    blocks = [
        block_relief(r, ctx.thresholds)
        for r in ctx.records
        if r.procedure_type.family == "si" and r.procedure_type.purpose != "therapeutic"
    ]
    positive = [b for b in blocks if b.positive(relief)]
    tests = "LCD-SI also needs >= 3 positive provocative tests, documented."
    if positive:
        return [
            Finding(
                "si_block",
                INFO,
                f"SI RFA: positive diagnostic {_block_label(positive[0])} counted. {tests}",
                "LCD-SI (L39462)",
                until=no_expiry(),
                action=PROVOCATIVE_TESTS,
            )
        ]
    return [
        Finding(
            "si_rfa_needs_positive_block",
            WARN,
            f"No positive diagnostic sacroiliac block (>= {_num(relief)}% relief) is recorded "
            f"before SI radiofrequency ablation; some payers do not cover SI RFA at all. {tests}",
            "LCD-SI (L39462)",
            until=until_condition("a positive diagnostic sacroiliac block is recorded"),
            action=f"Do a diagnostic sacroiliac block (>= {_num(relief)}% relief), check that "
            f"the payer covers SI RFA, and {PROVOCATIVE_TESTS[0].lower()}{PROVOCATIVE_TESTS[1:]}",
        )
    ]


PROVOCATIVE_TESTS = "Document at least 3 positive provocative tests in the note."


def _positive(record, threshold: Decimal) -> bool:
    return record.best_relief_percent is not None and record.best_relief_percent >= threshold


def scs_rule(ctx: Context) -> list[Finding]:
    if ctx.procedure_type.code != "scs_implant":
        return []
    relief = ctx.threshold("scs_trial_min_relief")
    trials = [r for r in ctx.records if r.procedure_type.code == "scs_trial"]
    if any(_positive(r, relief) for r in trials):
        return []
    return [
        Finding(
            "scs_needs_trial",
            BLOCK,
            f"A permanent spinal cord stimulator needs a successful trial (>= {_num(relief)}% relief); "
            f"{'the recorded trial did not reach it' if trials else 'no trial is recorded'}.",
            "Neuromodulation society guidance",
            until=until_condition(f"a trial with >= {_num(relief)}% relief is recorded"),
            action=(
                "Record the trial's follow-up relief if it is missing; a trial that did not "
                "reach it does not qualify for the implant."
                if trials
                else "Do a spinal cord stimulator trial first and record its relief."
            ),
        )
    ]


def methylprednisolone_equivalent(record: ProcedureRecord, steroids: dict[str, Steroid]) -> Decimal:
    """The record's steroid dose in methylprednisolone-equivalent mg (the catalog's factor);
    the one conversion the safety check and the physician's view both use."""
    if not record.steroid_id or record.steroid_dose_mg is None:
        return Decimal(0)
    return record.steroid_dose_mg * steroids[record.steroid_id].methylprednisolone_factor


# --- Steroid per session (LCD-ESI: a maximum per steroid for one session) -----------------------


def session_steroid_share(doses: Iterable[tuple[Steroid, Decimal]]) -> Decimal:
    """How much of the per-session maximum `doses` use together (1 is all of it): each dose
    over its own steroid's maximum, so that mixed steroids add up; a steroid without a
    maximum adds nothing."""
    return sum(
        (dose / s.max_dose_per_session_mg for s, dose in doses if s.max_dose_per_session_mg),
        Decimal(0),
    )


def _doses_text(doses: list[tuple[Steroid, Decimal]]) -> str:
    totals: dict[str, Decimal] = {}
    for s, dose in doses:
        totals[s.name] = totals.get(s.name, Decimal(0)) + dose
    return ", ".join(f"{name} {_num(mg)} mg" for name, mg in totals.items())


def _maxima_text(doses: list[tuple[Steroid, Decimal]]) -> str:
    maxima = {s.name: s.max_dose_per_session_mg for s, _ in doses if s.max_dose_per_session_mg}
    return ", ".join(f"{name} {_num(mg)} mg" for name, mg in maxima.items())


def same_session(
    records: Iterable[ProcedureRecord], region: str, day: date
) -> list[ProcedureRecord]:
    """The records with a steroid in the session of `region` on the local `day` (the one
    definition of a session: everything in one region on one day, see session_days)."""
    return [
        r
        for r in records
        if r.steroid_id and r.procedure_type.region == region and day in session_days([r])
    ]


def steroid_session_excess(
    *, patient, procedure_type: ProcedureType, performed_at, location, steroid, dose
) -> str:
    """'' or why a recorded dose takes the session above its steroid maximum, counting the
    doses already recorded that day in the region (a bilateral ESI as two rows is one
    session)."""
    if not (steroid and dose and performed_at and location):
        return ""
    day = performed_at.astimezone(location.zone).date()
    earlier = same_session(
        ProcedureRecord.objects.filter(
            patient=patient,
            steroid__isnull=False,
            procedure_type__region=procedure_type.region,
            performed_at__date__range=(day - timedelta(days=1), day + timedelta(days=1)),
        ).select_related("steroid", "location", "procedure_type"),
        procedure_type.region,
        day,
    )
    given = [
        (r.steroid, r.steroid_dose_mg)
        for r in earlier
        if r.steroid is not None and r.steroid_dose_mg is not None
    ]
    if not given or session_steroid_share([*given, (steroid, dose)]) <= 1:
        return ""
    together = _doses_text([*given, (steroid, dose)])
    return (
        f"Above the per-session maximum ({_maxima_text([*given, (steroid, dose)])}): "
        f"{_doses_text(given)} already given in this session on {day:%Y-%m-%d}, so "
        f"{steroid.name} {_num(dose)} mg makes {together}. {SESSION_NOTE} (LCD-ESI)"
    )


def steroid_session_rule(ctx: Context) -> list[Finding]:
    """A steroid procedure joining a session that already had steroid (the other side of a
    bilateral ESI): what is left of the per-session maximum."""
    kind = ctx.procedure_type
    if kind.steroid == Usage.NO:
        return []
    given = [
        (ctx.steroids[r.steroid_id], r.steroid_dose_mg)
        for r in same_session(ctx.records, kind.region, ctx.planned_date)
        if r.steroid_id is not None and r.steroid_dose_mg is not None
    ]
    share = session_steroid_share(given)
    if not given or share == 0:
        return []
    used = (share * 100).quantize(Decimal("1"))
    full = share >= 1
    return [
        Finding(
            "steroid_session_max",
            BLOCK if full and kind.steroid == Usage.YES else WARN,
            f"Steroid already given in this session on {ctx.planned_date:%Y-%m-%d}: "
            f"{_doses_text(given)}, {used}% of the per-session maximum "
            f"({_maxima_text(given)}){'; none is left' if full else ''}. {SESSION_NOTE}",
            "LCD-ESI (L39240): steroid per session",
            {"used_percent": str(used)},
            until=until_date(
                ctx.planned_date + timedelta(days=1),
                "a session on another day has its own maximum",
                eligible=True,
            ),
            action=(
                "Do it without steroid in this session, or on another day."
                if full
                else f"Keep the steroid within what is left ({100 - used}% of the maximum)."
            ),
        )
    ]


def steroid_rule(ctx: Context) -> list[Finding]:
    if ctx.procedure_type.steroid == Usage.NO:
        return []
    found = []
    with_steroid = [r for r in ctx.records if r.steroid_id]
    gap = int(ctx.threshold("steroid_min_interval_days"))
    without = (
        " (or give it without steroid)" if ctx.procedure_type.steroid == Usage.OPTIONAL else ""
    )
    if with_steroid:
        last = local_day(with_steroid[0])
        earliest = last + timedelta(days=gap)
        if (ctx.planned_date - last).days < gap:
            found.append(
                Finding(
                    "steroid_interval",
                    BLOCK,
                    f"The last steroid injection was on {last:%Y-%m-%d}; at least {gap} days must pass "
                    f"(earliest {earliest:%Y-%m-%d}).",
                    "KOHAN 2017 (practice-configurable)",
                    until=until_date(
                        earliest,
                        "the next steroid injection may be given from this day",
                        eligible=True,
                    ),
                    action=f"Plan it on or after {earliest:%Y-%m-%d}{without}.",
                )
            )
    cap = ctx.threshold("steroid_annual_cap_mg")
    doses = [
        (local_day(r), methylprednisolone_equivalent(r, ctx.steroids))
        for r in with_steroid
        if local_day(r) >= ctx.window_start()
    ]
    total = sum((mg for _, mg in doses), Decimal(0))
    warn_at = cap * ctx.threshold("steroid_annual_warn_percent") / 100
    if total >= cap:
        severity, verb, limit, under = BLOCK, "has reached", cap, "the cap"
    elif total >= warn_at:
        severity, verb, limit, under = WARN, "is close to", warn_at, "the warning level"
    else:
        return found
    below = under_limit_from(doses, limit, int(ctx.threshold("frequency_window_days")))
    found.append(
        Finding(
            "steroid_cumulative",
            severity,
            f"Steroid in the last 12 months: {_num(total)} mg methylprednisolone-equivalent, which "
            f"{verb} the cap of {_num(cap)} mg.",
            "Interv Pain Med 2022 (unconfirmed; practice-configurable)",
            {"total_mg": str(total), "under_limit_from": below.isoformat()},
            until=until_date(
                below,
                f"earlier doses leave the 12 months and the total falls under {under}",
                eligible=severity == BLOCK,
            ),
            action=(
                f"Plan it on or after {below:%Y-%m-%d}{without}."
                if severity == BLOCK
                else "Use the lowest dose that works; the next injection may reach the cap."
            ),
        )
    )
    return found


def under_limit_from(doses: list[tuple[date, Decimal]], limit: Decimal, window_days: int) -> date:
    """The first day on which the doses still inside the window of `window_days` before it
    add up to less than `limit`: the oldest doses leave the window one by one."""
    total = sum((mg for _, mg in doses), Decimal(0))
    for day, mg in sorted(doses):
        total -= mg
        if total < limit:
            return day + timedelta(days=window_days + 1)
    raise ValueError("the doses never reached the limit")


def prior_auth_rule(ctx: Context) -> list[Finding]:
    order = ctx.order
    if order is None or order.auth_status == AuthStatus.NOT_NEEDED:
        return []
    approval = until_condition("the payer approves it")
    if order.auth_status == AuthStatus.DENIED:
        return [
            Finding(
                "prior_auth",
                BLOCK,
                "Prior authorization was denied.",
                "Payer",
                until=until_condition("the payer approves it on appeal or a new request"),
                action="Request it again (an appeal) with the payer, or cancel the order with "
                "the reason.",
            )
        ]
    if order.auth_status == AuthStatus.PENDING:
        return [
            Finding(
                "prior_auth",
                WARN,
                "Prior authorization is pending; it must be approved first.",
                "Payer",
                until=approval,
                action="Request prior authorization from the payer, then record its answer on "
                "the order.",
            )
        ]
    if order.auth_status == AuthStatus.REQUESTED:
        asked = order.auth_requested_at
        when = f" on {timezone.localtime(asked):%Y-%m-%d}" if asked else ""
        return [
            Finding(
                "prior_auth",
                WARN,
                f"Prior authorization was requested from the payer{when}; it must be approved "
                "first.",
                "Payer",
                until=until_condition("the payer answers and approves it"),
                action="Record the payer's answer on the order when it comes (approved with its "
                "number and expiry, or denied).",
            )
        ]
    if order.auth_expires and order.auth_expires < ctx.planned_date:
        return [
            Finding(
                "prior_auth",
                BLOCK,
                f"Prior authorization {order.auth_number} expires on {order.auth_expires:%Y-%m-%d}, "
                "before the planned date.",
                "Payer",
                until=until_condition("an approval covers the planned date"),
                action=f"Plan it by {order.auth_expires:%Y-%m-%d}, or request a new authorization "
                "and record the payer's answer.",
            )
        ]
    return []


def sedation_rule(ctx: Context) -> list[Finding]:
    kind = ctx.procedure_type
    if kind.sedation == Sedation.NONE:
        return []
    if kind.needs_driver:
        reason = (
            f"Sedation: an adult must drive the patient home; no solid food for "
            f"{kind.fasting_hours} hours before, clear fluids until 2 hours before."
        )
    else:
        reason = "If sedation is given: a driver and fasting as for sedation."
    return [
        Finding(
            "sedation",
            INFO,
            reason,
            "intake.md; KOHAN 2017",
            until=until_date(ctx.planned_date, "the day of the procedure"),
            action="Make sure the patient has these instructions and an adult to drive them home.",
        )
    ]


RULES = [
    levels_rule,
    anticoagulant_rule,
    platelet_rule,
    contrast_allergy_rule,
    pregnancy_rule,
    cardiac_device_rule,
    infection_rule,
    allergy_rule,
    cancer_rule,
    si_rfa_rule,
    diabetes_rule,
    bleeding_disorder_rule,
    session_limit_rule,
    mbb_interval_rule,
    rfa_rule,
    esi_repeat_rule,
    esi_short_window_rule,
    repeat_response_rule,
    augmentation_level_rule,
    genicular_rfa_rule,
    scs_rule,
    steroid_rule,
    steroid_session_rule,
    prior_auth_rule,
    sedation_rule,
    opioid_sedation_rule,
]


def run_rules(ctx: Context) -> list[Finding]:
    findings = [ctx.rule_set.name(finding) for rule in RULES for finding in rule(ctx)]
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.code))


def safety_check(
    *, patient, procedure_type, planned_date, side="", levels=(), order=None, today=None
) -> list[Finding]:
    ctx = load_context(
        patient=patient,
        procedure_type=procedure_type,
        planned_date=planned_date,
        side=side,
        levels=levels,
        order=order,
        today=today,
    )
    return run_rules(ctx)
