"""Procedure histories and open orders for the demo patients.

About a third of the demo patients get 12-18 months of procedures that fit their pain
regions: epidural steroid injections (some patients with four in a year, so a fifth is
blocked), the facet pathway (two positive medial branch blocks, then radiofrequency
ablation, and a patient whose second block was negative), a cervical transforaminal ESI
with dexamethasone, genicular blocks and ablation, sacroiliac injections, trigger point
injections and a spinal cord stimulator trial. Outcomes are entered as NRS scores so the
percent relief is computed; diagnostic blocks have a pain diary over the hours after.

A handful of orders stay open: waiting for prior authorization (the stimulator implant requested
from the payer, its answer awaited), authorized, ready to be
booked in the coming weeks (the portal patient's among them; scheduling.demo books their
visits, which schedules them), one cancelled, and some with a blocking safety finding nobody
has resolved, so the clinician has something to look at.

Everything goes through the services, so it passes the same validation and safety check
as real input; past procedures are recorded as performed (an order cannot be scheduled
in the past), upcoming ones go through orders. Who gets what
depends only on the chart plans of patients.demo and each history draws from its own
random.Random, so every run builds the same clinic; a patient who already has a procedure
record or order is left alone, so seeding twice adds nothing.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from clinic.core.demo import DemoContext
from clinic.users.actor import Actor
from patients.models import BodyRegion, Patient
from sites.demo import PROVIDERS
from sites.models import Provider, ProviderKind

from .consent import consent_record
from .models import (
    AuthStatus,
    Guidance,
    OrderStatus,
    ProcedureOrder,
    ProcedureOutcome,
    ProcedureRecord,
    ProcedureType,
    Steroid,
    Urgency,
)
from .services import (
    order_authorize,
    order_cancel,
    order_create,
    order_override,
    order_refresh_findings,
    order_request_authorization,
    order_set_authorization,
    outcome_record,
    record_create,
    unresolved_blocks,
)

AUTH_VALID_DAYS = 90
# The orders made ready for a visit, which scheduling.demo books after this seeder (the
# context key both read).
ORDERS_TO_BOOK = "procedure orders to book"
# Payers do not ask for prior authorization for these.
NO_AUTH = {"trigger_point", "joint_large", "genicular_block", "occipital_block"}
DIARY_HOURS = [1, 2, 4, 6]

# Indexes into patients.demo.BLEEDING_REGIMENS: clopidogrel, warfarin, aspirin with
# clopidogrel (each held 5-7 days before an intermediate-risk procedure), and enoxaparin
# (a short course whose end depends on the day the chart was built).
LONG_HOLD = {1, 3, 6}
SHORT_COURSE = 4
CONTRAST_ALLERGY, CHLORHEXIDINE_ALLERGY = 0, 2  # indexes into the allergies of patients.demo

# Why a clinician went ahead despite a blocking finding, by the start of the finding code.
OVERRIDE_REASONS = {
    "cardiac_device": (
        "Device plan documented with cardiology: the device representative sets the pacemaker "
        "to asynchronous pacing for the ablation and checks it afterwards; bipolar probes, "
        "grounding pad placed away from the generator."
    ),
    "hold:": (
        "Held for the required interval before the procedure as agreed with the prescriber; "
        "the patient confirmed the last dose on the day."
    ),
}
# For a finding the demo did not plan for (the safety rules grow).
OTHER_OVERRIDE_REASON = (
    "Reviewed with the patient and the referring physician; the benefit outweighs this risk. "
    "Plan documented in the procedure note."
)

# Minor complications recorded on some single procedures (none needed treatment).
SIMPLE_COMPLICATIONS = [
    "Transient vasovagal reaction after the injection; resolved lying flat, discharged.",
    "Increased pain at the injection site for two days (patient called); resolved with ice.",
]

LUMBAR_LEVELS = [["L4-L5", "L5-S1"], ["L5-S1"], ["L4-L5"]]
FACET_LEVELS = [["L4-L5", "L5-S1"], ["L3-L4", "L4-L5"]]
CERVICAL_LEVELS = [["C5-C6"], ["C6-C7"]]
LIDOCAINE_SKIN = "lidocaine 1% 2 mL (skin)"
ESI_CONTRAST = "iohexol 240 mgI/mL, 2 mL"
FACET_CONTRAST = "iohexol 240 mgI/mL, 0.3 mL per level"


@dataclass
class FollowUp:
    """An outcome `after` the procedure with `relief` (0-1) from the pre-procedure NRS."""

    after: timedelta
    relief: float
    source: str = "clinic"


def diary(*reliefs: float) -> list[FollowUp]:
    """The pain diary of a diagnostic block, over the hours of the local anaesthetic."""
    return [
        FollowUp(timedelta(hours=hours), relief, "diary")
        for hours, relief in zip(DIARY_HOURS, reliefs, strict=False)
    ]


def weeks(count: int, relief: float, source: str = "clinic") -> FollowUp:
    return FollowUp(timedelta(weeks=count), relief, source)


def two_weeks(relief: float) -> FollowUp:
    return FollowUp(timedelta(days=14), relief, "phone")


def months(count: int, relief: float) -> FollowUp:
    return FollowUp(timedelta(days=round(30.5 * count) + 3), relief)


def _weekday_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _weekday_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _pgic(relief: float) -> int:
    """Patient global impression of change on the chart's scale (patients.instruments
    PGIC_ANSWERS): 1 very much improved, 2 much, 3 minimally improved, 4 no change."""
    return 1 if relief >= 0.75 else 2 if relief >= 0.5 else 3 if relief >= 0.3 else 4


class History:
    """Writes one patient's procedures, orders and outcomes through the services."""

    def __init__(self, ctx: DemoContext, patient: Patient, plan, index: int, shared: dict):
        self.ctx, self.patient, self.plan = ctx, patient, plan
        self.rng = random.Random(f"procedures-demo:{index}")
        self.kinds: dict[str, ProcedureType] = shared["kinds"]
        self.steroids: dict[str, Steroid] = shared["steroids"]
        self.location = patient.home_location or ctx.made["locations"][0]
        self.zone = self.location.zone
        self.today = timezone.localdate()
        self.physician = ctx.made["physician"]
        self.frontdesk = ctx.made["frontdesk"]
        # Each physician's locations are prefetched (_shared), so this asks no queries.
        here = [p for p in shared["physicians"] if self.location in p.locations.all()]
        here = here or shared["physicians"]
        # The demo clinician does more of the procedures, so their login shows them.
        self.performers = here + [p for p in here if p.user_id == self.physician.pk]

    # --- Dates ----------------------------------------------------------------------------

    def day(self, days_ago: int) -> date:
        return _weekday_before(self.today - timedelta(days=days_ago))

    def future(self, days: int) -> date:
        return _weekday_after(self.today + timedelta(days=days))

    def at(self, day: date) -> datetime:
        slot = time(self.rng.randint(7, 13), self.rng.choice([0, 15, 30, 45]))
        return datetime.combine(day, slot, tzinfo=self.zone)

    # --- Orders ---------------------------------------------------------------------------

    def order(
        self,
        code: str,
        *,
        indication: tuple[str, str],
        side: str = "",
        levels=(),
        urgency: str = Urgency.ROUTINE,
        notes: str = "",
        planned: date | None = None,
    ) -> ProcedureOrder:
        return order_create(
            patient=self.patient,
            procedure_type=self.kinds[code],
            by=Actor.seeding(self.physician),
            side=side,
            levels=list(levels),
            indication_code=indication[0],
            indication_text=indication[1],
            urgency=urgency,
            notes=notes,
            planned_date=planned,
            auth_status=AuthStatus.NOT_NEEDED if code in NO_AUTH else AuthStatus.PENDING,
        )

    def request_authorization(self, order: ProcedureOrder) -> ProcedureOrder:
        """The front desk sent the request to the payer."""
        return order_request_authorization(order=order, by=Actor.seeding(self.frontdesk))

    def approve(self, order: ProcedureOrder, on: date) -> ProcedureOrder:
        """The payer approved on `on` (the front desk requested it, then enters the answer),
        if approval is needed."""
        if order.auth_status == AuthStatus.NOT_NEEDED:
            return order
        order = self.request_authorization(order)
        return order_set_authorization(
            order=order,
            auth_status=AuthStatus.APPROVED,
            auth_number=f"PA{self.rng.randrange(10**8, 10**9)}",
            auth_expires=on + timedelta(days=AUTH_VALID_DAYS),
            by=Actor.seeding(self.frontdesk),
        )

    def authorize(self, order: ProcedureOrder, approved_on: date) -> ProcedureOrder:
        order = self.approve(order, approved_on)
        return order_authorize(order=order, by=Actor.seeding(self.frontdesk))

    def schedule(self, order: ProcedureOrder, planned: date) -> ProcedureOrder:
        """Make it ready to book on `planned`: the safety check runs for that day and a
        clinician overrides the blocks the demo has a reason for. The visit itself is booked
        by scheduling.demo.seed_procedure_visits (only a booked visit schedules an order)."""
        order = order_refresh_findings(order=order, planned_date=planned)
        for finding in unresolved_blocks(order):
            reason = next(
                (text for key, text in OVERRIDE_REASONS.items() if finding["code"].startswith(key)),
                OTHER_OVERRIDE_REASON,
            )
            order_override(
                order=order,
                finding_code=finding["code"],
                reason=reason,
                by=Actor.seeding(self.physician),
            )
        self.consent(order)
        self.ctx.made.setdefault(ORDERS_TO_BOOK, []).append(order.pk)
        return order

    def consent(self, order: ProcedureOrder) -> None:
        """Consent taken at the visit that planned it (a fixed time, so that the demo's other
        random choices stay as they were), with every risk of the catalog's list."""
        consent_record(
            order=order,
            by=Actor.seeding(self.physician),
            risks_discussed=order.procedure_type.consent_risks,
            obtained_at=datetime.combine(self.day(3), time(10), tzinfo=self.zone),
            alternatives_discussed=True,
            questions_answered=True,
        )

    def scheduled_today(self, code: str, **order_fields) -> ProcedureOrder:
        """Ready to book today, whatever the day: the demo physician's procedure list
        (scheduling.demo.seed_todays_procedures books it first)."""
        order = self.order(code, **order_fields)
        order = self.authorize(order, approved_on=self.today - timedelta(self.rng.randint(1, 6)))
        return self.schedule(order, self.today)

    def scheduled(self, code: str, in_days: int, **order_fields) -> ProcedureOrder:
        planned = self.future(in_days)
        order = self.order(code, **order_fields)
        order = self.authorize(order, approved_on=self.today - timedelta(self.rng.randint(1, 6)))
        return self.schedule(order, planned)

    # --- Performed procedures --------------------------------------------------------------

    def perform(
        self,
        code: str,
        days_ago: int,
        *,
        indication: tuple[str, str],
        pre: int,
        post: int,
        follow_ups=(),
        side: str = "",
        levels=(),
        steroid: tuple[str, int] | None = None,
        guidance: str = Guidance.FLUOROSCOPY,
        local: str = LIDOCAINE_SKIN,
        contrast: str = "",
        notes: str = "",
        complications: str = "",
    ) -> ProcedureRecord:
        day = self.day(days_ago)
        fields = {
            "performed_at": self.at(day),
            "performer": self.rng.choice(self.performers),
            "location": self.location,
            "side": side,
            "levels": list(levels),
            "guidance": guidance,
            "steroid": self.steroids[steroid[0]] if steroid else None,
            "steroid_dose_mg": Decimal(steroid[1]) if steroid else None,
            "local_anaesthetic": local,
            "contrast": contrast,
            "pre_nrs": pre,
            "post_nrs": post,
            "complications": complications,
            "notes": self._notes(notes, steroid),
        }
        # Past procedures are recorded as done: an order cannot be scheduled in the past.
        record = record_create(
            by=Actor.seeding(self.physician),
            patient=self.patient,
            procedure_type=self.kinds[code],
            **fields,
        )
        now = timezone.now()
        for follow_up in follow_ups:
            measured = record.performed_at + follow_up.after
            if follow_up.after >= timedelta(days=1):  # a visit or a call in office hours
                slot = time(self.rng.randint(8, 15), self.rng.choice([0, 15, 30, 45]))
                measured = datetime.combine(
                    _weekday_after(measured.astimezone(self.zone).date()), slot, tzinfo=self.zone
                )
            if measured >= now:
                continue
            outcome_record(
                record=record,
                nrs=max(0, min(10, round(pre * (1 - follow_up.relief)))),
                measured_at=measured,
                pgic=None if follow_up.source == "diary" else _pgic(follow_up.relief),
                source=follow_up.source,
                by=Actor.seeding(self.physician),
            )
        return record

    def _notes(self, notes: str, steroid) -> str:
        extra = []
        if self.plan.allergy == CHLORHEXIDINE_ALLERGY:
            extra.append("Skin prepped with povidone-iodine (chlorhexidine allergy).")
        if steroid and self.plan.diabetes:
            extra.append(f"Blood glucose {self.rng.randint(128, 189)} mg/dL before the procedure.")
        return " ".join([notes, *extra]).strip()

    # --- Building blocks -------------------------------------------------------------------

    def pre(self, low: int = 6, high: int = 8) -> int:
        return self.rng.randint(low, high)

    def after_block(self, pre: int) -> int:
        """NRS right after an injection with local anaesthetic."""
        return max(0, pre - self.rng.randint(3, 5))

    def side(self) -> str:
        return self.rng.choice(["left", "right"])

    def lumbar_esi(
        self, days_ago: int, follow_ups, *, code=None, side=None, levels=None, steroid=None
    ):
        code = code or ("tfesi_ls" if BodyRegion.LEG in self.plan.regions else "ilesi_ls")
        if code == "tfesi_ls":
            levels = levels or self.rng.choice(LUMBAR_LEVELS)
            steroid = steroid or self.rng.choice([("dexamethasone", 10), ("triamcinolone", 40)])
        else:
            levels = levels or [self.rng.choice(["L4-L5", "L5-S1"])]
            steroid = steroid or self.rng.choice([("triamcinolone", 80), ("triamcinolone", 40)])
        pre = self.pre()
        return self.perform(
            code,
            days_ago,
            indication=self.lumbar_indication(code),
            pre=pre,
            post=self.after_block(pre),
            side=side or self.side(),
            levels=levels,
            steroid=steroid,
            contrast=ESI_CONTRAST,
            follow_ups=follow_ups,
        )

    def lumbar_indication(self, code: str) -> tuple[str, str]:
        if code == "tfesi_ls":
            return ("M51.16", "Lumbar disc herniation with radiculopathy")
        if BodyRegion.LEG in self.plan.regions:
            return ("M54.16", "Lumbar radiculopathy")
        return ("M48.062", "Lumbar spinal stenosis with neurogenic claudication")

    def mbb(self, days_ago: int, side: str, levels, reliefs, *, first: bool, pre=None):
        pre = pre or self.pre(6, 8)
        anaesthetic = "lidocaine 2%" if first else "bupivacaine 0.5%"
        return self.perform(
            "mbb_ls",
            days_ago,
            indication=FACET_INDICATION,
            pre=pre,
            post=max(0, round(pre * (1 - reliefs[0]))),
            side=side,
            levels=levels,
            local=f"{anaesthetic} 0.5 mL per medial branch",
            contrast=FACET_CONTRAST,
            follow_ups=diary(*reliefs),
            notes="Comparative block with a short-acting anaesthetic."
            if first
            else "Comparative block with a long-acting anaesthetic.",
        )


FACET_INDICATION = ("M47.816", "Lumbar facet arthropathy (spondylosis), axial low back pain")


def _knee_indication(side: str) -> tuple[str, str]:
    if side == "left":
        return ("M17.12", "Primary osteoarthritis, left knee")
    return ("M17.11", "Primary osteoarthritis, right knee")


# --- Region-based single procedures -------------------------------------------------------


def _single(h: History) -> dict:
    """One usual procedure for the patient's main pain region (perform() arguments)."""
    region = h.plan.regions[0]
    no_contrast = h.plan.allergy == CONTRAST_ALLERGY
    side = h.side()
    pre = h.pre()
    base = {"pre": pre, "post": h.after_block(pre), "side": side}
    if region == BodyRegion.LOW_BACK and not no_contrast and not h.plan.stimulator:
        radicular = BodyRegion.LEG in h.plan.regions
        code = "tfesi_ls" if radicular else "ilesi_ls"
        return base | {
            "code": code,
            "levels": h.rng.choice(LUMBAR_LEVELS) if radicular else ["L5-S1"],
            "steroid": ("dexamethasone", 10) if radicular else ("triamcinolone", 80),
            "contrast": ESI_CONTRAST,
            "indication": ("M54.16", "Lumbar radiculopathy")
            if radicular
            else ("M48.062", "Lumbar spinal stenosis with neurogenic claudication"),
        }
    if region == BodyRegion.NECK and not no_contrast:
        return base | {
            "code": "ilesi_ct",
            "side": "",
            "levels": ["C7-T1"],
            "steroid": ("dexamethasone", 10),
            "contrast": ESI_CONTRAST,
            "indication": ("M54.12", "Cervical radiculopathy"),
        }
    if region == BodyRegion.SACROILIAC and not no_contrast:
        return base | {
            "code": "si_injection",
            "steroid": ("triamcinolone", 40),
            "local": "bupivacaine 0.5% 2 mL",
            "contrast": "iohexol 240 mgI/mL, 0.5 mL (arthrogram)",
            "indication": ("M46.1", "Sacroiliitis"),
        }
    joints = {
        BodyRegion.HIP: (
            ("M16.11", "Primary osteoarthritis, right hip")
            if side == "right"
            else ("M16.12", "Primary osteoarthritis, left hip")
        ),
        BodyRegion.KNEE: _knee_indication(side),
        BodyRegion.SHOULDER: (
            ("M19.011", "Primary osteoarthritis, right shoulder")
            if side == "right"
            else ("M19.012", "Primary osteoarthritis, left shoulder")
        ),
    }
    if region in joints:
        return base | {
            "code": "joint_large",
            "steroid": ("triamcinolone", 40),
            "guidance": Guidance.ULTRASOUND,
            "local": "lidocaine 1% 3 mL and bupivacaine 0.25% 2 mL",
            "indication": joints[region],
        }
    if region == BodyRegion.HEAD:
        return base | {
            "code": "occipital_block",
            "side": "bilateral",
            "guidance": Guidance.LANDMARK,
            "local": "bupivacaine 0.5% 2 mL each side",
            "indication": ("M54.81", "Occipital neuralgia"),
        }
    return _trigger_points(h) | {"pre": pre, "post": h.after_block(pre)}


def _trigger_points(h: History) -> dict:
    upper = {BodyRegion.NECK, BodyRegion.SHOULDER, BodyRegion.HEAD} & set(h.plan.regions)
    muscles = (
        "upper trapezius and levator scapulae, both sides"
        if upper
        else "lumbar paraspinals and gluteus medius"
    )
    return {
        "code": "trigger_point",
        "side": "",
        "guidance": Guidance.LANDMARK,
        "local": "lidocaine 1%, 1 mL at each of 4 trigger points (no steroid)",
        "notes": f"Trigger points in the {muscles}.",
        "indication": ("M79.12", "Myofascial pain, neck and shoulder muscles")
        if upper
        else ("M79.18", "Myofascial pain, low back and buttock muscles"),
    }


def _relief_course(h: History) -> tuple[float, float]:
    """Relief at two weeks and three months: good, partial or little."""
    course = h.rng.choices(["good", "partial", "little"], [5, 3, 2])[0]
    return {
        "good": (h.rng.uniform(0.6, 0.8), h.rng.uniform(0.5, 0.65)),
        "partial": (h.rng.uniform(0.4, 0.55), h.rng.uniform(0.2, 0.4)),
        "little": (h.rng.uniform(0.1, 0.3), h.rng.uniform(0.0, 0.15)),
    }[course]


def _perform_single(h: History, days_ago: int, spec: dict, follow_ups) -> ProcedureRecord:
    spec = dict(spec)
    return h.perform(spec.pop("code"), days_ago, follow_ups=follow_ups, **spec)


# --- The histories ----------------------------------------------------------------------


def portal_patient(h: History, k: int) -> None:
    """The portal login: one procedure some months ago and the repeat booked soon."""
    spec = _single(h)
    _perform_single(h, h.rng.randint(180, 220), spec, [two_weeks(0.65), months(3, 0.55)])
    h.scheduled(
        spec["code"],
        h.rng.randint(8, 16),
        indication=spec["indication"],
        side=spec.get("side", ""),
        levels=spec.get("levels", ()),
        notes="About 60% relief for three months after the last injection; pain back to 6/10.",
    )


def simple(h: History, k: int) -> None:
    """One procedure sometime in the last year, with its follow-ups."""
    spec = _single(h)
    early, late = _relief_course(h)
    # The registry's three follow-up points: 2 weeks, 3 months and 6 months.
    follow_ups = [two_weeks(early), months(3, late), months(6, late * 0.8)]
    if spec["code"] in ("trigger_point", "occipital_block"):
        follow_ups = [two_weeks(early), weeks(6, late)]
    if k % 6 == 1:  # a few minor complications, for the outcomes registry to count
        spec["complications"] = SIMPLE_COMPLICATIONS[k % len(SIMPLE_COMPLICATIONS)]
    _perform_single(h, h.rng.randint(40, 420), spec, follow_ups)


def esi_responder(h: History, k: int) -> None:
    """ESIs with lasting relief; some have the next one scheduled (two of them today) or
    authorized."""
    side = h.side()
    h.lumbar_esi(h.rng.randint(390, 460), [two_weeks(0.7), months(3, 0.6)], side=side)
    if k == 2:  # a recent one, through an order
        h.lumbar_esi(h.rng.randint(30, 50), [two_weeks(0.75)], side=side)
        return
    last = h.lumbar_esi(
        h.rng.randint(150, 200), [two_weeks(0.75), months(3, 0.6), months(4, 0.3)], side=side
    )
    repeat = {
        "indication": h.lumbar_indication(last.procedure_type.code),
        "side": side,
        "levels": last.levels,
        "notes": "60% relief for more than three months after the last ESI; pain back to 6/10.",
    }
    if k == 0:
        h.scheduled(last.procedure_type.code, h.rng.randint(7, 21), **repeat)
    elif k == 1:
        order = h.order(last.procedure_type.code, **repeat)
        h.authorize(order, approved_on=h.today - timedelta(days=2))
    else:  # on the demo physician's list today
        h.scheduled_today(last.procedure_type.code, **repeat)


def esi_frequent(h: History, k: int) -> None:
    """Four ESIs in twelve months, none lasting; a fifth is ordered and blocked."""
    side, levels = h.side(), ["L4-L5", "L5-S1"]
    sessions = [
        (h.rng.randint(330, 338), ("triamcinolone", 80)),
        (h.rng.randint(240, 250), ("dexamethasone", 10)),
        (h.rng.randint(150, 160), ("dexamethasone", 10)),
        (h.rng.randint(55, 65), ("dexamethasone", 10)),
    ]
    for days_ago, steroid in sessions:
        h.lumbar_esi(
            days_ago,
            [two_weeks(h.rng.uniform(0.4, 0.55)), weeks(6, 0.2), months(3, 0.1)],
            code="tfesi_ls",
            side=side,
            levels=levels,
            steroid=steroid,
        )
    h.order(
        "tfesi_ls",
        indication=h.lumbar_indication("tfesi_ls"),
        side=side,
        levels=levels,
        planned=h.future(14),
        notes="Pain back to 8/10 six weeks after the last ESI; relief has never lasted three "
        "months. Discuss a spinal cord stimulator evaluation or a surgical opinion.",
    )


def esi_three(h: History, k: int) -> None:
    """Three interlaminar ESIs in a year with shrinking relief."""
    side = h.side()
    for days_ago, steroid, early, late in [
        (h.rng.randint(310, 330), ("triamcinolone", 80), 0.65, 0.5),
        (h.rng.randint(195, 210), ("triamcinolone", 40), 0.55, 0.35),
        (h.rng.randint(85, 100), ("dexamethasone", 10), 0.5, 0.3),
    ]:
        h.lumbar_esi(
            days_ago,
            [two_weeks(early), weeks(6, late), months(3, late - 0.1)],
            code="ilesi_ls",
            side=side,
            levels=["L5-S1"],
            steroid=steroid,
        )


def facet_rfa(h: History, k: int) -> None:
    """Two positive medial branch blocks, then RFA that helped for nine months; the
    repeat RFA is authorized."""
    levels = h.rng.choice(FACET_LEVELS)
    first = h.rng.randint(465, 480)
    second = first - h.rng.randint(18, 25)
    ablation = second - h.rng.randint(25, 35)
    h.mbb(first, "bilateral", levels, [0.86, 0.86, 0.72, 0.43], first=True, pre=7)
    h.mbb(second, "bilateral", levels, [0.84, 0.84, 0.84, 0.67], first=False, pre=6)
    h.perform(
        "rfa_ls",
        ablation,
        indication=FACET_INDICATION,
        pre=7,
        post=5,
        side="bilateral",
        levels=levels,
        local="lidocaine 2% 1 mL per lesion before lesioning",
        notes="Medial branches ablated at 80 °C for 90 seconds per lesion after sensory and "
        "motor testing; two lesions per nerve.",
        follow_ups=[
            two_weeks(0.43),
            months(3, 0.72),
            months(6, 0.72),
            months(9, 0.57),
            months(13, 0.15),
        ],
    )
    order = h.order(
        "rfa_ls",
        indication=FACET_INDICATION,
        side="bilateral",
        levels=levels,
        notes="About 70% relief for nine months after the RFA; axial pain back to 6/10. "
        "Repeat RFA at the same levels.",
    )
    h.authorize(order, approved_on=h.today - timedelta(days=3))


def facet_negative(h: History, k: int) -> None:
    """One positive and one negative medial branch block: not an RFA candidate."""
    levels = h.rng.choice(FACET_LEVELS)
    first = h.rng.randint(95, 105)
    h.mbb(first, "bilateral", levels, [0.86, 0.86, 0.71, 0.29], first=True, pre=7)
    h.mbb(first - h.rng.randint(22, 28), "bilateral", levels, [0.43, 0.29, 0.29, 0.14], first=False)


def facet_pacemaker(h: History, k: int) -> None:
    """Two positive blocks in the last months; the RFA is booked after the device plan."""
    levels = h.rng.choice(FACET_LEVELS)
    first = h.rng.randint(58, 66)
    h.mbb(first, "bilateral", levels, [0.86, 0.86, 0.71, 0.57], first=True, pre=7)
    h.mbb(first - h.rng.randint(18, 24), "bilateral", levels, [0.88, 0.88, 0.75], first=False)
    h.scheduled(
        "rfa_ls",
        h.rng.randint(10, 20),
        indication=FACET_INDICATION,
        side="bilateral",
        levels=levels,
        notes="Two concordant positive blocks. Pacemaker: device representative booked.",
    )


def scs(h: History, k: int) -> None:
    """ESIs that did not last, a successful stimulator trial, the implant waiting for
    prior authorization."""
    side = h.side()
    h.lumbar_esi(h.rng.randint(400, 430), [two_weeks(0.4), months(3, 0.1)], side=side)
    h.lumbar_esi(h.rng.randint(290, 310), [two_weeks(0.3), months(3, 0.0)], side=side)
    indication = ("M96.1", "Postlaminectomy syndrome with persistent radicular leg pain")
    h.perform(
        "scs_trial",
        h.rng.randint(40, 50),
        indication=indication,
        pre=10,
        post=8,
        local="lidocaine 1% 10 mL (skin and needle track)",
        contrast="iohexol 240 mgI/mL, 3 mL (epidurogram)",
        notes="L4-L5 laminectomy in 2021. Two 8-contact percutaneous leads entered at L1-L2, "
        "tips at the top and middle of T8; 7-day trial, leads removed on day 7.",
        follow_ups=[
            FollowUp(timedelta(days=3), 0.5, "phone"),
            FollowUp(timedelta(days=7), 0.6),
        ],
    )
    implant = h.order(
        "scs_implant",
        indication=indication,
        notes="60% relief in the trial, walking 30 minutes instead of 10; psychology "
        "evaluation done. Permanent implant once prior authorization is approved.",
    )
    h.request_authorization(implant)  # the payer has not answered yet


def anticoagulant_block(h: History, k: int) -> None:
    """On a drug held for days, ordered an ESI for this week: blocked, not yet resolved."""
    side = h.side()
    h.lumbar_esi(
        h.rng.randint(230, 250),
        [two_weeks(0.6), months(3, 0.4)],
        side=side,
        code="tfesi_ls",
        steroid=("dexamethasone", 10),
    )
    order = h.order(
        "tfesi_ls",
        indication=("M54.16", "Lumbar radiculopathy"),
        side=side,
        levels=["L5-S1"],
        urgency=Urgency.URGENT,
        planned=h.future(2),
        notes="Severe flare with new L5 radicular pain; the patient asks for an injection this "
        "week. Needs a hold plan from the prescriber.",
    )
    h.authorize(order, approved_on=h.today - timedelta(days=1))


def anticoagulant_planned(h: History, k: int) -> None:
    """On a blood thinner, ESI booked far enough ahead to hold it."""
    side = h.side()
    last = h.lumbar_esi(h.rng.randint(190, 220), [two_weeks(0.7), months(3, 0.55)], side=side)
    h.scheduled(
        last.procedure_type.code,
        h.rng.randint(16, 21),
        indication=h.lumbar_indication(last.procedure_type.code),
        side=side,
        levels=last.levels,
        notes="Hold plan agreed with the prescriber; nurse to call the patient the day the "
        "hold starts.",
    )


def cervical(h: History, k: int) -> None:
    """Cervical transforaminal ESIs, non-particulate dexamethasone only."""
    side = h.side()
    levels = h.rng.choice(CERVICAL_LEVELS)
    sessions = [(h.rng.randint(280, 320), [two_weeks(0.7), months(3, 0.55)])]
    if k == 0:
        sessions.append((h.rng.randint(110, 130), [two_weeks(0.6), months(3, 0.5)]))
    else:
        sessions.append((h.rng.randint(35, 55), [two_weeks(0.55)]))
    for days_ago, follow_ups in sessions:
        pre = h.pre()
        h.perform(
            "tfesi_ct",
            days_ago,
            indication=("M54.12", "Cervical radiculopathy"),
            pre=pre,
            post=h.after_block(pre),
            side=side,
            levels=levels,
            steroid=("dexamethasone", 10),
            local="lidocaine 1% 1 mL (skin)",
            contrast="iopamidol 200 mgI/mL, 1 mL under live fluoroscopy",
            follow_ups=follow_ups,
        )


def knee_rfa(h: History, k: int) -> None:
    """A positive genicular block, then genicular RFA."""
    side = h.side()
    block = h.rng.randint(200, 220)
    h.perform(
        "genicular_block",
        block,
        indication=_knee_indication(side),
        pre=7,
        post=2,
        side=side,
        guidance=Guidance.ULTRASOUND,
        local="bupivacaine 0.5% 1 mL per nerve (superomedial, superolateral, inferomedial)",
        follow_ups=diary(0.71, 0.71, 0.57, 0.43),
    )
    h.perform(
        "genicular_rfa",
        block - h.rng.randint(25, 35),
        indication=_knee_indication(side),
        pre=7,
        post=5,
        side=side,
        local="lidocaine 2% 1 mL per lesion before lesioning",
        notes="Superomedial, superolateral and inferomedial genicular nerves, 80 °C for "
        "90 seconds, two lesions per nerve.",
        follow_ups=[two_weeks(0.43), months(3, 0.71), months(6, 0.57)],
    )


def knee_cancelled(h: History, k: int) -> None:
    """A positive genicular block; the RFA was denied and the patient chose surgery."""
    side = h.side()
    h.perform(
        "genicular_block",
        h.rng.randint(50, 70),
        indication=_knee_indication(side),
        pre=8,
        post=3,
        side=side,
        guidance=Guidance.ULTRASOUND,
        local="bupivacaine 0.5% 1 mL per nerve (superomedial, superolateral, inferomedial)",
        follow_ups=diary(0.63, 0.75, 0.63, 0.5),
    )
    order = h.request_authorization(
        h.order("genicular_rfa", indication=_knee_indication(side), side=side)
    )
    order = order_set_authorization(
        order=order, auth_status=AuthStatus.DENIED, by=Actor.seeding(h.frontdesk)
    )
    order_cancel(
        order=order,
        reason="Prior authorization denied; the patient chose a total knee replacement with "
        "orthopaedics instead.",
        by=Actor.seeding(h.physician),
    )


def sacroiliac(h: History, k: int) -> None:
    """Sacroiliac joint injections; the second patient's repeat waits for authorization."""
    side = h.side()
    spec: dict[str, Any] = {
        "indication": ("M46.1", "Sacroiliitis"),
        "side": side,
        "steroid": ("triamcinolone", 40),
        "local": "bupivacaine 0.5% 2 mL",
        "contrast": "iohexol 240 mgI/mL, 0.5 mL (arthrogram)",
    }
    sessions = [h.rng.randint(270, 290), h.rng.randint(110, 130)]
    if k > 0:
        sessions = [h.rng.randint(190, 210)]
    for days_ago in sessions:
        pre = h.pre()
        h.perform(
            "si_injection",
            days_ago,
            pre=pre,
            post=h.after_block(pre),
            follow_ups=[*diary(0.85, 0.85, 0.7), two_weeks(0.7), months(3, 0.55)],
            **spec,
        )
    if k == 1:
        h.order(
            "si_injection",
            indication=spec["indication"],
            side=side,
            notes="Relief lasted about four months; repeat therapeutic injection.",
        )


def trigger_points(h: History, k: int) -> None:
    spec = _trigger_points(h)
    days = {0: [h.rng.randint(240, 260), h.rng.randint(140, 160)], 1: [h.rng.randint(90, 110)]}
    for days_ago in days.get(k, [h.rng.randint(25, 35)]):
        pre = h.pre(5, 7)
        _perform_single(
            h,
            days_ago,
            spec | {"pre": pre, "post": h.after_block(pre)},
            [two_weeks(0.55), weeks(6, 0.5)],
        )


# --- Who gets what ------------------------------------------------------------------------


def _lumbar(plan) -> bool:
    return plan.regions[0] == BodyRegion.LOW_BACK and not plan.stimulator


def _clear(plan) -> bool:
    """No blood thinner, pacemaker or contrast allergy to plan around."""
    return plan.bleeding is None and not plan.pacemaker and plan.allergy != CONTRAST_ALLERGY


def _radicular(plan) -> bool:
    return _lumbar(plan) and BodyRegion.LEG in plan.regions


# (history, how many patients, which patients); the rarer fits first.
SCENARIOS: list[tuple[Callable, int, Callable]] = [
    (
        facet_pacemaker,
        1,
        lambda p: (
            BodyRegion.LOW_BACK in p.regions
            and p.pacemaker
            and not p.stimulator
            and p.allergy != CONTRAST_ALLERGY
        ),
    ),
    (
        anticoagulant_block,
        1,
        lambda p: _lumbar(p) and p.bleeding in LONG_HOLD and p.allergy != CONTRAST_ALLERGY,
    ),
    (
        anticoagulant_planned,
        1,
        lambda p: (
            _lumbar(p) and p.bleeding not in (None, SHORT_COURSE) and p.allergy != CONTRAST_ALLERGY
        ),
    ),
    (scs, 1, lambda p: _radicular(p) and _clear(p)),
    (esi_frequent, 1, lambda p: _radicular(p) and _clear(p)),
    (facet_rfa, 1, lambda p: _lumbar(p) and BodyRegion.LEG not in p.regions and _clear(p)),
    (facet_negative, 1, lambda p: _lumbar(p) and _clear(p)),
    (esi_three, 1, lambda p: _lumbar(p) and _clear(p)),
    (knee_rfa, 1, lambda p: p.regions[0] == BodyRegion.KNEE and not p.pacemaker),
    (knee_cancelled, 1, lambda p: p.regions[0] == BodyRegion.KNEE and not p.pacemaker),
    (sacroiliac, 2, lambda p: p.regions[0] == BodyRegion.SACROILIAC and _clear(p)),
    (cervical, 2, lambda p: p.regions[0] == BodyRegion.NECK and _clear(p)),
    (
        trigger_points,
        3,
        lambda p: (
            p.regions[0]
            in (BodyRegion.SHOULDER, BodyRegion.NECK, BodyRegion.WIDESPREAD, BodyRegion.HEAD)
        ),
    ),
    (esi_responder, 5, lambda p: _lumbar(p) and _clear(p)),
    (simple, 15, lambda p: p.bleeding is None),
]


def _assign(plans: list) -> list[tuple[int, Callable, int]]:
    """(patient index, history, its number among the patients with that history)."""
    assigned = [(0, portal_patient, 0)] if plans else []
    order = list(range(1, len(plans)))
    random.Random("procedures-demo").shuffle(order)
    taken = {0}
    for history, count, fits in SCENARIOS:
        chosen = [i for i in order if i not in taken and fits(plans[i])][:count]
        taken.update(chosen)
        assigned += [(index, history, k) for k, index in enumerate(chosen)]
    return assigned


def _shared() -> dict:
    demo_physicians = Q()
    for first, last, _credentials, kind, _codes, _login in PROVIDERS:
        if kind == ProviderKind.PHYSICIAN:
            demo_physicians |= Q(first_name=first, last_name=last)
    physicians = list(
        Provider.objects.filter(demo_physicians, kind=ProviderKind.PHYSICIAN)
        .prefetch_related("locations")
        .order_by("last_name", "first_name")
    )
    return {
        "kinds": {kind.code: kind for kind in ProcedureType.objects.all()},
        "steroids": {steroid.name: steroid for steroid in Steroid.objects.all()},
        "physicians": physicians,
    }


def seed(ctx: DemoContext) -> None:
    patients, plans = ctx.made["patients"], ctx.made["chart plans"]
    ids = [patient.pk for patient in patients]
    started = set(
        ProcedureRecord.objects.filter(patient__in=ids).values_list("patient_id", flat=True)
    ) | set(ProcedureOrder.objects.filter(patient__in=ids).values_list("patient_id", flat=True))
    shared = _shared()
    built = 0
    for index, history, k in _assign(plans):
        patient = patients[index]
        if patient.pk in started:
            continue
        history(History(ctx, patient, plans[index], index, shared), k)
        built += 1

    demo = Patient.objects.filter(email__endswith="@example.com")
    open_orders = ProcedureOrder.objects.filter(
        patient__in=demo,
        status__in=[OrderStatus.ORDERED, OrderStatus.AUTHORIZED, OrderStatus.SCHEDULED],
    )
    ctx.counts["procedure histories built"] = built
    ctx.counts["procedure records"] = ProcedureRecord.objects.filter(patient__in=demo).count()
    ctx.counts["outcomes"] = ProcedureOutcome.objects.filter(record__patient__in=demo).count()
    ctx.counts["open orders"] = open_orders.count()
    ctx.counts["blocked orders"] = sum(1 for order in open_orders if unresolved_blocks(order))
