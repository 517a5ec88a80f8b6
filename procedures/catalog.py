"""Turn the shipped reference data (procedures/data/*.csv) into catalog and rule rows.

Pure functions over CSV text, used by the data migrations and tested on their own. Where
the source gives a range or a region-dependent value, the stricter value is taken and the
source's wording kept in a note; values the source marks uncertain ("U", certain=no) are
listed in `uncertain_fields` / `certain=False` so that a clinician confirms them.
"""

import csv
import re
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from .cpt import catalog_cpt_codes, save_codes

DATA = Path(__file__).resolve().parent / "data"
UNCERTAIN = "(U)"

SPINAL_LEVELS = {
    "cervical_thoracic": [f"C{n}-C{n + 1}" for n in range(2, 7)]
    + ["C7-T1"]
    + [f"T{n}-T{n + 1}" for n in range(1, 12)]
    + ["T12-L1"],
    "lumbar_sacral": [f"L{n}-L{n + 1}" for n in range(1, 5)] + ["L5-S1", "S1"],
    "thoracolumbar": [f"T{n}" for n in range(1, 13)] + [f"L{n}" for n in range(1, 6)],
}
LEVEL_FAMILIES = {"esi", "nerve_block", "mbb", "facet_injection", "rfa", "vertebral_augmentation"}
SIDED_FAMILIES = {
    "esi",
    "nerve_block",
    "mbb",
    "facet_injection",
    "rfa",
    "peripheral_block",
    "si",
    "sympathetic_block",
    "joint_injection",
}
# Most levels per session where the source says so (procedures.csv notes; LCD-ESI levels).
MAX_LEVELS = {
    "ilesi_ct": 1,
    "ilesi_ls": 1,
    "tfesi_ct": 2,
    "tfesi_ls": 2,
    "mbb_ct": 2,
    "mbb_ls": 2,
    "facet_ia_ls": 2,
    # LCD-FACET: at most 2 levels per session, RFA included (frequency_rules.csv esi_levels
    # is the ESI counterpart).
    "rfa_ct": 2,
    "rfa_ls": 2,
    "vertebroplasty": 3,
    "kyphoplasty": 3,
}
OPERATING_ROOM = {"scs_implant", "itp_implant"}
SEDATION = {
    "no": "none",
    "rare": "none",
    "light": "none",
    "variable": "optional",
    "moderate sedation allowed if documented": "optional",
    "moderate sedation common": "usual",
    "common": "usual",
    "mac or general": "general",
    "general": "general",
}
# intake.md, pre-procedure requirements: solids stopped 6 hours before sedation.
SEDATION_FASTING_HOURS = 6
DIAGNOSTIC_DIARY_HOURS = [1, 2, 4, 6, 8]
OUTCOME_SURVEY_DAYS = [14]


def read_csv(name: str) -> list[dict]:
    with (DATA / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _usage(text: str) -> str:
    text = text.strip().lower()
    for word in ("yes", "optional", "no"):
        if text.startswith(word):
            return word
    if text.startswith("usual"):
        return "yes"
    if text.startswith("fluoroscopy only"):
        return "optional"
    return "no"  # "opacified cement": bone cement, not an iodinated contrast injection


def _risk(text: str) -> str:
    found = re.findall(r"\b(low|intermediate|high)\b", text.lower())
    order = ["low", "intermediate", "high"]
    return max(found, key=order.index)  # the stricter class when it depends on the region


def _sedation(text: str) -> str:
    key = text.replace(UNCERTAIN, "").strip().lower()
    return SEDATION[key]


def _room(code: str, imaging: str) -> str:
    """The room kind of the first guidance the source lists."""
    imaging = imaging.lower()
    if code in OPERATING_ROOM:
        return "operating_room"
    if imaging.startswith("fluoroscopy"):
        return "fluoroscopy_suite"
    if imaging.startswith(("ultrasound", "landmark or ultrasound")):
        return "ultrasound"
    return "procedure_room"


def _follow_up(row: dict[str, str]) -> dict[str, bool | list[int]]:
    plan: dict[str, bool | list[int]] = {"next_day_check": True}
    if row["purpose"] in ("diagnostic", "both"):
        plan["pain_diary_hours"] = DIAGNOSTIC_DIARY_HOURS
    if row["purpose"] in ("therapeutic", "both"):
        plan["outcome_survey_days"] = OUTCOME_SURVEY_DAYS
    if "wound check" in row["follow_up_notes"]:
        plan["wound_check_days"] = [12]
    return plan


def _uncertain_fields(row: dict) -> list[str]:
    fields = [name for name, value in row.items() if UNCERTAIN in (value or "")]
    if row["certain"].strip().lower() == "no":
        fields.append("row")
    return fields


# What the patient is told before a procedure, in English and in the clinic's own Spanish
# (not checked by a certified medical translator; a manager confirms it in the admin).
MEDICATION_LIST = (
    "Bring your medication list and tell us about any blood thinner you take.",
    "Traiga su lista de medicamentos y díganos si toma algún anticoagulante.",
)
FASTING_AND_DRIVER = (
    f"No solid food for {SEDATION_FASTING_HOURS} hours before; clear fluids until "
    "2 hours before. An adult must drive you home.",
    f"No coma alimentos sólidos durante las {SEDATION_FASTING_HOURS} horas previas; puede "
    "tomar líquidos claros hasta 2 horas antes. Un adulto debe llevarle a casa en auto.",
)
SEDATION_MAYBE = (
    "If you will have sedation, fast and bring a driver as we will tell you.",
    "Si va a recibir sedación, haga ayuno y venga con alguien que le lleve a casa en auto, "
    "como le indicaremos.",
)
DIABETES_AND_STEROID = (
    "If you have diabetes, check your blood sugar on the day.",
    "Si tiene diabetes, mídase el azúcar en la sangre ese día.",
)
ENGLISH, SPANISH = 0, 1


def preparation_text(sedation: str, steroid: str, language: int = ENGLISH) -> str:
    """The catalog's preparation for a procedure with this sedation and steroid use."""
    lines = [MEDICATION_LIST]
    if sedation in ("usual", "general"):
        lines.append(FASTING_AND_DRIVER)
    elif sedation == "optional":
        lines.append(SEDATION_MAYBE)
    if steroid != "no":
        lines.append(DIABETES_AND_STEROID)
    return " ".join(line[language] for line in lines)


def procedure_type_rows() -> list[dict]:
    rows = []
    for row in read_csv("procedures.csv"):
        code = row["code"]
        sedation = _sedation(row["sedation_common"])
        steroid = _usage(row["steroid_typical"])
        uncertain = _uncertain_fields(row)
        rows.append(
            {
                "code": code,
                "name": row["name"],
                "family": row["family"],
                "region": row["region"],
                "imaging": row["imaging"],
                "steroid": steroid,
                "nonparticulate_steroid_only": "non-particulate" in row["steroid_typical"],
                "contrast": _usage(row["contrast_typical"]),
                "sedation": sedation,
                "needs_driver": sedation in ("usual", "general"),
                "fasting_hours": SEDATION_FASTING_HOURS if sedation in ("usual", "general") else 0,
                "purpose": row["purpose"],
                "bleeding_risk": _risk(row["asra_risk"]),
                "default_minutes": int(row["room_minutes_est"]),
                "minutes_per_extra_level": 5 if row["family"] in LEVEL_FAMILIES else 0,
                "room_kind": _room(code, row["imaging"]),
                "side_applies": row["family"] in SIDED_FAMILIES,
                "levels_apply": row["family"] in LEVEL_FAMILIES and row["region"] in SPINAL_LEVELS,
                "allowed_levels": SPINAL_LEVELS.get(row["region"], [])
                if row["family"] in LEVEL_FAMILIES
                else [],
                "max_levels": MAX_LEVELS.get(code),
                "follow_up_plan": _follow_up(row),
                "follow_up_notes": row["follow_up_notes"],
                "preparation": preparation_text(sedation, steroid),
                "uncertain_fields": uncertain,
                "source_note": (
                    "From procedures.csv (CMS LCDs, AAPM CPT 2020, KOHAN 2017, ASRA 2018). "
                    f"Bleeding risk as given: {row['asra_risk']}. Sedation as given: "
                    f"{row['sedation_common']}. Room time is an estimate."
                    + (f" Unconfirmed: {', '.join(uncertain)}." if uncertain else "")
                ),
            }
        )
    return rows


# --- Anticoagulant holds ------------------------------------------------------------------------


def _hold(text: str) -> tuple[str, int | None]:
    """'6 days' -> (hold, 144); '7-10 days' -> (hold, 240); 'shared decision; if held 6 days'
    -> (shared_decision, 144); 'no hold ...' -> (no_hold, None)."""
    lowered = text.lower()
    hours = None
    amount = re.search(r"(\d+)(?:-(\d+))?\s*(day|hour)", lowered)
    if amount:
        number = int(amount.group(2) or amount.group(1))  # the upper end of a range
        hours = number * 24 if amount.group(3) == "day" else number
    if lowered.startswith("no hold"):
        return "no_hold", None
    if lowered.startswith("shared decision"):
        return "shared_decision", hours
    return "hold", hours


def _match_names(drug: str) -> list[str]:
    names = []
    for part in re.sub(r"\(.*?\)", "", drug).split("/"):
        name = part.strip().lower()
        for noise in (" prophylactic dose", " therapeutic dose", " iv", " sc"):
            name = name.replace(noise, "")
        if name:
            names.append(name.split()[-1] if name.startswith("unfractionated") else name)
    return sorted(set(names))


def anticoagulant_rule_rows(name: str = "anticoagulants.csv") -> list[dict]:
    rows = []
    for row in read_csv(name):
        holds = {
            risk: _hold(row[f"hold_before_{risk}_risk"]) for risk in ("high", "intermediate", "low")
        }
        rows.append(
            {
                "drug": row["drug"],
                "drug_class": row["class"],
                "match_names": _match_names(row["drug"]),
                **{f"{risk}_decision": holds[risk][0] for risk in holds},
                **{f"{risk}_hours": holds[risk][1] for risk in holds},
                "requires_normal_inr": "inr" in row["hold_before_high_risk"].lower(),
                "restart_after": row["restart_after"],
                "note": "; ".join(f"{risk}: {row[f'hold_before_{risk}_risk']}" for risk in holds),
                "source": row["source"],
                "certain": row["certain"].strip().lower() == "yes",
            }
        )
    return rows


# --- Thresholds ------------------------------------------------------------------------------------

# (key, value, unit, description, source, certain) — from frequency_rules.csv and
# instruments.md; every value is editable by a manager.
THRESHOLDS = [
    (
        "esi_max_sessions",
        "4",
        "sessions",
        "ESI sessions per spinal region in a rolling window",
        "LCD-ESI (L39240)",
        True,
    ),
    (
        "facet_max_diagnostic",
        "4",
        "sessions",
        "Diagnostic medial branch block sessions per region in a rolling window",
        "LCD-FACET (L38801)",
        True,
    ),
    (
        "facet_max_therapeutic",
        "4",
        "sessions",
        "Therapeutic facet injection sessions per region in a rolling window",
        "LCD-FACET (L38801)",
        True,
    ),
    (
        "rfa_max_sessions",
        "2",
        "sessions",
        "Facet RFA sessions per region in a rolling window",
        "LCD-FACET (L38801)",
        True,
    ),
    (
        "si_max_diagnostic",
        "2",
        "sessions",
        "Diagnostic SI sessions in a rolling window",
        "LCD-SI (L39462)",
        True,
    ),
    (
        "si_max_therapeutic",
        "4",
        "sessions",
        "Therapeutic SI sessions in a rolling window",
        "LCD-SI (L39462)",
        True,
    ),
    (
        "tpi_max_sessions",
        "3",
        "sessions",
        "Trigger point injection sessions in a rolling window",
        "LCD-TPI (L34211)",
        True,
    ),
    (
        "frequency_window_days",
        "365",
        "days",
        "The rolling window for session limits",
        "LCDs: rolling 12 months",
        True,
    ),
    (
        "mbb_positive_relief",
        "80",
        "percent",
        "Relief that makes a medial branch block positive",
        "LCD-FACET (L38801)",
        True,
    ),
    (
        "mbb_positive_blocks_for_rfa",
        "2",
        "blocks",
        "Positive medial branch blocks needed before facet RFA",
        "LCD-FACET (L38801)",
        True,
    ),
    (
        "mbb_second_block_min_days",
        "14",
        "days",
        "Days between the first and second diagnostic block",
        "LCD-FACET (L38801)",
        True,
    ),
    (
        "rfa_blocks_expire_days",
        "730",
        "days",
        "Repeat the diagnostic blocks if the last RFA was longer ago",
        "LCD-FACET (L38801)",
        True,
    ),
    (
        "rfa_repeat_min_relief",
        "50",
        "percent",
        "Improvement after the last RFA needed before a repeat",
        "LCD-FACET (L38801)",
        True,
    ),
    (
        "rfa_repeat_min_days",
        "182",
        "days",
        "How long that improvement must have lasted (6 months)",
        "LCD-FACET (L38801)",
        True,
    ),
    (
        "esi_repeat_min_relief",
        "50",
        "percent",
        "Relief after the last ESI needed before a repeat",
        "LCD-ESI (L39240)",
        True,
    ),
    (
        "esi_repeat_min_days",
        "90",
        "days",
        "How long that relief must have lasted (3 months)",
        "LCD-ESI (L39240)",
        True,
    ),
    (
        "steroid_min_interval_days",
        "14",
        "days",
        "Least days between steroid injections: the low end of the common 2-4 weeks; 28 is the conservative end",
        "KOHAN 2017; practice-configurable",
        True,
    ),
    (
        "steroid_annual_cap_mg",
        "200",
        "mg MPE",
        "Methylprednisolone-equivalent steroid per rolling 12 months",
        "Interv Pain Med 2022 (Brown-Beresford); practice-configurable",
        False,
    ),
    (
        "steroid_annual_warn_percent",
        "75",
        "percent",
        "Share of the yearly steroid cap from which the check warns",
        "Clinic default (not from a published source)",
        False,
    ),
    (
        "scs_trial_min_relief",
        "50",
        "percent",
        "Pain relief in the SCS trial needed before the implant",
        "Neuromodulation society guidance",
        True,
    ),
    (
        "si_positive_relief",
        "75",
        "percent",
        "Relief that makes a diagnostic SI block positive",
        "LCD-SI (L39462)",
        True,
    ),
    (
        "worklist_poor_relief",
        "30",
        "percent",
        "Follow-up surveys with less relief than this go on the clinician worklist",
        "Farrar 2001 (about 30% is a clinically important change in pain; instruments.md)",
        True,
    ),
    # Medications and labs (issue 14): clinic defaults where the guideline gives no number.
    (
        "medication_recent_days",
        "30",
        "days",
        "Medications stopped within this many days before the procedure still count "
        "(longer than any hold in anticoagulants.csv)",
        "Clinic default (longer than the longest N18 hold)",
        False,
    ),
    (
        "inr_normal_max",
        "1.2",
        "INR",
        "Highest INR taken as normal before an intermediate- or high-risk procedure on warfarin "
        "or acenocoumarol",
        "N18 asks for a normal INR; the upper limit of normal is the lab's (clinic default to confirm)",
        False,
    ),
    (
        "inr_max_age_days",
        "1",
        "days",
        "The INR must be taken this many days before the procedure at most (0: on the day)",
        "N18 (INR before the procedure); window is a clinic default to confirm",
        False,
    ),
    (
        "platelet_min_high_risk",
        "100",
        "10^9/L",
        "Lowest platelet count for a high-risk procedure",
        "Clinic default; N18 names thrombocytopenia as a patient risk factor without one number",
        False,
    ),
    (
        "platelet_max_age_days",
        "30",
        "days",
        "A platelet count taken this many days before a high-risk procedure at most",
        "Clinic default to confirm",
        False,
    ),
    (
        "dabigatran_renal_crcl",
        "50",
        "mL/min",
        "Creatinine clearance below which dabigatran's longer hold applies (renal impairment)",
        "anticoagulants.csv (N18: 5-6 days with renal impairment); the cut-off is to confirm",
        False,
    ),
    (
        "dabigatran_renal_hold_days",
        "6",
        "days",
        "Dabigatran's hold before intermediate- and high-risk procedures with renal impairment",
        "anticoagulants.csv (N18: 5-6 days with renal impairment; upper end taken)",
        False,
    ),
    (
        "renal_lab_max_age_days",
        "90",
        "days",
        "A creatinine clearance (or eGFR) taken this many days before the procedure at most",
        "Clinic default to confirm",
        False,
    ),
    # Frequency rules (issue 14): the repeat-response rules of frequency_rules.csv and
    # procedures.csv, the ESI retry interval, the genicular block and anaesthetic durations.
    (
        "tpi_repeat_min_relief",
        "50",
        "percent",
        "Relief after the last trigger point injection session needed before a repeat",
        "LCD-TPI (L34211); frequency_rules.csv tpi_max",
        True,
    ),
    (
        "tpi_repeat_min_days",
        "42",
        "days",
        "How long that relief must have lasted (6 weeks)",
        "LCD-TPI (L34211); frequency_rules.csv tpi_max",
        True,
    ),
    (
        "si_repeat_min_relief",
        "50",
        "percent",
        "Relief after the last therapeutic SI injection needed before a repeat",
        "LCD-SI (L39462); frequency_rules.csv si_max",
        True,
    ),
    (
        "si_repeat_min_days",
        "90",
        "days",
        "How long that relief must have lasted (3 months)",
        "LCD-SI (L39462); frequency_rules.csv si_max",
        True,
    ),
    (
        "facet_repeat_min_relief",
        "50",
        "percent",
        "Relief after the last therapeutic facet injection needed before a repeat",
        "LCD-FACET (L38801); procedures.csv facet_ia_ls",
        True,
    ),
    (
        "facet_repeat_min_days",
        "90",
        "days",
        "How long that relief must have lasted (3 months)",
        "LCD-FACET (L38801); procedures.csv facet_ia_ls",
        True,
    ),
    (
        "esi_retry_min_days",
        "14",
        "days",
        "Least days between an ESI and a repeat (the single retry after a failed injection)",
        "LCD-ESI (L39240); frequency_rules.csv esi_no_response_retry",
        True,
    ),
    (
        "genicular_block_positive_relief",
        "50",
        "percent",
        "Relief that makes a genicular nerve block positive before genicular RFA",
        "procedures.csv genicular_block (value marked U)",
        False,
    ),
    (
        "anaesthetic_hours_lidocaine",
        "2",
        "hours",
        "How long lidocaine acts: diagnostic block relief counts within this time",
        "Usual duration of lidocaine (1-2 h); clinic to confirm",
        False,
    ),
    (
        "anaesthetic_hours_bupivacaine",
        "8",
        "hours",
        "How long bupivacaine or ropivacaine acts: diagnostic block relief counts within it",
        "Usual duration of bupivacaine (4-8 h); clinic to confirm",
        False,
    ),
    (
        "anaesthetic_hours_default",
        "8",
        "hours",
        "The anaesthetic's duration when the record does not name a known one",
        "Longest usual duration (bupivacaine 4-8 h); clinic to confirm",
        False,
    ),
    # Diabetes and a steroid (issue 14 point 8; the rule diabetes_steroid).
    (
        "diabetes_glucose_max",
        "250",
        "mg/dL",
        "Diabetes before a steroid: the blood glucose on the day above which the steroid "
        "injection is deferred",
        "Clinic default (intake.md: a glucose check on the day, threshold practice-configurable)",
        False,
    ),
    # Intrathecal pump refills (issue 14 point 12; procedures/pumps.py).
    (
        "pump_refill_margin_days",
        "7",
        "days",
        "An intrathecal pump refill is due this many days before the reservoir would be empty",
        "Clinic default to confirm (procedures.csv itp_refill: a missed refill can cause "
        "dangerous withdrawal)",
        False,
    ),
    (
        "pump_low_reservoir_alarm_ml",
        "2",
        "mL",
        "Volume left in an intrathecal pump's reservoir when its low-reservoir alarm sounds",
        "Usual programmed value (2 mL); not confirmed against the pump manufacturer's manual",
        False,
    ),
]

# Per-session maxima from LCD-ESI; equivalence to methylprednisolone from the usual
# anti-inflammatory potency table (4 mg methylprednisolone = 4 mg triamcinolone =
# 0.75 mg dexamethasone = 0.6 mg betamethasone), flagged for the clinic to confirm.
STEROIDS = [
    ("methylprednisolone", "1.000", None, True),
    ("triamcinolone", "1.000", "80", True),
    ("dexamethasone", "5.333", "15", False),
    ("betamethasone", "6.667", "12", True),
]


def threshold_rows() -> list[dict]:
    return [
        {
            "key": key,
            "value": Decimal(value),
            "unit": unit,
            "description": description,
            "source": source,
            "certain": certain,
        }
        for key, value, unit, description, source, certain in THRESHOLDS
    ]


def steroid_rows() -> list[dict]:
    return [
        {
            "name": name,
            "methylprednisolone_factor": Decimal(factor),
            "max_dose_per_session_mg": Decimal(cap) if cap else None,
            "particulate": particulate,
            "source": "Per-session maximum: LCD-ESI (L39240); equivalence: standard glucocorticoid potency table",
            "certain": False,
        }
        for name, factor, cap, particulate in STEROIDS
    ]


def load_reference_data(apps, schema_editor=None) -> None:
    """RunPython: create or update every catalog and rule row from the shipped files."""
    for model_name, key, rows in [
        ("ProcedureType", "code", procedure_type_rows()),
        ("AnticoagulantRule", "drug", anticoagulant_rule_rows()),
        ("SafetyThreshold", "key", threshold_rows()),
        ("Steroid", "name", steroid_rows()),
    ]:
        model = apps.get_model("procedures", model_name)
        for row in rows:
            model.objects.update_or_create(**{key: row[key]}, defaults=row)
    load_cpt_codes(apps)


def load_cpt_codes(apps) -> None:
    """The catalog's CPT codes: as text before migration 0016, as ProcedureCode rows after."""
    procedure_type = apps.get_model("procedures", "ProcedureType")
    shipped_text = {row["code"]: row["cpt"] for row in read_csv("procedures.csv")}
    if any(field.name == "cpt_codes" for field in procedure_type._meta.fields):
        for code, text in shipped_text.items():
            procedure_type.objects.filter(code=code).update(cpt_codes=text)
        return
    procedure_code = apps.get_model("procedures", "ProcedureCode")
    for kind in procedure_type.objects.filter(code__in=shipped_text):
        save_codes(procedure_code, kind, list(catalog_cpt_codes()[kind.code]))


def load_spanish_catalog(apps, schema_editor=None) -> None:
    """RunPython: the Spanish name and preparation of each shipped procedure, where a
    manager has not written one; a preparation a manager changed in English keeps no
    Spanish (patients then read the English) rather than a translation of other words."""
    model = apps.get_model("procedures", "ProcedureType")
    names = {row["code"]: row["name_es"] for row in read_csv("extra/procedure_names_es.csv")}
    for kind in model.objects.filter(code__in=names):
        kind.name_es = kind.name_es or names[kind.code]
        if not kind.preparation_es and kind.preparation == preparation_text(
            kind.sedation, kind.steroid
        ):
            kind.preparation_es = preparation_text(kind.sedation, kind.steroid, SPANISH)
        kind.save(update_fields=["name_es", "preparation_es"])


def add_missing_thresholds(apps, schema_editor=None) -> None:
    """RunPython for thresholds added after a clinic installed: create the new rows only,
    never overwrite a value a manager has edited."""
    model = apps.get_model("procedures", "SafetyThreshold")
    for row in threshold_rows():
        model.objects.get_or_create(key=row["key"], defaults=row)


# --- Drug vocabulary (patients.DrugName) ----------------------------------------------------------

# Holds for the vocabulary's certain=no rows that anticoagulants.csv has no row for, from
# N18's text, each flagged uncertain until a clinician confirms (holds_n18_extra.csv).
EXTRA_HOLDS = "extra/holds_n18_extra.csv"
# Common pain-clinic medications that affect no hold, so that they are not "unrecognised".
COMMON_MEDICATIONS = "extra/common_medications.csv"


def _generics(text: str) -> list[str]:
    return [part.strip() for part in text.split("+") if part.strip()]


def drug_name_rows() -> list[dict]:
    """drug_names.csv, plus each generic (and each anticoagulants.csv drug) under its own
    name, so that "apixaban" resolves as "Eliquis" does."""
    rows: dict[str, dict] = {}
    classes: dict[str, str] = {}
    for row in read_csv("vocabulary/drug_names.csv") + read_csv(COMMON_MEDICATIONS):
        generics = _generics(row["generic"])
        rows[row["name"].lower()] = {
            "name": row["name"],
            "generics": generics,
            "drug_classes": [row["class"]],
            "kind": row["kind"],
            "note": row["note"],
            "source": row["source"],
            "certain": row["certain"].strip().lower() == "yes",
        }
        if len(generics) == 1:
            classes.setdefault(generics[0], row["class"])
    for name in ("anticoagulants.csv", EXTRA_HOLDS):
        for rule in anticoagulant_rule_rows(name):
            for generic in rule["match_names"]:
                classes.setdefault(generic, rule["drug_class"])
    for generic, drug_class in sorted(classes.items()):
        rows.setdefault(
            generic.lower(),
            {
                "name": generic,
                "generics": [generic],
                "drug_classes": [drug_class],
                "kind": "generic",
                "note": "",
                "source": "drug_names.csv / anticoagulants.csv",
                "certain": True,
            },
        )
    return list(rows.values())


def load_drug_vocabulary(apps, schema_editor=None) -> None:
    """RunPython: the vocabulary rows (new ones only: a manager's edits are kept), the N18
    holds for its uncertain rows, and the thresholds added since."""
    from patients.vocabulary import name_key

    drug_name = apps.get_model("patients", "DrugName")
    for row in drug_name_rows():
        drug_name.objects.get_or_create(
            name=row["name"], defaults={**row, "key": name_key(row["name"])}
        )
    rule = apps.get_model("procedures", "AnticoagulantRule")
    for row in anticoagulant_rule_rows(EXTRA_HOLDS):
        rule.objects.get_or_create(drug=row["drug"], defaults=row)
    add_missing_thresholds(apps, schema_editor)


def resolve_existing_medications(apps, schema_editor=None) -> None:
    """RunPython: every medication already on a chart gets its generic(s) and class(es);
    a name the vocabulary does not know keeps the class staff gave it, unrecognised."""
    from patients.vocabulary import resolve_with, rows_by_key

    vocabulary = rows_by_key(apps.get_model("patients", "DrugName").objects.all())
    medication = apps.get_model("patients", "Medication")
    for entry in medication.objects.all().iterator():
        found = resolve_with(entry.name, vocabulary)
        if found.recognised:
            entry.generics, entry.drug_classes = found.generics, found.drug_classes
            entry.drug_class = found.drug_classes[0]
            entry.classification = "vocabulary"
        else:
            entry.drug_classes = [entry.drug_class] if entry.drug_class else []
            entry.classification = "unrecognised"
        entry.save(update_fields=["generics", "drug_classes", "drug_class", "classification"])


RFA_MAX_LEVELS_CODES = ("rfa_ct", "rfa_ls")


def add_rfa_level_limit(apps, schema_editor=None) -> None:
    """RunPython: facet RFA gets the facet LCD's 2 levels per session where a clinic has
    not set a limit of its own."""
    model = apps.get_model("procedures", "ProcedureType")
    for code in RFA_MAX_LEVELS_CODES:
        model.objects.filter(code=code, max_levels__isnull=True).update(max_levels=MAX_LEVELS[code])


# --- Chart-driven safety rules (SafetyRule) -------------------------------------------------------


class ShippedRule(NamedTuple):
    """A chart-driven rule as shipped. The severity, advice (what and why), until (read after
    "Until"; empty: it does not expire), action and source are a manager's to edit; when each
    rule applies is its function in procedures/safety.py."""

    key: str
    applies_when: str
    severity: str
    advice: str
    source: str
    certain: bool
    until: str
    action: str


PREGNANCY_ENDED = "the pregnancy has ended and its entry on the chart is closed"
DEVICE_PLAN = "a device plan is documented"
SAFETY_RULES = [
    ShippedRule(
        "contrast_allergy",
        "An iodinated contrast allergy (not anaphylaxis) before a procedure that uses or may "
        "use contrast",
        "warn",
        "a prior reaction to the same contrast class is the main risk of another.",
        "ACR Manual on Contrast Media (premedication; values from its published summaries, to "
        "confirm); intake.md",
        False,
        "",
        "Premedicate (ACR elective regimen: prednisone 50 mg by mouth 13, 7 and 1 hours before "
        "contrast, plus diphenhydramine 50 mg 1 hour before; or methylprednisolone 32 mg by "
        "mouth 12 and 2 hours before) or plan without contrast (ultrasound guidance is allowed "
        "for ESI and SI injections).",
    ),
    ShippedRule(
        "contrast_allergy_severe",
        "Anaphylaxis to iodinated contrast before a procedure that uses or may use contrast",
        "block",
        "a prior severe reaction; premedication does not prevent every repeat reaction.",
        "ACR Manual on Contrast Media; intake.md",
        False,
        "",
        "Plan the procedure without contrast (ultrasound guidance is allowed for ESI and SI "
        "injections) and give that plan as the override reason.",
    ),
    ShippedRule(
        "pregnancy_fluoroscopy",
        "Pregnancy before a procedure guided by fluoroscopy or CT",
        "block",
        "Pregnant: no fluoroscopy or CT without a documented decision.",
        "intake.md",
        True,
        PREGNANCY_ENDED,
        "Postpone the procedure, or plan ultrasound guidance where the procedure allows it; a "
        "documented decision to go ahead is the override reason.",
    ),
    ShippedRule(
        "pregnancy_augmentation",
        "Pregnancy before vertebral augmentation",
        "block",
        "Pregnancy is an absolute contraindication to vertebral augmentation.",
        "intake.md",
        True,
        PREGNANCY_ENDED,
        "Do not perform it during pregnancy: postpone it or cancel the order with the reason.",
    ),
    ShippedRule(
        "cardiac_device",
        "A pacemaker or ICD (condition or implanted device) before radiofrequency ablation or "
        "spinal cord stimulation",
        "block",
        "Pacemaker or ICD: radiofrequency ablation and spinal cord stimulation can interfere "
        "with it.",
        "intake.md",
        True,
        DEVICE_PLAN,
        "Agree the device plan (magnet or reprogramming) with cardiology or the device "
        "representative and give it as the override reason.",
    ),
    ShippedRule(
        "cardiac_device_pns",
        "A pacemaker or ICD (condition or implanted device) before peripheral nerve stimulation",
        "block",
        "Pacemaker or ICD: a peripheral nerve stimulator's pulses can be sensed by the cardiac "
        "device.",
        "intake.md (devices), extended to peripheral nerve stimulation; stimulator labelling "
        "to confirm",
        False,
        DEVICE_PLAN,
        "Check the stimulator's labelling for cardiac devices, agree the device plan with "
        "cardiology or the device representative, and give it as the override reason.",
    ),
    ShippedRule(
        "active_infection",
        "An active infection before any procedure but a pump refill",
        "block",
        "Active infection is a contraindication to injections.",
        "intake.md",
        True,
        "the infection is treated and its entry on the chart is closed",
        "Treat the infection and postpone the procedure; close the entry on the chart when it "
        "has resolved and run the check again.",
    ),
    ShippedRule(
        "active_infection_refill",
        "An active infection before an intrathecal pump refill",
        "warn",
        "Active infection: a missed refill can cause dangerous withdrawal (baclofen), so the "
        "refill is not delayed.",
        "intake.md; procedures.csv",
        True,
        "the infection is treated",
        "Refill on time, with strict asepsis.",
    ),
    ShippedRule(
        "allergy:corticosteroid",
        "A corticosteroid allergy before a procedure that may use a steroid",
        "warn",
        "Corticosteroid allergy and this procedure may use a steroid.",
        "intake.md",
        True,
        "",
        "Plan the injectate around the allergy and write it on the order.",
    ),
    ShippedRule(
        "allergy:local_anaesthetic",
        "A local anaesthetic allergy before any procedure",
        "warn",
        "Local anesthetic allergy.",
        "intake.md",
        True,
        "",
        "Check whether the reaction was to an ester or an amide and choose the other class.",
    ),
    ShippedRule(
        "allergy:bone_cement",
        "A bone cement or opacifier allergy before vertebral augmentation",
        "block",
        "Bone cement or opacifier allergy before vertebral augmentation.",
        "intake.md",
        True,
        "",
        "Choose a cement and opacifier the patient is not allergic to and give that as the "
        "override reason, or do not go ahead.",
    ),
    ShippedRule(
        "allergy:chlorhexidine",
        "A chlorhexidine allergy before any procedure",
        "warn",
        "Chlorhexidine allergy.",
        "intake.md",
        True,
        "",
        "Use another skin preparation.",
    ),
    ShippedRule(
        "allergy:latex",
        "A latex allergy before any procedure",
        "info",
        "Latex allergy.",
        "intake.md",
        True,
        "",
        "Use a latex-free room and supplies.",
    ),
    ShippedRule(
        "cancer_history",
        "A history of cancer before an epidural steroid injection",
        "warn",
        "History of cancer: new or changed pain may come from metastasis or cord compression.",
        "intake.md",
        True,
        "the new or changed pain has been evaluated",
        "Make sure new or changed pain was evaluated before an epidural steroid injection, and "
        "note it on the order.",
    ),
    ShippedRule(
        "diabetes_steroid",
        "Diabetes before a procedure that may use a steroid",
        "warn",
        "Diabetes and a steroid: steroids raise blood glucose for days.",
        "intake.md (glucose check; threshold practice-configurable)",
        True,
        "the blood glucose is checked on the day of the procedure",
        "Check the blood glucose on the day, and tell the patient it may run high for a few days.",
    ),
    ShippedRule(
        "bleeding_disorder",
        "A bleeding disorder before an intermediate- or high-risk procedure",
        "warn",
        "Bleeding disorder.",
        "ASRA 2018 (N18)",
        True,
        "a plan agreed with hematology is on the order",
        "Plan the procedure with hematology and write their advice in the order's notes.",
    ),
    ShippedRule(
        "opioid_sedation",
        "An opioid on the medication list before a procedure with planned or possible sedation",
        "warn",
        "Opioids and sedation add up to respiratory depression.",
        "ASA 2018 moderate sedation guideline (opioid-tolerant patients); Opioid Risk Tool: "
        "Webster 2005 (misuse risk)",
        False,
        "",
        "Titrate sedatives to effect, monitor ventilation (capnography) and have naloxone at "
        "hand; do not stop the opioid before the procedure (withdrawal).",
    ),
]


def safety_rule_rows() -> list[dict]:
    return [rule._asdict() for rule in SAFETY_RULES]


def add_missing_safety_rules(apps, schema_editor=None) -> None:
    """RunPython: the chart-driven rules and the thresholds added since (new rows only: a
    manager's edits are kept). A migration before 0017 has no until or action columns."""
    model = apps.get_model("procedures", "SafetyRule")
    columns = {f.name for f in model._meta.fields}
    for row in safety_rule_rows():
        model.objects.get_or_create(
            key=row["key"], defaults={k: v for k, v in row.items() if k in columns}
        )
    add_missing_thresholds(apps, schema_editor)
