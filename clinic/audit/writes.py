"""Who wrote: the tables tracked by django-pghistory's triggers (every insert and update,
whichever code path) file each event under a context saying who acted, in what role and
through which channel. A service decorated with `written_as_actor` sets that context from
its `by: Actor` argument for everything it writes."""

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import pghistory

from clinic.users.actor import Actor

P = ParamSpec("P")
R = TypeVar("R")


def actor_metadata(by: Actor) -> dict[str, str | None]:
    return {
        "user": str(by.user.pk) if by.user is not None else None,
        "role": by.role.value if by.role is not None else None,
        "channel": by.channel.value,
    }


def written_as_actor(service: Callable[P, R]) -> Callable[P, R]:
    """Run `service` with its `by` actor as the write context (nested calls keep the
    outermost context, so a booking inside a reschedule is filed under the same one)."""

    @functools.wraps(service)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        by = kwargs.get("by")
        if not isinstance(by, Actor):
            return service(*args, **kwargs)
        with pghistory.context(**actor_metadata(by)):
            return service(*args, **kwargs)

    return wrapper


def row_events() -> tuple[pghistory.RowEvent, ...]:
    """The trackers for an audited table: its rows as inserted, before and after each change,
    and as deleted. New ones for each model (a tracker keeps the fields of its model)."""
    return (
        pghistory.InsertEvent(),
        pghistory.UpdateEvent("change_from", row=pghistory.Old),
        pghistory.UpdateEvent("change_to", row=pghistory.New),
        pghistory.DeleteEvent(),
    )
