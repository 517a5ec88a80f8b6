"""Which patients' data a request read: noted where rows are made, not where views remember.

Every model holding a patient's data derives from `PatientData`; Django builds each row it
loads through `Model.from_db` (plain querysets, `select_related`, prefetches, the admin, DRF
serializers), and the override below notes the row's patient in the request's read set. The
audit middleware opens the set before the view and writes one audit row for it after, so a
new page or API cannot forget to audit: it cannot load a patient's row without it being
noted. Reads that bypass model instances (`values()`, raw SQL) are caught by the URLconf
walk in tests/test_read_audit.py, which fails on any response showing a patient's data
with no audit row naming them.
"""

import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar, Self

from django.db import models


class ReadSet(set[uuid.UUID]):
    """The patients a request read, and whether it read figures computed over many
    patients' data (a report), which is audited even when no one patient's row was loaded."""

    figures: bool = False


_read_set: ContextVar[ReadSet | None] = ContextVar("audit_read_set", default=None)


def note_patient_read(patient_id: uuid.UUID | None) -> None:
    """Add one patient to the current request's read set (no-op outside a request)."""
    patients = _read_set.get()
    if patients is not None and patient_id is not None:
        patients.add(patient_id)


def note_figures_read() -> None:
    """Mark the current request as a read of figures over patients' data (no-op outside a
    request): the audit middleware then records it even if it names no patient."""
    reads = _read_set.get()
    if reads is not None:
        reads.figures = True


@contextmanager
def collecting_reads() -> Iterator[ReadSet]:
    """Collect the patients whose rows are loaded inside the block."""
    patients = ReadSet()
    token = _read_set.set(patients)
    try:
        yield patients
    finally:
        _read_set.reset(token)


class PatientData(models.Model):
    """A model whose rows are one patient's data; loading a row notes that patient."""

    # The attribute holding the patient's id on a loaded row ("id" for the Patient itself).
    audit_patient_attname: ClassVar[str] = "patient_id"

    class Meta:
        abstract = True

    @classmethod
    def from_db(
        cls, db: str | None, field_names: Collection[str], values: Collection[Any], **kwargs: Any
    ) -> Self:
        instance = super().from_db(db, field_names, values, **kwargs)
        # A deferred patient column is not fetched just to be noted; the view reading
        # patient data loads it, and then it is noted.
        note_patient_read(instance.__dict__.get(cls.audit_patient_attname))
        return instance
