"""The next step the diagnostic-block pathway suggests, as a prefilled order link: an ablation
at the levels and side of the positive blocks once they qualify, a confirming second block
after a first positive one, an implant after a successful stimulator trial.

The link carries ids, catalog codes, side and levels only (docs/decisions/0026): the order
form copies the indication from the earlier order it names, so no diagnosis is in the URL."""

from urllib.parse import urlencode

from django.urls import reverse

from .selectors import MBB_FOR_REGION, RFA_FOR_REGION


def _side(records) -> str:
    """The blocks' side: theirs when they agree, both sides when they differ."""
    sides = {r.side for r in records if r.side}
    if len(sides) == 1:
        return sides.pop()
    return "bilateral" if sides else ""


def _levels(records) -> list[str]:
    levels: list[str] = []
    for record in sorted(records, key=lambda r: r.performed_at):
        levels.extend(level for level in record.levels if level not in levels)
    return levels


def order_link(patient_id, procedure: str, records=(), *, with_levels: bool = True) -> str:
    records = list(records)
    query: list[tuple[str, str]] = [("patient", str(patient_id)), ("procedure", procedure)]
    side = _side(records)
    if side:
        query.append(("side", side))
    if with_levels:
        query += [("levels", level) for level in _levels(records)]
    ordered = [r for r in sorted(records, key=lambda r: r.performed_at) if r.order_id]
    if ordered:
        query.append(("indication_from", str(ordered[-1].order_id)))
    return reverse("procedures:order-create") + "?" + urlencode(query)


def region_step(patient_id, region: dict) -> dict | None:
    """What the pathway of one spinal region suggests next, or None."""
    positive = [b["record"] for b in region["blocks"] if b["positive"]]
    if region["rfa_qualifies"] and positive:
        return {
            "label": "Order radiofrequency ablation",
            "detail": _summary(positive),
            "url": order_link(patient_id, RFA_FOR_REGION[region["region"]], positive),
        }
    if len(positive) == 1 and region["last_rfa"] is None:
        return {
            "label": "Order the confirming medial branch block",
            "detail": _summary(positive),
            "url": order_link(patient_id, MBB_FOR_REGION[region["region"]], positive),
        }
    return None


def _summary(records) -> str:
    side = _side(records)
    levels = ", ".join(_levels(records))
    return " · ".join(part for part in (side.capitalize(), levels) if part)


def with_next_steps(patient_id, pathway: dict) -> dict:
    """The pathway with the suggested next step of each spinal region and of a stimulator
    trial (None where nothing is suggested)."""
    scs = pathway.get("scs")
    scs_step = None
    if scs and scs["implant_qualifies"]:
        scs_step = {
            "label": "Order the permanent stimulator implant",
            "detail": "",
            "url": order_link(patient_id, "scs_implant", [scs["trial"]], with_levels=False),
        }
    return {
        **pathway,
        "regions": [r | {"next_step": region_step(patient_id, r)} for r in pathway["regions"]],
        "scs_step": scs_step,
    }
