"""The physician's view of one patient: a timeline, the pain and function chart, relief after
each procedure, per-region ledgers against the payer limits, the diagnostic-block pathway and
what the upcoming procedures need. Loaded in a fixed number of queries, whatever the history.

The ledgers and the pathway are worked out by the safety check's own rules
(procedures/safety.py) on the same records and thresholds, so this page and the check at
booking cannot disagree."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Field, Model, Prefetch
from django.urls import reverse
from django.utils import timezone

from notifications.models import Message
from patients.models import (
    Allergy,
    Assessment,
    BodyRegion,
    Condition,
    ImplantedDevice,
    IntakeSubmission,
    LabResult,
    Medication,
    Patient,
    ProcedureAllergyClass,
    UrgentFlag,
)
from patients.urgent import phq9_item9, reason_label
from procedures import safety
from procedures.models import (
    NOTE_SECTIONS,
    AnticoagulantRule,
    ProcedureNote,
    ProcedureOrder,
    ProcedureOutcome,
    ProcedureRecord,
    ProcedureType,
    SafetyThreshold,
    Steroid,
)
from procedures.payer_rules import rule_set_for
from scheduling.models import HOLDS_TIME, Appointment

KINDS = {
    "visit": "Visits",
    "procedure": "Procedures",
    "assessment": "Assessments",
    "intake": "Intake",
    "message": "Messages",
    "order": "Orders",
    "note": "Procedure notes",
}
REGIONS = {
    "cervical_thoracic": "Cervical and thoracic spine",
    "lumbar_sacral": "Lumbar spine and sacrum",
    "sacroiliac": "Sacroiliac joint",
    "thoracolumbar": "Thoracolumbar (vertebral augmentation)",
    "spine": "Spine (stimulators and pumps)",
    "knee": "Knee",
    "head": "Head",
    "other": "Elsewhere",
}
# Where a pain score or disability index belongs among the procedure regions.
BODY_TO_REGION = {
    BodyRegion.NECK: "cervical_thoracic",
    BodyRegion.UPPER_BACK: "cervical_thoracic",
    BodyRegion.SHOULDER: "cervical_thoracic",
    BodyRegion.ARM: "cervical_thoracic",
    BodyRegion.LOW_BACK: "lumbar_sacral",
    BodyRegion.LEG: "lumbar_sacral",
    BodyRegion.SACROILIAC: "sacroiliac",
    BodyRegion.HIP: "sacroiliac",
    BodyRegion.KNEE: "knee",
    BodyRegion.HEAD: "head",
}
INSTRUMENT_REGION = {"odi": "lumbar_sacral", "ndi": "cervical_thoracic"}
CHART_SERIES = [
    ("nrs", "Pain (NRS 0-10)", "nrs"),
    ("odi", "Oswestry Disability Index (%)", "percent"),
    ("ndi", "Neck Disability Index (%)", "percent"),
]
# The payer-limited families per spinal region, as the safety check counts them.
LEDGER_ROWS = {
    "cervical_thoracic": [
        ("esi", "Epidural steroid injections"),
        ("mbb", "Medial branch blocks"),
        ("rfa", "Radiofrequency ablations"),
    ],
    "lumbar_sacral": [
        ("esi", "Epidural steroid injections"),
        ("mbb", "Medial branch blocks"),
        ("facet_injection", "Facet joint injections"),
        ("rfa", "Radiofrequency ablations"),
    ],
}
RFA_FOR_REGION = {"cervical_thoracic": "rfa_ct", "lumbar_sacral": "rfa_ls"}
MBB_FOR_REGION = {"cervical_thoracic": "mbb_ct", "lumbar_sacral": "mbb_ls"}
NOTE_TEXT = [f"note__{name}" for name, _ in NOTE_SECTIONS] + ["note__consent_override_reason"]
PATHWAY_CODES = ["scs_implant", *RFA_FOR_REGION.values(), *MBB_FOR_REGION.values()]


@dataclass
class Loaded:
    """Everything the view reads, in one query per list."""

    patient: Patient
    today: date
    records: list
    outcomes_by_record: dict
    assessments: list
    appointments: list
    intakes: list
    messages: list
    orders: list
    medications: list
    allergies: list
    conditions: list
    devices: list
    labs: list
    thresholds: dict
    steroids: dict
    hold_rules: list
    pathway_types: dict
    urgent_flags: list = field(default_factory=list)
    default_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(settings.TIME_ZONE))


def load(patient, today: date) -> Loaded:
    outcomes = Prefetch("outcomes", queryset=ProcedureOutcome.objects.order_by("measured_at"))
    records = list(
        ProcedureRecord.objects.filter(patient=patient)
        .select_related("procedure_type", "steroid", "location", "performer", "note")
        .defer(*NOTE_TEXT)  # the timeline shows that a note was signed, not its text
        .prefetch_related(outcomes)
        .order_by("-performed_at")
    )
    return Loaded(
        patient=patient,
        today=today,
        records=records,
        outcomes_by_record={r.pk: list(r.outcomes.all()) for r in records},
        assessments=list(Assessment.objects.filter(patient=patient).order_by("taken_at")),
        appointments=list(
            Appointment.objects.filter(patient=patient)
            .select_related(
                "appointment_type", "provider", "location", "procedure_order__procedure_type"
            )
            .order_by("-start")
        ),
        intakes=list(IntakeSubmission.objects.filter(patient=patient).order_by("-created_at")),
        messages=list(
            Message.objects.filter(patient=patient)
            .only("id", "kind", "variant", "channel", "state", "due_at", "sent_at", "location")
            .select_related("location")
            .order_by("-due_at")
        ),
        orders=list(
            ProcedureOrder.objects.filter(patient=patient)
            .select_related("procedure_type")
            .order_by("-ordered_at")
        ),
        medications=list(Medication.objects.filter(patient=patient).order_by("name")),
        allergies=list(Allergy.objects.filter(patient=patient).order_by("substance")),
        conditions=list(Condition.objects.filter(patient=patient).order_by("kind")),
        devices=list(ImplantedDevice.objects.filter(patient=patient).order_by("kind")),
        labs=list(LabResult.objects.filter(patient=patient, taken_on__lte=today)),
        # The payer's own limits over the Medicare LCD's (no query without a payer).
        thresholds=rule_set_for(patient).thresholds(
            {t.key: t.value for t in SafetyThreshold.objects.all()}
        ),
        steroids={s.name: s for s in Steroid.objects.all()},
        hold_rules=list(AnticoagulantRule.objects.all()),
        pathway_types={t.code: t for t in ProcedureType.objects.filter(code__in=PATHWAY_CODES)},
        urgent_flags=list(
            UrgentFlag.objects.filter(patient=patient, acknowledged_at__isnull=True).order_by(
                "raised_at", "reason"
            )
        ),
    )


def plain(value: Decimal) -> str:
    """30, 7.5, 0.25 — never 3E+1."""
    return format(value.normalize(), "f")


def _context(data: Loaded, procedure_type: ProcedureType) -> safety.Context:
    """The safety check's context for `procedure_type` planned today, built by the safety
    check's own rules from the rows this view already loaded."""
    return safety.context_from_rows(
        patient=data.patient,
        procedure_type=procedure_type,
        planned_date=data.today,
        today=data.today,
        chart=safety.ChartRows(
            medications=data.medications,
            allergies=data.allergies,
            conditions=data.conditions,
            devices=data.devices,
            labs=data.labs,
        ),
        records=data.records,
        thresholds=data.thresholds,
        hold_rules=data.hold_rules,
        steroids=data.steroids,
    )


# --- Timeline -----------------------------------------------------------------------------------


@cache
def _choice_labels(model: type[Model], field_name: str) -> dict:
    return dict(cast(Field, model._meta.get_field(field_name)).flatchoices)


def _label(row: Model, field_name: str) -> str:
    """What `row.get_<field>_display()` says, without building the field's choices again on
    each call: a long timeline asks about a thousand times."""
    value = getattr(row, field_name)
    return str(_choice_labels(type(row), field_name).get(value, value))


def _zone_of(data: Loaded, location) -> ZoneInfo:
    return location.zone if location is not None else data.default_zone


def _procedure_summary(record) -> str:
    parts = [record.procedure_type.name]
    if record.side:
        parts.append(_label(record, "side").lower())
    if record.levels:
        parts.append(", ".join(record.levels))
    return " · ".join(parts)


def _event(kind, at, title, *, region="", detail=None, zone, ref=None, url="") -> dict:
    return {
        "url": url,
        "kind": kind,
        "at": at,
        "local": at.astimezone(zone),
        "title": title,
        "region": region,
        "detail": detail or {},
        "id": str(ref) if ref else "",
    }


def _procedure_events(data: Loaded) -> list[dict]:
    events = []
    for r in data.records:
        steroid = f"{r.steroid_id} {plain(r.steroid_dose_mg)} mg" if r.steroid_id else "none"
        detail = {
            "Side and levels": " ".join(filter(None, [_label(r, "side"), ", ".join(r.levels)]))
            or "not applicable",
            "Steroid": steroid,
            "Guidance": _label(r, "guidance"),
            "Pain before and after": f"{r.pre_nrs} → {r.post_nrs}",
            "Best relief": f"{r.best_relief_percent}%"
            if r.best_relief_percent is not None
            else "not yet known",
            "Complications": r.complications or "none recorded",
            "Performed by": r.performer.display_name,
        }
        events.append(
            _event(
                "procedure",
                r.performed_at,
                _procedure_summary(r),
                region=r.procedure_type.region,
                detail=detail,
                zone=r.location.zone,
                ref=r.pk,
            )
        )
    return events


def _signed_note(record) -> ProcedureNote | None:
    try:
        note = record.note
    except ProcedureNote.DoesNotExist:
        return None
    return note if note.is_signed else None


def _note_events(data: Loaded) -> list[dict]:
    """Each signed procedure note, when it was signed, linking to the note."""
    events = []
    for r in data.records:
        note = _signed_note(r)
        if note is not None and note.signed_at is not None:
            events.append(
                _event(
                    "note",
                    note.signed_at,
                    f"Procedure note signed by {note.signer_name}: {_procedure_summary(r)}",
                    region=r.procedure_type.region,
                    zone=r.location.zone,
                    ref=note.pk,
                    url=reverse("procedures:note", args=[r.pk]),
                )
            )
    return events


def _assessment_region(assessment) -> str:
    if assessment.body_region:
        return BODY_TO_REGION.get(assessment.body_region, "other")
    return INSTRUMENT_REGION.get(assessment.instrument, "")


def _item9(assessment) -> str:
    """ " · item 9: 1 (self-harm)" beside a PHQ-9 total: the answer a physician must see."""
    if assessment.instrument != "phq9":
        return ""
    answer = phq9_item9(assessment.items)
    if answer is None:
        return ""
    return f" · item 9: {answer}" + (" (thoughts of self-harm)" if answer > 0 else "")


def _assessment_events(data: Loaded) -> list[dict]:
    return [
        _event(
            "assessment",
            a.taken_at,
            f"{_label(a, 'instrument')}: {plain(a.total)}"
            + (f" ({a.band})" if a.band else "")
            + _item9(a)
            + (f" · {_label(a, 'body_region').lower()}" if a.body_region else ""),
            region=_assessment_region(a),
            zone=data.default_zone,
            ref=a.pk,
        )
        for a in data.assessments
    ]


def _visit_events(data: Loaded) -> list[dict]:
    events = []
    for a in data.appointments:
        order = a.procedure_order
        what = order.procedure_type.name if order else a.appointment_type.name
        events.append(
            _event(
                "visit",
                a.start,
                f"{what} with {a.provider.display_name} at {a.location.name}: {_label(a, 'status').lower()}",
                region=order.procedure_type.region if order else "",
                zone=a.location.zone,
                ref=a.pk,
            )
        )
    return events


def _other_events(data: Loaded) -> list[dict]:
    events = [
        _event(
            "intake",
            i.submitted_at or i.created_at,
            f"Intake {_label(i, 'status').lower()}" + (" · urgent" if i.urgent else ""),
            zone=data.default_zone,
            ref=i.pk,
        )
        for i in data.intakes
    ]
    events += [
        _event(
            "message",
            m.sent_at or m.due_at,
            f"{_label(m, 'kind')}{f' ({m.variant})' if m.variant else ''} by "
            f"{_label(m, 'channel').lower()}: {_label(m, 'state').lower()}",
            zone=_zone_of(data, m.location),
            ref=m.pk,
        )
        for m in data.messages
    ]
    events += [
        _event(
            "order",
            o.ordered_at,
            f"Ordered {o.procedure_type.name}: {_label(o, 'status').lower()}",
            region=o.procedure_type.region,
            zone=data.default_zone,
            ref=o.pk,
        )
        for o in data.orders
    ]
    return events


def timeline(data: Loaded, *, kinds=None, region=None) -> list[dict]:
    events = (
        _procedure_events(data)
        + _note_events(data)
        + _assessment_events(data)
        + _visit_events(data)
        + _other_events(data)
    )
    if kinds:
        events = [e for e in events if e["kind"] in kinds]
    if region:
        events = [e for e in events if e["region"] == region]
    return sorted(events, key=lambda e: e["at"], reverse=True)


# --- Chart and relief ---------------------------------------------------------------------------


def _points(assessments: list) -> list[dict]:
    return [{"t": a.taken_at.isoformat(), "y": float(a.total)} for a in assessments]


def _pain_series(assessments: list) -> list[dict]:
    """One NRS line per body region, in the regions' order: low-back and leg scores of the
    same day are two lines, never one saw-tooth line."""
    by_region: dict[str, list] = {}
    for a in assessments:
        by_region.setdefault(a.body_region, []).append(a)
    return [
        {
            "key": f"nrs_{body_region}",
            "label": f"Pain, {str(label).lower()} (NRS 0-10)",
            "axis": "nrs",
            "region": body_region,
            "points": _points(by_region[body_region]),
        }
        for body_region, label in BodyRegion.choices
        if body_region in by_region
    ]


def chart(data: Loaded, *, region=None) -> dict:
    """The chart's lines (pain per body region, then ODI and NDI) and procedure marks."""
    shown = [a for a in data.assessments if not region or _assessment_region(a) == region]
    series = _pain_series([a for a in shown if a.instrument == "nrs"])
    for key, label, axis in CHART_SERIES:
        if key != "nrs":
            points = _points([a for a in shown if a.instrument == key])
            series.append({"key": key, "label": label, "axis": axis, "points": points})
    procedures = [
        {
            "t": r.performed_at.isoformat(),
            "label": _procedure_summary(r),
            "name": r.procedure_type.name,
            "id": str(r.pk),
        }
        for r in sorted(data.records, key=lambda r: r.performed_at)
        if not region or r.procedure_type.region == region
    ]
    return {"series": series, "procedures": procedures}


def relief(data: Loaded) -> list[dict]:
    """Each procedure, newest first, with its percent relief at each follow-up."""
    rows = []
    for r in data.records:
        follow_ups = [
            {
                "days": (o.measured_at - r.performed_at).days,
                "hours": round((o.measured_at - r.performed_at).total_seconds() / 3600, 1),
                "nrs": o.nrs,
                "percent_relief": o.percent_relief,
                "pgic": o.pgic,
                "source": o.source,
            }
            for o in data.outcomes_by_record[r.pk]
        ]
        rows.append(
            {
                "record": r,
                "summary": _procedure_summary(r),
                "baseline": r.pre_nrs,
                "follow_ups": follow_ups,
                "best": r.best_relief_percent,
            }
        )
    return rows


# --- Ledgers and pathway -------------------------------------------------------------------------


def _limit_key(family: str, region: str) -> str:
    if family == "rfa":
        return "rfa_max_sessions"
    return safety.SESSION_LIMITS[family][0]


def ledgers(data: Loaded) -> dict:
    """Per spinal region: sessions in the rolling window against the payer limits, steroid
    (methylprednisolone-equivalent) in the window and days since the last steroid there;
    and the patient's steroid total against the cap, across regions."""
    today = data.today
    window = int(data.thresholds["frequency_window_days"])
    since = today - timedelta(days=window)
    in_window = [r for r in data.records if since <= safety.local_day(r) <= today]
    regions = []
    for region, families in LEDGER_ROWS.items():
        rows = []
        for family, label in families:
            # Sessions as payers count them: one per day in the region, sides and levels
            # together (the safety check's own count).
            count = len(
                safety.session_days(
                    r
                    for r in in_window
                    if r.procedure_type.family == family and r.procedure_type.region == region
                )
            )
            limit = int(data.thresholds[_limit_key(family, region)])
            rows.append(
                {
                    "family": family,
                    "label": label,
                    "count": count,
                    "limit": limit,
                    "at_limit": count >= limit,
                }
            )
        steroid_records = [
            r
            for r in data.records
            if r.steroid_id and r.procedure_type.region == region and safety.local_day(r) <= today
        ]
        regions.append(
            {
                "region": region,
                "label": REGIONS[region],
                "rows": rows,
                "steroid_mg": sum(
                    (
                        safety.methylprednisolone_equivalent(r, data.steroids)
                        for r in steroid_records
                        if safety.local_day(r) >= since
                    ),
                    Decimal(0),
                ),
                "days_since_steroid": (today - safety.local_day(steroid_records[0])).days
                if steroid_records
                else None,
            }
        )
    return {"window_days": window, "regions": regions, "steroid": _steroid_total(data, since)}


def _steroid_total(data: Loaded, since: date) -> dict:
    today = data.today
    with_steroid = [r for r in data.records if r.steroid_id and safety.local_day(r) <= today]
    total = sum(
        (
            safety.methylprednisolone_equivalent(r, data.steroids)
            for r in with_steroid
            if safety.local_day(r) >= since
        ),
        Decimal(0),
    )
    gap = int(data.thresholds["steroid_min_interval_days"])
    last = safety.local_day(with_steroid[0]) if with_steroid else None
    return {
        "total_mg": total,
        "cap_mg": data.thresholds["steroid_annual_cap_mg"],
        "last": last,
        "days_since": (today - last).days if last else None,
        "next_allowed": last + timedelta(days=gap) if last else None,
        # A "no earlier than" day already past is no limit: the page says "eligible now".
        "eligible_now": last is None or last + timedelta(days=gap) <= today,
    }


def _findings(data: Loaded, code: str, rules) -> list:
    kind = data.pathway_types.get(code)
    if kind is None:
        return []
    ctx = _context(data, kind)
    return [f for rule in rules for f in rule(ctx)]


def _blocks(data: Loaded, code: str, rules) -> list:
    return [f for f in _findings(data, code, rules) if f.severity == safety.BLOCK]


def _block(block: safety.BlockRelief, positive_at) -> dict:
    """A diagnostic block's relief as the RFA rule counts it: the record's own NRS or a
    follow-up within the anaesthetic's duration, saying which (and what did not count)."""
    return {
        "record": block.record,
        "day": block.day,
        "relief": block.percent,
        "relief_from": block.how,
        "not_counted": list(block.not_counted),
        "positive": block.positive(positive_at),
    }


def pathway(data: Loaded) -> dict:
    """The diagnostic blocks per spinal region and whether RFA is covered now (the safety
    check's RFA rule, planned today); the SCS trial and whether an implant is covered."""
    positive_at = data.thresholds["mbb_positive_relief"]
    regions = []
    for region, rfa_code in RFA_FOR_REGION.items():
        blocks = [
            _block(safety.block_relief(r, data.thresholds), positive_at)
            for r in data.records
            if r.procedure_type.family == "mbb" and r.procedure_type.region == region
        ]
        rfas = [r for r in data.records if r.procedure_type.code == rfa_code]
        if not blocks and not rfas:
            continue
        findings = _findings(data, rfa_code, [safety.rfa_rule])
        refusals = [f for f in findings if f.severity == safety.BLOCK]
        regions.append(
            {
                "region": region,
                "label": REGIONS[region],
                "blocks": blocks,
                "last_rfa": rfas[0] if rfas else None,
                "rfa_qualifies": not refusals,
                # Why it does or does not qualify: which blocks counted and why others not.
                "rfa_reason": (refusals or findings)[0].reason if findings else "",
            }
        )
    trials = [r for r in data.records if r.procedure_type.code == "scs_trial"]
    scs = None
    if trials:
        refusals = _blocks(data, "scs_implant", [safety.scs_rule])
        scs = {
            "trial": trials[0],
            "relief": trials[0].best_relief_percent,
            "threshold": data.thresholds["scs_trial_min_relief"],
            "implant_qualifies": not refusals,
        }
    return {"positive_at": positive_at, "regions": regions, "scs": scs}


# --- Safety before the next procedures ---------------------------------------------------------


def upcoming_procedures(data: Loaded) -> list[dict]:
    now = timezone.now()
    upcoming = [
        a
        for a in reversed(data.appointments)
        if a.procedure_order is not None and a.start > now and a.status in HOLDS_TIME
    ]
    return [
        {
            "appointment": a,
            "local": a.start.astimezone(a.location.zone),
            "procedure": a.procedure_order.procedure_type.name,
            "findings": a.procedure_order.findings or a.findings,
        }
        for a in upcoming
    ]


def medications_with_holds(data: Loaded, upcoming: list[dict]) -> list[dict]:
    """Current medications; for each, the hold an upcoming procedure needs (its date)."""
    rows = []
    for medication in data.medications:
        if not safety.in_effect(medication, data.today):
            continue
        holds = [
            {
                "procedure": u["procedure"],
                "when": u["local"],
                "reason": f["reason"],
                "hold_start": (f.get("details") or {}).get("hold_start"),
                "severity": f["severity"],
            }
            for u in upcoming
            for f in u["findings"]
            if f["code"].startswith("hold") and medication.name.lower() in f["reason"].lower()
        ]
        rows.append(
            {"medication": medication, "bleeding": medication.affects_bleeding, "holds": holds}
        )
    return rows


def patient_history(*, patient, kinds=None, region=None, today: date | None = None) -> dict:
    today = today or timezone.localdate()
    data = load(patient, today)
    upcoming = upcoming_procedures(data)
    return {
        "patient": patient,
        "today": today,
        "events": timeline(data, kinds=kinds, region=region),
        "chart": chart(data, region=region),
        "relief": relief(data),
        "ledgers": ledgers(data),
        "pathway": pathway(data),
        "upcoming": upcoming,
        "medications": medications_with_holds(data, upcoming),
        "allergies": [
            a
            for a in data.allergies
            if safety.in_effect(a, today) and a.procedure_class != ProcedureAllergyClass.NONE
        ],
        "other_allergies": [
            a
            for a in data.allergies
            if safety.in_effect(a, today) and a.procedure_class == ProcedureAllergyClass.NONE
        ],
        "conditions": [c for c in data.conditions if safety.in_effect(c, today)],
        "devices": [d for d in data.devices if safety.in_effect(d, today)],
        "kinds": KINDS,
        "regions": REGIONS,
        "urgent_flags": [_labelled(f) for f in data.urgent_flags],
    }


def _labelled(flag):
    flag.label = reason_label(flag.reason)
    return flag
