"""Phone numbers as people read them.

{% load phones %}
{{ location.phone|phone }}   -> "(303) 555-0100"
"""

import phonenumbers
from django import template

from clinic.core.phones import format_phone

register = template.Library()


@register.filter
def phone(value: object) -> str:
    """The national form of a stored (E.164) number; anything unparsable as it was."""
    text = str(value or "")
    try:
        return format_phone(text)
    except phonenumbers.NumberParseException:
        return text
