"""The history as JSON for GET /api/v1/patients/{id}/history/: the page's data, with ids
instead of objects and decimals as strings."""


def _num(value) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _day(value) -> str | None:
    return value.isoformat() if value else None


def _events(history) -> list[dict]:
    return [
        {
            "kind": e["kind"],
            "at": e["at"].isoformat(),
            "local": e["local"].isoformat(),
            "title": e["title"],
            "region": e["region"],
            "detail": e["detail"],
            "id": e["id"],
        }
        for e in history["events"]
    ]


def _relief(history) -> list[dict]:
    return [
        {
            "record": str(row["record"].pk),
            "procedure": row["summary"],
            "performed_at": row["record"].performed_at.isoformat(),
            "baseline_nrs": row["baseline"],
            "best_relief_percent": _num(row["best"]),
            "follow_ups": [
                {**f, "percent_relief": _num(f["percent_relief"])} for f in row["follow_ups"]
            ],
        }
        for row in history["relief"]
    ]


def _ledgers(history) -> dict:
    ledgers = history["ledgers"]
    steroid = ledgers["steroid"]
    return {
        "window_days": ledgers["window_days"],
        "regions": [
            {
                "region": r["region"],
                "sessions": r["rows"],
                "steroid_mg_mpe": _num(r["steroid_mg"]),
                "days_since_steroid": r["days_since_steroid"],
            }
            for r in ledgers["regions"]
        ],
        "steroid": {
            "total_mg_mpe": _num(steroid["total_mg"]),
            "cap_mg_mpe": _num(steroid["cap_mg"]),
            "last": _day(steroid["last"]),
            "days_since": steroid["days_since"],
            "next_allowed": _day(steroid["next_allowed"]),
            "eligible_now": steroid["eligible_now"],
        },
    }


def _pathway(history) -> dict:
    pathway = history["pathway"]
    scs = pathway["scs"]
    return {
        "positive_at_percent": _num(pathway["positive_at"]),
        "regions": [
            {
                "region": r["region"],
                "medial_branch_blocks": [
                    {
                        "record": str(b["record"].pk),
                        "day": _day(b["day"]),
                        "relief_percent": _num(b["relief"]),
                        "relief_from": b["relief_from"],
                        "follow_ups_not_counted": b["not_counted"],
                        "positive": b["positive"],
                    }
                    for b in r["blocks"]
                ],
                "last_rfa": str(r["last_rfa"].pk) if r["last_rfa"] else None,
                "rfa_qualifies": r["rfa_qualifies"],
                "rfa_reason": r["rfa_reason"],
            }
            for r in pathway["regions"]
        ],
        "scs_trial": None
        if scs is None
        else {
            "record": str(scs["trial"].pk),
            "relief_percent": _num(scs["relief"]),
            "threshold_percent": _num(scs["threshold"]),
            "implant_qualifies": scs["implant_qualifies"],
        },
    }


def _safety(history) -> dict:
    return {
        "upcoming_procedures": [
            {
                "appointment": str(u["appointment"].pk),
                "start": u["appointment"].start.isoformat(),
                "procedure": u["procedure"],
                "findings": u["findings"],
            }
            for u in history["upcoming"]
        ],
        "medications": [
            {
                "name": m["medication"].name,
                "drug_class": m["medication"].drug_class,
                "dose": m["medication"].dose,
                "affects_bleeding": m["bleeding"],
                "holds": [{**h, "when": h["when"].isoformat()} for h in m["holds"]],
            }
            for m in history["medications"]
        ],
        "allergies": [
            {"substance": a.substance, "procedure_class": a.procedure_class, "severity": a.severity}
            for a in history["allergies"] + history["other_allergies"]
        ],
        "conditions": [
            {"kind": c.kind, "description": c.description} for c in history["conditions"]
        ],
        "devices": [{"kind": d.kind, "description": d.description} for d in history["devices"]],
    }


def history_as_json(history) -> dict:
    return {
        "patient": str(history["patient"].pk),
        "today": _day(history["today"]),
        "events": _events(history),
        "chart": history["chart"],
        "relief": _relief(history),
        "ledgers": _ledgers(history),
        "pathway": _pathway(history),
        **_safety(history),
        "urgent": [
            {
                "id": str(f.pk),
                "reason": f.reason,
                "label": f.label,
                "detail": f.detail,
                "source": f.source,
                "intake": str(f.intake_id) if f.intake_id else None,
                "assessment": str(f.assessment_id) if f.assessment_id else None,
                "raised_at": f.raised_at.isoformat(),
            }
            for f in history["urgent_flags"]
        ],
    }
