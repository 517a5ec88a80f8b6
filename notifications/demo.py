"""Demo messages. The other seeders' bookings and procedures already planned their messages
through the real services; here the ones due in the past become history (sent when due, as
a running clinic would have done), and two become failures for the staff page."""

from django.db.models import F
from django.utils import timezone

from clinic.core.demo import DemoContext

from .models import Message, MessageState

FAILURES = [
    "SMS provider answered 400",
    "email server: SMTPRecipientsRefused",
]


def seed(ctx: DemoContext) -> None:
    now = timezone.now()
    past = Message.objects.filter(state=MessageState.PENDING, send_after__lte=now)
    failed = []
    if not Message.objects.filter(state=MessageState.FAILED).exists():
        failed = list(past.order_by("send_after").values_list("id", flat=True)[: len(FAILURES)])
        for message_id, error in zip(failed, FAILURES, strict=False):
            Message.objects.filter(pk=message_id).update(
                state=MessageState.FAILED, attempts=5, last_error=error, updated_at=now
            )
    past.exclude(pk__in=failed).update(
        state=MessageState.SENT, sent_at=F("send_after"), attempts=1, updated_at=now
    )
    ctx.counts["messages planned"] = Message.objects.count()
    ctx.counts["messages pending"] = Message.objects.filter(state=MessageState.PENDING).count()
