"""Wall-clock times in a location's zone, with DST handled on purpose."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from clinic.core.errors import ValidationFailed


def to_aware(value: datetime, zone: ZoneInfo, field: str = "start") -> datetime:
    """An aware datetime as it is; a naive one read as wall-clock time in `zone`.

    A time that does not exist there (the spring-forward gap) is a field error; a time that
    happens twice (the fall-back hour) means its first occurrence.
    """
    if value.tzinfo is not None:
        return value
    aware = value.replace(tzinfo=zone, fold=0)
    try:
        round_trip = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        raise ValidationFailed({field: ["This time is out of range."]}) from None
    if round_trip != value:
        raise ValidationFailed(
            {
                field: [
                    f"{value:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks jump "
                    "forward an hour that night. Choose another time."
                ]
            }
        )
    return aware
