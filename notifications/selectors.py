from django.db.models import QuerySet

from .models import Message, MessageState

PAGE_SIZE = 100


def messages_of(patient) -> QuerySet[Message]:
    return Message.objects.filter(patient=patient).select_related("location").order_by("-due_at")


def messages_failed() -> QuerySet[Message]:
    return (
        Message.objects.filter(state=MessageState.FAILED)
        .select_related("patient", "location")
        .order_by("-updated_at")
    )


def message_counts() -> dict[str, int]:
    from django.db.models import Count

    rows = Message.objects.values("state").annotate(n=Count("id"))
    return {row["state"]: row["n"] for row in rows}
