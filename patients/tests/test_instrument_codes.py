"""The instruments' LOINC codes: one file (patients/data/loinc.csv), every instrument and
every item of patients/instruments.py in it, each with its source; unconfirmed codes flagged."""

import re

from patients.instrument_codes import PANEL, TOTAL, instrument_codes, instrument_of_loinc
from patients.instruments import NDI_ITEMS, ODI_SECTIONS, ORT_ITEMS, PEG_ITEMS, Instrument

LOINC_FORMAT = re.compile(r"^\d{1,7}-\d$")
ITEMS = {
    Instrument.ODI: [key for key, _ in ODI_SECTIONS],
    Instrument.NDI: [key for key, _ in NDI_ITEMS],
    Instrument.PEG: [key for key, _ in PEG_ITEMS],
    Instrument.ORT: [key for key, _ in ORT_ITEMS],
    Instrument.PHQ2: ["q1", "q2"],
    Instrument.PHQ9: [f"q{n}" for n in range(1, 10)],
}


def loinc_check_digit_ok(code: str) -> bool:
    """LOINC's mod-10 check digit (the Luhn algorithm over the digits before the hyphen)."""
    number, check = code.split("-")
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return (10 - total % 10) % 10 == int(check)


def test_every_instrument_and_item_has_a_row():
    codes = instrument_codes()
    for instrument in Instrument:
        assert (instrument.value, TOTAL) in codes, instrument
    for instrument, items in ITEMS.items():
        for item in items:
            assert (instrument.value, item) in codes, (instrument, item)


def test_every_row_names_its_source_and_a_blank_code_is_never_certain():
    for row in instrument_codes().values():
        assert row.source, row
        if not row.code:
            assert not row.certain, row


def test_every_code_is_well_formed_with_a_valid_check_digit():
    for row in instrument_codes().values():
        if row.code:
            assert LOINC_FORMAT.match(row.code), row
            assert loinc_check_digit_ok(row.code), row


def test_panels_and_the_uncertain_totals():
    codes = instrument_codes()
    assert codes[("phq9", PANEL)].code == "44249-1"
    assert codes[("odi", PANEL)].code == "97908-8"
    assert codes[("ort", PANEL)].code == "91393-9"
    assert codes[("ort", TOTAL)].code == "91392-1" and codes[("ort", TOTAL)].certain
    for instrument in ("ndi", "pgic"):
        assert not codes[(instrument, TOTAL)].certain


def test_a_shared_item_code_reads_as_the_phq9_item():
    assert instrument_of_loinc("44250-9") == ("phq9", "q1")
    assert instrument_of_loinc("44261-6") == ("phq9", TOTAL)
