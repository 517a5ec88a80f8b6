"""The intake questionnaire's own answers (not chart items): complaint, pain, red flags,
whether the patient takes a blood thinner.

Red flags follow AHCPR Clinical Practice Guideline 14 as summarised in
shared/domain/intake.md. Only findings a patient can report are asked; age is shown to
the reviewer but does not make an intake urgent on its own (most pain patients are over
50), and loss of anal sphincter tone is an examination finding, not a question.
"""

from django.utils.translation import gettext_noop

from clinic.core.errors import ValidationFailed

from .models import BodyRegion

# Marked for the catalog: the portal's intake asks them in the patient's language.
RED_FLAGS = {
    # Fracture
    "major_trauma": gettext_noop("Major trauma (for example a fall from height or a car accident)"),
    "minor_trauma_osteoporosis": gettext_noop(
        "Minor trauma with osteoporosis or in an older patient"
    ),
    # Tumour or infection
    "cancer_history": gettext_noop("History of cancer"),
    "fever_or_chills": gettext_noop("Fever or chills"),
    "unexplained_weight_loss": gettext_noop("Unexplained weight loss"),
    "recent_bacterial_infection": gettext_noop("Recent bacterial infection"),
    "iv_drug_use": gettext_noop("Intravenous drug use"),
    "immunosuppression": gettext_noop("Immunosuppression (for example steroids, transplant, HIV)"),
    "pain_worse_at_night_or_rest": gettext_noop("Pain worse at night or at rest"),
    # Cauda equina
    "saddle_anaesthesia": gettext_noop("Numbness in the groin, buttocks or inner thighs"),
    "new_bladder_dysfunction": gettext_noop("New trouble passing urine, or new incontinence"),
    "progressive_leg_weakness": gettext_noop("Leg weakness that is severe or getting worse"),
}

ONSET_CHOICES = ("sudden", "gradual", "after_injury", "after_surgery", "unknown")
TEXT_LIMIT = 2000
# "Do you take a blood thinner?", asked plainly; "" where it was not asked (an intake
# entered by staff, or sent before the question was). With "yes" comes the name, if known.
BLOOD_THINNER_ANSWERS = ("yes", "no", "not_sure")
MEDICATION_NAME_LIMIT = 120  # Medication.name


def _text(value, field: str, errors: dict, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = ["Must be text."]
        return ""
    value = value.strip()
    if required and not value:
        errors[field] = ["This field is required."]
    if len(value) > TEXT_LIMIT:
        errors[field] = [f"At most {TEXT_LIMIT} characters."]
    return value


def _red_flags(value, errors: dict) -> dict:
    if not isinstance(value, dict):
        errors["red_flags"] = ["Answer each red-flag question with true or false."]
        return {}
    flag_errors = {}
    for key, answer in value.items():
        if key not in RED_FLAGS:
            flag_errors[key] = ["Unknown question."]
        elif not isinstance(answer, bool):
            flag_errors[key] = ["Answer true or false."]
    missing = [key for key in RED_FLAGS if key not in value]
    for key in missing:
        flag_errors[key] = ["This question needs an answer."]
    if flag_errors:
        errors["red_flags"] = flag_errors
    return {key: value.get(key) is True for key in RED_FLAGS}


def _blood_thinner(answers: dict, errors: dict) -> dict:
    answer = answers.get("blood_thinner") or ""
    if answer not in ("", *BLOOD_THINNER_ANSWERS):
        errors["blood_thinner"] = [f"Choose one of: {', '.join(BLOOD_THINNER_ANSWERS)}."]
        answer = ""
    name = answers.get("blood_thinner_name") or ""
    if not isinstance(name, str):
        errors["blood_thinner_name"] = ["Must be text."]
        name = ""
    name = name.strip()
    if len(name) > MEDICATION_NAME_LIMIT:
        errors["blood_thinner_name"] = [f"At most {MEDICATION_NAME_LIMIT} characters."]
    return {"blood_thinner": answer, "blood_thinner_name": name if answer == "yes" else ""}


def blood_thinner_to_check(answers: dict) -> bool:
    """The patient takes a blood thinner, or is not sure: a clinician looks at the intake."""
    return answers.get("blood_thinner") in ("yes", "not_sure")


def clean_answers(answers: dict) -> dict:
    """Validate the questionnaire answers; raises ValidationFailed under "answers"."""
    if not isinstance(answers, dict):
        raise ValidationFailed({"answers": ["Give the answers as an object."]})
    errors: dict = {}
    locations = answers.get("pain_locations") or []
    if not isinstance(locations, list) or any(loc not in BodyRegion.values for loc in locations):
        errors["pain_locations"] = [f"Choose from: {', '.join(BodyRegion.values)}."]
    onset = answers.get("onset", "unknown")
    if onset not in ONSET_CHOICES:
        errors["onset"] = [f"Choose one of: {', '.join(ONSET_CHOICES)}."]
    treatments = answers.get("treatments_tried") or []
    if not isinstance(treatments, list) or not all(isinstance(t, str) for t in treatments):
        errors["treatments_tried"] = ["Give a list of treatments."]
    cleaned = {
        "chief_complaint": _text(
            answers.get("chief_complaint"), "chief_complaint", errors, required=True
        ),
        "pain_locations": locations,
        "onset": onset,
        "pain_duration": _text(answers.get("pain_duration"), "pain_duration", errors),
        "treatments_tried": treatments,
        "red_flags": _red_flags(answers.get("red_flags"), errors),
        **_blood_thinner(answers, errors),
    }
    unknown = set(answers) - set(cleaned)
    for key in unknown:
        errors[key] = ["Unknown question."]
    if errors:
        raise ValidationFailed({"answers": errors})
    return cleaned


def urgent_reasons(answers: dict, assessment_flags: list[str]) -> list[str]:
    """Why an intake needs a clinician today: positive red flags, PHQ-9 item 9 above 0."""
    reasons = [
        f"red_flag:{key}" for key, positive in answers.get("red_flags", {}).items() if positive
    ]
    if "phq9_item9_positive" in assessment_flags:
        reasons.append("phq9_item9_positive")
    return reasons
