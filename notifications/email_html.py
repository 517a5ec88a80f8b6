"""The HTML part of an email, laid out from its text as sent: the text part and the HTML
part come from the one template per kind of message, so they never say different things.
Paragraphs stay paragraphs; a line that ends in a link becomes a button."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string

LINK_AT_END = re.compile(r"^(?P<label>.*?)[\s:]*(?P<url>https?://\S+)$")


@dataclass(frozen=True)
class Line:
    text: str
    url: str = ""


def _line(text: str) -> Line:
    match = LINK_AT_END.match(text.strip())
    if match is None:
        return Line(text.strip())
    return Line(match["label"].strip() or match["url"], match["url"])


def paragraphs(body: str) -> list[list[Line]]:
    return [
        [_line(line) for line in block.splitlines() if line.strip()]
        for block in re.split(r"\n\s*\n", body)
        if block.strip()
    ]


def email_html(body: str, *, subject: str) -> str:
    return render_to_string(
        "notifications/email/_layout.html",
        {
            "paragraphs": paragraphs(body),
            "subject": subject,
            "clinic_name": settings.CLINIC_NAME,
            "colour": settings.CLINIC_BRAND_COLOUR,
        },
    )
