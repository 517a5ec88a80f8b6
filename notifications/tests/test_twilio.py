"""The Twilio text backend against a real HTTP server on this machine that answers like
Twilio's Messages API: what it sends, the id it returns, and which failures are retried."""

import json
import threading
from base64 import b64decode
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from notifications.channels import DeliveryError, TwilioSmsBackend, sms_backend
from tests.support import free_port

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-test-auth-token"
SENDER = "+19195550199"
PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"


class FakeTwilio(ThreadingHTTPServer):
    """Records each request; answers with `status` and `answer` (JSON)."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[dict] = []
        self.status = 201
        self.answer: dict = {"sid": "SM00000000000000000000000000000001", "status": "queued"}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeTwilio

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.server.requests.append(
            {
                "method": "POST",
                "path": self.path,
                "headers": dict(self.headers),
                "body": self.rfile.read(length).decode(),
            }
        )
        payload = json.dumps(self.server.answer).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):  # keep the test output clean
        pass


@pytest.fixture
def twilio(settings):
    server = FakeTwilio()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TWILIO_API_BASE = server.url + "/"
    settings.TWILIO_ACCOUNT_SID = SID
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_FROM_NUMBER = SENDER
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def send(body: str = "Clinic: Hi Rosa, a reminder of your visit.") -> str:
    return TwilioSmsBackend().send(key="message-key-1", to="+19195550123", body=body)


def test_it_posts_the_text_form_encoded_with_basic_auth_and_returns_the_sid(twilio):
    body = "Clinic: Hi Rosa, confirm: https://clinic.example/m/abc/ & more = 100%"
    assert send(body) == "SM00000000000000000000000000000001"
    [request] = twilio.requests
    assert (request["method"], request["path"]) == ("POST", PATH)
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    scheme, credentials = headers["authorization"].split(" ", 1)
    assert scheme == "Basic"
    assert b64decode(credentials).decode() == f"{SID}:{TOKEN}"
    assert parse_qs(request["body"], strict_parsing=True) == {
        "To": ["+19195550123"],
        "From": [SENDER],
        "Body": [body],
    }


def test_the_backend_setting_selects_twilio(settings, twilio):
    settings.SMS_BACKEND = "notifications.channels.TwilioSmsBackend"
    assert isinstance(sms_backend(), TwilioSmsBackend)
    assert sms_backend().send(key="k", to="+19195550123", body="Hi") == twilio.answer["sid"]


@pytest.mark.parametrize("status", [400, 401, 404])
def test_a_refusal_is_permanent(twilio, status):
    twilio.status = status
    twilio.answer = {"code": 21211, "message": "The 'To' number is not a valid phone number."}
    with pytest.raises(DeliveryError) as error:
        send()
    assert error.value.permanent is True
    assert str(error.value) == f"SMS provider answered {status}"
    assert "+19195550123" not in str(error.value), "no phone number in the stored error"
    assert len(twilio.requests) == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_busy_or_broken_provider_is_retried(twilio, status):
    twilio.status = status
    twilio.answer = {"code": 20429, "message": "Too Many Requests"}
    with pytest.raises(DeliveryError) as error:
        send()
    assert error.value.permanent is False
    assert str(error.value) == f"SMS provider answered {status}"


def test_an_unreachable_provider_is_retried(settings):
    port = free_port()  # nothing listens on it
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{port}"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TOKEN
    settings.TWILIO_FROM_NUMBER = SENDER
    with pytest.raises(DeliveryError) as error:
        send()
    assert error.value.permanent is False
    assert str(error.value).startswith("SMS provider unreachable: ")


def test_an_accepted_text_without_a_readable_id_counts_as_sent_not_as_an_error(twilio):
    # Twilio took it (2xx): raising would retry it and send the patient a second text.
    twilio.answer = {"status": "queued"}
    assert send() == "twilio-unknown-message-key-1"
    assert len(twilio.requests) == 1
