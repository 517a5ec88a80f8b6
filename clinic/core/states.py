"""State machines: one way to move a row's status and refuse an illegal move (409)."""

from .errors import Conflict


def move_state(obj, to: str, transitions: dict, noun: str) -> None:
    """Set `obj.status` to `to` if `transitions` allows it; `noun` names the row in the
    message ("An order", "An appointment")."""
    if to not in transitions[obj.status]:
        raise Conflict(
            f"{noun} that is {obj.status} cannot become {to}.",
            code="illegal_transition",
            status=obj.status,
            to=to,
        )
    obj.status = to
