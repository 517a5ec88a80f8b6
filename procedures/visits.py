"""The booked visit that holds an order, as the record form needs it: when, where and by whom.

Visits belong to scheduling, a floor above this one (docs/decisions/0018-floors.md), so this
module knows them only through the reader scheduling registers in its AppConfig.ready(); with
none registered (or no visit booked) the record form simply starts empty.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from .models import ProcedureOrder


@dataclass(frozen=True)
class VisitFacts:
    visit_id: UUID
    local_start: datetime  # in the visit's location's time zone
    location_id: UUID
    provider_id: UUID


VisitReader = Callable[[ProcedureOrder, UUID | None], VisitFacts | None]
_readers: list[VisitReader] = []


def register_visit_reader(reader: VisitReader) -> None:
    _readers[:] = [reader]


def booked_visit(order: ProcedureOrder, visit_id: UUID | None = None) -> VisitFacts | None:
    """The visit holding `order` (the one named by `visit_id` when given and it holds it)."""
    for reader in _readers:
        return reader(order, visit_id)
    return None
