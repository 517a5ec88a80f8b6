"""What the staff assessment page asks for each instrument, built from instruments.py.

One definition per instrument: its items (key, label, allowed values) and whether it needs a
body region. The page renders radio buttons (a short scale or yes/no) or a number input
(0-10) from these, with no template per instrument. The item keys and names come from
instruments.py wherever it has them (ODI_SECTIONS, NDI_ITEMS, PEG_ITEMS, PGIC_ANSWERS,
ORT_ITEMS); the ranges are those the scorers accept, which patients/tests/
test_assessment_page.py checks item by item against `instruments.score`. Licensed wording
is not shown (instruments.md): ODI and NDI give section names and the 0-5 score only.
"""

from dataclasses import dataclass

from .instruments import (
    NDI_ITEMS,
    ODI_MIN_SECTIONS,
    ODI_SECTIONS,
    ORT_ITEMS,
    PEG_ITEMS,
    PGIC_ANSWERS,
    Instrument,
)

ANSWER_LIMIT = 20  # characters of one raw answer kept (an answer is a number or yes/no)

YES_NO = (("yes", "Yes"), ("no", "No"))
YES_NO_VALUES = {"yes": True, "no": False}

# PHQ response options and item topics (Kroenke, Spitzer, Williams; free to use).
PHQ_CHOICES = (
    ("0", "0 · Not at all"),
    ("1", "1 · Several days"),
    ("2", "2 · More than half the days"),
    ("3", "3 · Nearly every day"),
)
PHQ9_TOPICS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed or hopeless",
    "Trouble with sleep (falling or staying asleep, or too much)",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about oneself, a failure, letting others down",
    "Trouble concentrating",
    "Moving or speaking slowly, or being fidgety and restless",
    "Thoughts of being better off dead or of self-harm",
)
ZERO_TO_FIVE = tuple((str(n), str(n)) for n in range(6))


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    choices: tuple[tuple[str, str], ...] = ()  # radio buttons; none: a number input
    low: int | None = None  # number input bounds
    high: int | None = None
    yes_no: bool = False

    @property
    def radios(self) -> bool:
        return bool(self.choices)


@dataclass(frozen=True)
class Definition:
    instrument: str
    label: str
    items: tuple[Item, ...]
    hint: str = ""
    region: str = ""  # "required", "optional" or "" (not asked)


def _scale(pairs, choices, prefix: str) -> tuple[Item, ...]:
    return tuple(Item(key, f"{prefix}{name}", choices) for key, name in pairs)


def _phq(count: int) -> tuple[Item, ...]:
    return tuple(
        Item(f"q{n}", f"{n}. {topic}", PHQ_CHOICES)
        for n, topic in enumerate(PHQ9_TOPICS[:count], start=1)
    )


DEFINITIONS: dict[str, Definition] = {
    d.instrument: d
    for d in (
        Definition(
            Instrument.NRS,
            Instrument.NRS.label,
            (Item("score", "Pain now, 0 (no pain) to 10 (worst imaginable)", low=0, high=10),),
            region="required",
        ),
        Definition(
            Instrument.ODI,
            Instrument.ODI.label,
            _scale(ODI_SECTIONS, ZERO_TO_FIVE, ""),
            hint=(
                "Each section 0 (no limitation) to 5 (the section's last statement). "
                f"At least {ODI_MIN_SECTIONS} of {len(ODI_SECTIONS)} sections are needed "
                "for a score; leave a section the patient did not answer empty."
            ),
        ),
        Definition(
            Instrument.NDI,
            Instrument.NDI.label,
            _scale(NDI_ITEMS, ZERO_TO_FIVE, ""),
            hint="Each item 0 (no limitation) to 5; all 10 are needed (total 0-50).",
        ),
        Definition(
            Instrument.PEG,
            Instrument.PEG.label,
            tuple(Item(key, f"{name}, 0 to 10", low=0, high=10) for key, name in PEG_ITEMS),
            hint="Over the past week; the score is the mean of the three.",
            region="optional",
        ),
        Definition(
            Instrument.PGIC,
            Instrument.PGIC.label,
            (
                Item(
                    "change",
                    "Since treatment began, the patient's condition is",
                    tuple((str(n), f"{n} · {label}") for n, (_, label) in PGIC_ANSWERS.items()),
                ),
            ),
            region="optional",
        ),
        Definition(
            Instrument.PHQ2,
            Instrument.PHQ2.label,
            _phq(2),
            hint="Over the last 2 weeks, how often bothered by:",
        ),
        Definition(
            Instrument.PHQ9,
            Instrument.PHQ9.label,
            _phq(9),
            hint=(
                "Over the last 2 weeks, how often bothered by each. Item 9 above 0 flags the "
                "patient urgent for a clinician the same day."
            ),
        ),
        Definition(
            Instrument.ORT,
            Instrument.ORT.label,
            tuple(Item(key, name, YES_NO, yes_no=True) for key, name in ORT_ITEMS),
            hint="Scored with the patient's sex and age from the chart.",
        ),
    )
}


def parse_answers(definition: Definition, data) -> tuple[dict, dict[str, str]]:
    """The items as the service takes them and the raw answers (to show the form again).

    An empty answer is left out (the scorer says whether the item is required); a whole
    number becomes an int and yes/no a boolean; anything else is passed on as text, so that
    the scorer's own message says what is wrong with it."""
    items: dict[str, object] = {}
    raw: dict[str, str] = {}
    for item in definition.items:
        text = str(data.get(item.key, "")).strip()[:ANSWER_LIMIT]
        raw[item.key] = text
        if text:
            items[item.key] = _value(item, text)
    return items, raw


def _value(item: Item, text: str) -> object:
    if item.yes_no:
        return YES_NO_VALUES.get(text.lower(), text)
    try:
        return int(text)
    except ValueError:
        return text
