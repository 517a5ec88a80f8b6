"""The pre-procedure safety check: one function, many small rules, every number from data.

`safety_check` takes a patient, a procedure type with side and levels, and a planned date,
and returns findings: a severity (block, warn, info), a plain-language reason and the
rule's source. It supports, and does not replace, clinical judgement; a clinician may
override a block with a recorded reason (services.order_override).
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from patients.models import (
    BLEEDING_RISK_CLASSES,
    Allergy,
    AllergySeverity,
    ClinicalEntry,
    Condition,
    ConditionKind,
    DeviceKind,
    ImplantedDevice,
    Medication,
    Patient,
    ProcedureAllergyClass,
)

from .models import (
    AnticoagulantRule,
    AuthStatus,
    HoldDecision,
    ProcedureOrder,
    ProcedureOutcome,
    ProcedureRecord,
    ProcedureType,
    SafetyThreshold,
    Sedation,
    Steroid,
    Usage,
)

BLOCK, WARN, INFO = "block", "warn", "info"
SEVERITY_ORDER = {BLOCK: 0, WARN: 1, INFO: 2}
DISCLAIMER = "These findings support, and do not replace, clinical judgement."
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
    code: str
    severity: str
    reason: str
    source: str
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


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

    def threshold(self, key: str) -> Decimal:
        return self.thresholds[key]

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


# Medications that ended shortly before the planned day still matter: a drug stopped
# inside its hold window was stopped too late. Longer than any hold in anticoagulants.csv.
RECENTLY_STOPPED_DAYS = 30


def in_effect(entry: ClinicalEntry, day: date) -> bool:
    """A chart entry in effect on `day`: started by then and not ended before it. The one
    meaning of "current" for allergies, medications, conditions and devices."""
    started = entry.start_date is None or entry.start_date <= day
    return started and (entry.end_date is None or entry.end_date > day)


def taken_recently(medication: ClinicalEntry, day: date) -> bool:
    """Taken on `day`, or stopped within the last RECENTLY_STOPPED_DAYS before it."""
    started = medication.start_date is None or medication.start_date <= day
    recent = day - timedelta(days=RECENTLY_STOPPED_DAYS)
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
) -> Context:
    """The context the rules read, from rows already loaded (the check loads them itself;
    the physician's view passes the ones it shows). `records` newest first."""
    history_start = planned_date - timedelta(days=HISTORY_DAYS)
    return Context(
        patient=patient,
        procedure_type=procedure_type,
        planned_date=planned_date,
        today=today,
        side=side or "",
        levels=list(levels or []),
        order=order,
        thresholds=thresholds,
        medications=[m for m in chart.medications if taken_recently(m, planned_date)],
        allergies=[a for a in chart.allergies if in_effect(a, planned_date)],
        conditions={c.kind for c in chart.conditions if in_effect(c, planned_date)},
        devices={d.kind for d in chart.devices if in_effect(d, planned_date)},
        records=[r for r in records if history_start <= local_day(r) <= planned_date],
        hold_rules=hold_rules,
        steroids=steroids,
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
    )


# --- Rules: each takes the context and returns findings -----------------------------------------


def levels_rule(ctx: Context) -> list[Finding]:
    kind = ctx.procedure_type
    found = []
    if kind.max_levels and len(ctx.levels) > kind.max_levels:
        # Payer coverage for injections; for vertebral augmentation more than three levels
        # is a relative contraindication (procedures.csv), so a warning.
        relative = kind.family == "vertebral_augmentation"
        found.append(
            Finding(
                "too_many_levels",
                WARN if relative else BLOCK,
                f"{kind.name}: at most {kind.max_levels} level(s) in one session"
                f"{' is advised' if relative else ' are covered'}; {len(ctx.levels)} are planned.",
                "procedures.csv; LCD-ESI (levels per session)",
            )
        )
    if kind.side_applies and not ctx.side:
        found.append(Finding("side_missing", WARN, "Say which side is to be treated.", "Catalog"))
    return found


def _matching_hold_rules(ctx: Context, medication) -> list:
    name = medication.name.lower()
    return [r for r in ctx.hold_rules if any(n in name for n in r.match_names)]


def anticoagulant_rule(ctx: Context) -> list[Finding]:
    risk = ctx.procedure_type.bleeding_risk
    found: list[Finding | None] = []
    for medication in ctx.medications:
        rules = _matching_hold_rules(ctx, medication)
        if not rules:
            if medication.drug_class in BLEEDING_RISK_CLASSES:
                found.append(
                    Finding(
                        f"hold_unknown:{medication.name.lower()}",
                        WARN,
                        f"{medication.name} affects bleeding and has no hold rule here; "
                        "check the hold with the prescriber.",
                        "ASRA 2018 (N18)",
                    )
                )
            continue
        found.append(_hold_finding(ctx, medication, rules, risk))
    return [f for f in found if f is not None]


def _procedure_of(risk: str) -> str:
    article = "an" if risk == "intermediate" else "a"
    return f"{article} {risk}-risk procedure"


def _hold_finding(ctx: Context, medication, rules, risk: str) -> Finding | None:
    # Where several rules match (aspirin for primary or secondary prevention), the
    # strictest hold applies and the reason names the alternative.
    def strictness(rule):
        decision, hours = rule.hold_for(risk)
        return (decision == HoldDecision.HOLD, hours or 0)

    rule = max(rules, key=strictness)
    decision, hours = rule.hold_for(risk)
    code = f"hold:{rule.drug}"
    source = f"{rule.source} ({'confirmed' if rule.certain else 'unconfirmed value'})"
    others = "; ".join(r.drug for r in rules if r is not rule)
    also = f" If it is taken as {others}, the rule may differ." if others else ""
    restart = f" Restart: {rule.restart_after} after." if rule.restart_after else ""
    if decision == HoldDecision.NO_HOLD:
        return Finding(
            code,
            INFO,
            f"{medication.name}: no hold needed for {_procedure_of(risk)}.",
            source,
        )
    if decision == HoldDecision.SHARED or hours is None:
        return Finding(
            code,
            WARN,
            f"{medication.name}: holding it before {_procedure_of(risk)} is a shared decision "
            f"with the prescriber ({rule.note}).{also}{restart}",
            source,
        )
    inr = " and a normal INR on the day" if rule.requires_normal_inr else ""
    if hours < 24:
        return Finding(
            code,
            WARN,
            f"Stop {medication.name} at least {hours} hours before {_procedure_of(risk)}{inr}.{also}{restart}",
            source,
            {"hold_hours": hours},
        )
    whole_days = -(-hours // 24)  # a part of a day counts as a whole one (stricter)
    days = Decimal(hours) / 24
    start = ctx.planned_date - timedelta(days=whole_days)
    stopped = medication.end_date
    if stopped is not None and stopped <= start:
        return Finding(
            code,
            INFO,
            f"{medication.name} was stopped on {stopped:%Y-%m-%d}, in time for {_procedure_of(risk)} "
            f"on {ctx.planned_date:%Y-%m-%d} (hold {_num(days)} days).{restart}",
            source,
            {"hold_start": start.isoformat(), "hold_hours": hours},
        )
    if stopped is not None:
        return Finding(
            code,
            BLOCK,
            f"{medication.name} stops on {stopped:%Y-%m-%d}, but must stop by {start:%Y-%m-%d} "
            f"({_num(days)} days before {_procedure_of(risk)}){inr}.{also}",
            source,
            {"hold_start": start.isoformat(), "hold_hours": hours},
        )
    details = {"hold_start": start.isoformat(), "hold_hours": hours}
    if start < ctx.today:
        return Finding(
            code,
            BLOCK,
            f"{medication.name} must be stopped {_num(days)} days before {_procedure_of(risk)}"
            f"{inr}; stopping today is too late for {ctx.planned_date:%Y-%m-%d}. "
            f"The earliest safe date is {ctx.today + timedelta(days=whole_days):%Y-%m-%d}.{also}",
            source,
            details,
        )
    return Finding(
        code,
        WARN,
        f"Stop {medication.name} on {start:%Y-%m-%d} ({_num(days)} days before){inr}.{also}{restart}",
        source,
        details,
    )


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
        Finding(
            "contrast_allergy",
            BLOCK if severe else WARN,
            f"Iodinated contrast allergy and this procedure {planned} contrast: premedicate or plan "
            "without contrast (ultrasound guidance is allowed for ESI and SI injections).",
            "intake.md (contrast allergy); LCD-ESI",
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
        return [
            Finding(
                "pregnancy",
                BLOCK,
                "Pregnancy is an absolute contraindication to vertebral augmentation.",
                "intake.md",
            )
        ]
    if not _uses_xray(kind):
        return []
    alternative = " or plan ultrasound guidance" if "ultrasound" in kind.imaging.lower() else ""
    return [
        Finding(
            "pregnancy",
            BLOCK,
            f"Pregnant: no fluoroscopy or CT without a documented decision{alternative}.",
            "intake.md",
        )
    ]


def cardiac_device_rule(ctx: Context) -> list[Finding]:
    kind = ctx.procedure_type
    if kind.family != "rfa" and not kind.code.startswith("scs"):
        return []
    has_device = ConditionKind.PACEMAKER_ICD in ctx.conditions or ctx.devices & {
        DeviceKind.PACEMAKER,
        DeviceKind.ICD,
    }
    if not has_device:
        return []
    return [
        Finding(
            "cardiac_device",
            BLOCK,
            "Pacemaker or ICD: radiofrequency ablation and spinal cord stimulation can interfere. "
            "Document the device plan (magnet or reprogramming, cardiology or the device representative).",
            "intake.md",
        )
    ]


def infection_rule(ctx: Context) -> list[Finding]:
    if ConditionKind.ACTIVE_INFECTION not in ctx.conditions:
        return []
    if ctx.procedure_type.code == "itp_refill":
        # A missed refill can cause dangerous withdrawal (procedures.csv): do not delay it.
        return [
            Finding(
                "active_infection",
                WARN,
                "Active infection: refill with strict asepsis and do not delay it; a missed refill "
                "can cause dangerous withdrawal (baclofen).",
                "intake.md; procedures.csv",
            )
        ]
    return [
        Finding(
            "active_infection",
            BLOCK,
            "Active infection is a contraindication to injections.",
            "intake.md",
        )
    ]


# Allergy class -> (applies to the procedure?, severity, advice). Contrast has its own rule.
ALLERGY_RULES: dict[str, tuple[Callable[[ProcedureType], bool], str, str]] = {
    ProcedureAllergyClass.CORTICOSTEROID: (
        lambda kind: kind.steroid != Usage.NO,
        WARN,
        "Corticosteroid allergy and this procedure may use a steroid: plan the injectate.",
    ),
    ProcedureAllergyClass.LOCAL_ANAESTHETIC: (
        lambda kind: True,
        WARN,
        "Local anaesthetic allergy: check ester versus amide and choose the other class.",
    ),
    ProcedureAllergyClass.BONE_CEMENT: (
        lambda kind: kind.family == "vertebral_augmentation",
        BLOCK,
        "Bone cement or opacifier allergy before vertebral augmentation.",
    ),
    ProcedureAllergyClass.CHLORHEXIDINE: (
        lambda kind: True,
        WARN,
        "Chlorhexidine allergy: use another skin preparation.",
    ),
    ProcedureAllergyClass.LATEX: (
        lambda kind: True,
        INFO,
        "Latex allergy: latex-free room and supplies.",
    ),
}


def allergy_rule(ctx: Context) -> list[Finding]:
    found = []
    for allergy_class in sorted({a.procedure_class for a in ctx.allergies} & set(ALLERGY_RULES)):
        applies, severity, advice = ALLERGY_RULES[allergy_class]
        if applies(ctx.procedure_type):
            found.append(Finding(f"allergy:{allergy_class}", severity, advice, "intake.md"))
    return found


def cancer_rule(ctx: Context) -> list[Finding]:
    if ConditionKind.CANCER_HISTORY not in ctx.conditions or ctx.procedure_type.family != "esi":
        return []
    return [
        Finding(
            "cancer_history",
            WARN,
            "History of cancer: make sure new or changed pain was evaluated (metastasis, cord "
            "compression) before an epidural steroid injection.",
            "intake.md",
        )
    ]


def diabetes_rule(ctx: Context) -> list[Finding]:
    if ConditionKind.DIABETES not in ctx.conditions or ctx.procedure_type.steroid == Usage.NO:
        return []
    return [
        Finding(
            "diabetes_steroid",
            WARN,
            "Diabetes and a steroid: check blood glucose on the day; steroids raise it for days.",
            "intake.md",
        )
    ]


def bleeding_disorder_rule(ctx: Context) -> list[Finding]:
    if (
        ConditionKind.BLEEDING_DISORDER not in ctx.conditions
        or ctx.procedure_type.bleeding_risk == "low"
    ):
        return []
    return [
        Finding(
            "bleeding_disorder",
            WARN,
            f"Bleeding disorder before a {ctx.procedure_type.bleeding_risk}-risk procedure: plan with haematology.",
            "ASRA 2018 (N18)",
        )
    ]


SESSION_LIMITS: dict[str, tuple[str, str, str]] = {
    # family -> (threshold key, what is counted, source)
    "esi": ("esi_max_sessions", "epidural steroid injections", "LCD-ESI (L39240)"),
    "mbb": (
        "facet_max_diagnostic",
        "diagnostic medial branch block sessions",
        "LCD-FACET (L38801)",
    ),
    "facet_injection": (
        "facet_max_therapeutic",
        "therapeutic facet injections",
        "LCD-FACET (L38801)",
    ),
    "tpi": ("tpi_max_sessions", "trigger point injection sessions", "LCD-TPI (L34211)"),
}


def session_limit_rule(ctx: Context) -> list[Finding]:
    kind = ctx.procedure_type
    limit: tuple[str, str, str] | None
    if kind.family == "rfa" and kind.region in SPINAL_REGIONS:
        limit = ("rfa_max_sessions", "facet RFA sessions", "LCD-FACET (L38801)")
    elif kind.family == "si":
        key = "si_max_diagnostic" if kind.purpose == "diagnostic" else "si_max_therapeutic"
        limit = (key, "sacroiliac sessions of this kind", "LCD-SI (L39462)")
    else:
        limit = SESSION_LIMITS.get(kind.family)
    if limit is None:
        return []
    key, what, source = limit
    done = ctx.records_of(family=kind.family, since=ctx.window_start())
    if kind.family == "si":
        done = [
            r
            for r in done
            if (r.procedure_type.purpose == "diagnostic") == (kind.purpose == "diagnostic")
        ]
    maximum = int(ctx.threshold(key))
    if len(done) < maximum:
        return []
    days = int(ctx.threshold("frequency_window_days"))
    return [
        Finding(
            f"session_limit:{key}",
            BLOCK,
            f"{len(done)} {what} in this region in the {days} days before {ctx.planned_date:%Y-%m-%d}; "
            f"the limit is {maximum}.",
            source,
            {"count": len(done), "limit": maximum},
        )
    ]


def _positive(record, threshold: Decimal) -> bool:
    return record.best_relief_percent is not None and record.best_relief_percent >= threshold


def mbb_interval_rule(ctx: Context) -> list[Finding]:
    if ctx.procedure_type.family != "mbb":
        return []
    gap = int(ctx.threshold("mbb_second_block_min_days"))
    recent = ctx.records_of(family="mbb", since=ctx.planned_date - timedelta(days=gap - 1))
    if not recent:
        return []
    return [
        Finding(
            "mbb_interval",
            BLOCK,
            f"The second diagnostic block must be at least {gap} days after the first "
            f"(last on {recent[0].performed_at:%Y-%m-%d}).",
            "LCD-FACET (L38801)",
        )
    ]


def rfa_rule(ctx: Context) -> list[Finding]:
    kind = ctx.procedure_type
    if kind.family != "rfa" or kind.region not in SPINAL_REGIONS:
        return []
    previous = ctx.records_of(family="rfa")
    expire = timedelta(days=int(ctx.threshold("rfa_blocks_expire_days")))
    last_rfa = previous[0] if previous else None
    if last_rfa and ctx.planned_date - local_day(last_rfa) <= expire:
        return _repeat_rfa(ctx, last_rfa)
    since = local_day(last_rfa) if last_rfa else None
    needed = int(ctx.threshold("mbb_positive_blocks_for_rfa"))
    relief = ctx.threshold("mbb_positive_relief")
    positive = [r for r in ctx.records_of(family="mbb", since=since) if _positive(r, relief)]
    if len(positive) >= needed:
        return []
    return [
        Finding(
            "rfa_needs_positive_blocks",
            BLOCK,
            f"Facet RFA needs {needed} positive medial branch blocks (>= {_num(relief)}% relief) "
            f"in the same region{' since the last RFA' if last_rfa else ''}; {len(positive)} recorded.",
            "LCD-FACET (L38801)",
            {"positive_blocks": len(positive), "needed": needed},
        )
    ]


def _repeat_rfa(ctx: Context, last_rfa) -> list[Finding]:
    relief = ctx.threshold("rfa_repeat_min_relief")
    lasting = timedelta(days=int(ctx.threshold("rfa_repeat_min_days")))
    lasted = any(
        o.percent_relief is not None
        and o.percent_relief >= relief
        and o.measured_at - last_rfa.performed_at >= lasting
        for o in last_rfa.outcomes.all()
    )
    if lasted:
        return []
    return [
        Finding(
            "rfa_repeat_response",
            BLOCK,
            f"A repeat RFA needs >= {_num(relief)}% improvement lasting >= {lasting.days} days "
            f"after the last one ({last_rfa.performed_at:%Y-%m-%d}); none is recorded.",
            "LCD-FACET (L38801)",
        )
    ]


def esi_repeat_rule(ctx: Context) -> list[Finding]:
    if ctx.procedure_type.family != "esi":
        return []
    previous = ctx.records_of(family="esi", since=ctx.window_start())
    if not previous:
        return []
    relief = ctx.threshold("esi_repeat_min_relief")
    lasting = timedelta(days=int(ctx.threshold("esi_repeat_min_days")))
    last = previous[0]
    lasted = any(
        o.percent_relief is not None
        and o.percent_relief >= relief
        and o.measured_at - last.performed_at >= lasting
        for o in last.outcomes.all()
    )
    if lasted:
        return []
    return [
        Finding(
            "esi_repeat_response",
            WARN,
            f"A repeat ESI needs >= {_num(relief)}% relief lasting >= {lasting.days} days after "
            f"the last one ({last.performed_at:%Y-%m-%d}), or a single retry by another approach "
            "after a failed injection; document which applies.",
            "LCD-ESI (L39240)",
        )
    ]


def si_rfa_rule(ctx: Context) -> list[Finding]:
    if ctx.procedure_type.code != "si_rfa":
        return []
    relief = ctx.threshold("si_positive_relief")
    blocks = [
        r
        for r in ctx.records
        if r.procedure_type.family == "si"
        and r.procedure_type.purpose != "therapeutic"
        and _positive(r, relief)
    ]
    if blocks:
        return []
    return [
        Finding(
            "si_rfa_needs_positive_block",
            WARN,
            f"No positive diagnostic sacroiliac block (>= {_num(relief)}% relief) is recorded "
            "before SI radiofrequency ablation; some payers do not cover SI RFA at all.",
            "LCD-SI (L39462)",
        )
    ]


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
        )
    ]


def methylprednisolone_equivalent(record: ProcedureRecord, steroids: dict[str, Steroid]) -> Decimal:
    """The record's steroid dose in methylprednisolone-equivalent mg (the catalog's factor);
    the one conversion the safety check and the physician's view both use."""
    if not record.steroid_id or record.steroid_dose_mg is None:
        return Decimal(0)
    return record.steroid_dose_mg * steroids[record.steroid_id].methylprednisolone_factor


def steroid_rule(ctx: Context) -> list[Finding]:
    if ctx.procedure_type.steroid == Usage.NO:
        return []
    found = []
    with_steroid = [r for r in ctx.records if r.steroid_id]
    gap = int(ctx.threshold("steroid_min_interval_days"))
    if with_steroid:
        last = local_day(with_steroid[0])
        if (ctx.planned_date - last).days < gap:
            found.append(
                Finding(
                    "steroid_interval",
                    BLOCK,
                    f"The last steroid injection was on {last:%Y-%m-%d}; at least {gap} days must pass "
                    f"(earliest {last + timedelta(days=gap):%Y-%m-%d}).",
                    "KOHAN 2017 (practice-configurable)",
                )
            )
    cap = ctx.threshold("steroid_annual_cap_mg")
    total = sum(
        (
            methylprednisolone_equivalent(r, ctx.steroids)
            for r in with_steroid
            if local_day(r) >= ctx.window_start()
        ),
        Decimal(0),
    )
    if total >= cap:
        severity, verb = BLOCK, "has reached"
    elif total >= cap * ctx.threshold("steroid_annual_warn_percent") / 100:
        severity, verb = WARN, "is close to"
    else:
        return found
    found.append(
        Finding(
            "steroid_cumulative",
            severity,
            f"Steroid in the last 12 months: {_num(total)} mg methylprednisolone-equivalent, which "
            f"{verb} the cap of {_num(cap)} mg.",
            "Interv Pain Med 2022 (unconfirmed; practice-configurable)",
            {"total_mg": str(total)},
        )
    )
    return found


def prior_auth_rule(ctx: Context) -> list[Finding]:
    order = ctx.order
    if order is None or order.auth_status == AuthStatus.NOT_NEEDED:
        return []
    if order.auth_status == AuthStatus.DENIED:
        return [Finding("prior_auth", BLOCK, "Prior authorization was denied.", "Payer")]
    if order.auth_status == AuthStatus.PENDING:
        return [
            Finding(
                "prior_auth",
                WARN,
                "Prior authorization is pending; it must be approved first.",
                "Payer",
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
    return [Finding("sedation", INFO, reason, "intake.md; KOHAN 2017")]


RULES = [
    levels_rule,
    anticoagulant_rule,
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
    scs_rule,
    steroid_rule,
    prior_auth_rule,
    sedation_rule,
]


def run_rules(ctx: Context) -> list[Finding]:
    findings = [finding for rule in RULES for finding in rule(ctx)]
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
