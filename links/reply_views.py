"""The webhook Twilio calls with each text message a patient sends to our number."""

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.template.loader import render_to_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from clinic.users.actor import Actor
from notifications.kinds import absolute

from .replies import text_reply_receive
from .twilio import SIGNATURE_HEADER, twilio_signature_valid

MESSAGE_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")


def twiml(reply: str) -> HttpResponse:
    """TwiML: the answer as one message back to the sender, or an empty response."""
    body = render_to_string("links/twiml.xml", {"reply": reply})
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


@csrf_exempt  # signed by Twilio instead (X-Twilio-Signature), checked first
@require_POST
def twilio_inbound_text(request: HttpRequest) -> HttpResponse:
    """Form-encoded From, Body and MessageSid among Twilio's parameters. A bad signature is
    403 and nothing is read; a message id seen before gets its first answer again."""
    signed = twilio_signature_valid(
        # The URL Twilio was told to call: the public address, not the one behind the proxy.
        url=absolute(request.get_full_path()),
        params=[(name, value) for name, values in request.POST.lists() for value in values],
        auth_token=settings.TWILIO_AUTH_TOKEN,
        signature=request.META.get(SIGNATURE_HEADER, ""),
    )
    if not signed:
        return HttpResponseForbidden("The request's signature is not valid.")
    message_sid = request.POST.get("MessageSid", "")
    if not MESSAGE_SID.match(message_sid) or not request.POST.get("From"):
        return HttpResponseBadRequest("MessageSid and From are required.")
    reply = text_reply_receive(
        message_sid=message_sid,
        sender_number=request.POST.get("From", ""),
        body=request.POST.get("Body", ""),
        by=Actor.message_link(),
    )
    return twiml(reply)
