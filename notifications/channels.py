"""Delivery channels. Email goes through Django's email backends (SMTP in production);
text messages through the backend named by SMS_BACKEND. Every send carries the message's
id as its idempotency key, and a backend that can look a key up lets recovery after a crash
know whether the provider already took the message."""

import contextlib
import json
import logging
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode
from email.mime.text import MIMEText
from pathlib import Path
from typing import Any

import hl7
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.module_loading import import_string

from .invites import Invite

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The provider did not take the message; `permanent` ones are not retried."""

    def __init__(self, detail: str, *, permanent: bool = False):
        super().__init__(detail)
        self.permanent = permanent


# --- Text messages --------------------------------------------------------------------------


class BaseSmsBackend:
    def send(self, *, key: str, to: str, body: str) -> str:
        """Send and return the provider's message id, or raise DeliveryError."""
        raise NotImplementedError

    def delivered(self, key: str) -> str | None:
        """The provider's id if a message with this key was taken; None if not known."""
        return None


class ConsoleSmsBackend(BaseSmsBackend):
    """Development: prints each text to stdout, like Django's console email backend."""

    def send(self, *, key: str, to: str, body: str) -> str:
        print(f"--- SMS to {to} [{key}]\n{body}\n---", flush=True)
        return f"console-{key}"


_locmem_outbox: list[dict] = []


class LocmemSmsBackend(BaseSmsBackend):
    """Unit tests: keeps texts in `outbox` in this process, like Django's locmem backend."""

    outbox = _locmem_outbox

    def send(self, *, key: str, to: str, body: str) -> str:
        self.outbox.append({"key": key, "to": to, "body": body})
        return f"locmem-{key}"

    def delivered(self, key: str) -> str | None:
        return f"locmem-{key}" if any(m["key"] == key for m in self.outbox) else None


def record_delivery(directory: Path, key: str, staging: Path, final: Path) -> None:
    """Move a staged file to its key's name atomically. Every call is logged: a second one
    for a key lands in duplicates.log, which the delivery tests require to stay empty."""
    try:
        os.link(staging, final)
        log = "deliveries.log"
    except FileExistsError:
        logger.warning("message %s was handed over again; the provider ignores repeats", key)
        log = "duplicates.log"
    finally:
        staging.unlink(missing_ok=True)
    with (directory / log).open("a") as handle:
        handle.write(key + "\n")


class FileSmsBackend(BaseSmsBackend):
    """Development and tests across processes: one JSON file per message, named by its key
    and written atomically, so a key can never be delivered twice. SMS_FILE_DELAY_SECONDS
    stands in for a provider's latency. SMS_FILE_HOLD_PATH names a file of keys, one a
    line: the send of a listed key waits until it is no longer listed, so a crash test kills
    a worker inside that send without racing a clock (the task's time limit bounds it)."""

    def __init__(self):
        self.directory = Path(settings.SMS_FILE_PATH)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def send(self, *, key: str, to: str, body: str) -> str:
        delay = float(getattr(settings, "SMS_FILE_DELAY_SECONDS", 0) or 0)
        if delay:
            time.sleep(delay)
        hold = getattr(settings, "SMS_FILE_HOLD_PATH", "")
        while hold and key in held_keys(Path(hold)):
            time.sleep(0.05)
        provider_id = f"file-{key}"
        payload = json.dumps({"key": key, "to": to, "body": body, "id": provider_id})
        staging = self.directory / f".{key}.{os.getpid()}.tmp"
        staging.write_text(payload)
        record_delivery(self.directory, key, staging, self._path(key))
        return provider_id

    def delivered(self, key: str) -> str | None:
        path = self._path(key)
        return json.loads(path.read_text())["id"] if path.exists() else None


def held_keys(path: Path) -> set[str]:
    """The keys listed in a FileSmsBackend hold file (none when there is no file)."""
    try:
        return set(path.read_text().split())
    except FileNotFoundError:
        return set()


class TwilioSmsBackend(BaseSmsBackend):
    """Twilio's Messages API (POST /2010-04-01/Accounts/{sid}/Messages.json). It has no
    idempotency key, so a crash between its answer and our commit can resend one text."""

    def __init__(self):
        self.sid = settings.TWILIO_ACCOUNT_SID
        self.token = settings.TWILIO_AUTH_TOKEN
        self.sender = settings.TWILIO_FROM_NUMBER
        self.base = settings.TWILIO_API_BASE.rstrip("/")

    def send(self, *, key: str, to: str, body: str) -> str:
        url = f"{self.base}/2010-04-01/Accounts/{self.sid}/Messages.json"
        data = urllib.parse.urlencode({"To": to, "From": self.sender, "Body": body}).encode()
        request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310
        auth = b64encode(f"{self.sid}:{self.token}".encode()).decode()
        request.add_header("Authorization", f"Basic {auth}")
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                answer = response.read()
        except urllib.error.HTTPError as error:
            # 4xx (a bad number, an unsubscribed recipient) will not get better by retrying.
            permanent = 400 <= error.code < 500 and error.code != 429
            raise DeliveryError(
                f"SMS provider answered {error.code}", permanent=permanent
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise DeliveryError(f"SMS provider unreachable: {type(error).__name__}") from None
        return self._provider_id(answer, key)

    @staticmethod
    def _provider_id(answer: bytes, key: str) -> str:
        """A 2xx means Twilio took the text: sending it again would be the duplicate, so an
        unreadable answer is logged and the message counts as sent."""
        try:
            return json.loads(answer)["sid"]
        except (ValueError, KeyError, TypeError):
            logger.warning("sms provider accepted message %s without a readable id", key)
            return f"twilio-unknown-{key}"


def sms_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()


# --- Email ------------------------------------------------------------------------------------

KEY_HEADER = "X-Clinic-Message"


class EmailSession:
    """One connection to the email server for many messages (Django's get_connection, kept
    open between send_messages calls), opened at the first message. Each message is handed
    over on its own, so each has its own outcome; after an error the connection is dropped
    and the next message opens a fresh one."""

    def __init__(self) -> None:
        self._connection: Any = None

    def send(
        self,
        *,
        key: str,
        to: str,
        subject: str,
        body: str,
        html: str = "",
        invite: Invite | None = None,
    ) -> str:
        message_id = f"<{key}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"
        try:
            if self._connection is None:
                self._connection = get_connection(fail_silently=False)
                self._connection.open()
            email = EmailMultiAlternatives(
                subject=subject,
                body=body,
                to=[to],
                headers={"Message-ID": message_id, KEY_HEADER: key},
                connection=self._connection,
            )
            if html:
                email.attach_alternative(html, "text/html")
            if invite is not None:
                email.attach(invite_part(invite))
            sent = self._connection.send_messages([email])
        except (OSError, ConnectionError) as error:  # smtplib's errors are OSErrors
            self.close()
            raise DeliveryError(f"email server: {type(error).__name__}") from None
        if not sent:
            raise DeliveryError("the email backend did not take the message")
        return message_id

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(OSError, ConnectionError):  # gone: nothing left on it
                connection.close()


def invite_part(invite: Invite) -> MIMEText:
    """The calendar file as calendar apps and mail clients look for it: text/calendar with
    its METHOD as a parameter, attached as invite.ics (RFC 6047 §2.4)."""
    part = MIMEText(invite.text, "calendar", "utf-8")
    part.set_param("method", invite.method)
    part.add_header("Content-Disposition", "attachment", filename="invite.ics")
    return part


def email_delivered(key: str) -> str | None:
    connection = get_connection()
    lookup = getattr(connection, "delivered", None)
    return lookup(key) if lookup else None


# --- HL7 v2 over MLLP -------------------------------------------------------------------------

# MLLP framing (HL7 Version 3 Standard: Transport Specification - MLLP, Release 2):
# <VT> message <FS><CR>.
START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
MAX_ACK_BYTES = 1_000_000
# MSA-1 (HL7 table 0008): original mode AA/AE/AR, enhanced mode CA/CE/CR.
ACCEPTED = frozenset({"AA", "CA"})
ACK_WORDS = {
    "AE": "application error",
    "AR": "application reject",
    "CE": "commit error",
    "CR": "commit reject",
}


def mllp_frame(body: str) -> bytes:
    return START_BLOCK + body.encode("utf-8") + END_BLOCK


def control_id_of(body: str) -> str:
    """MSH-10 of a message we built (its fields are never escaped separators)."""
    header = body.split("\r", 1)[0].split("|")
    return header[9] if len(header) > 9 else ""


class MllpSession:
    """One TCP connection to the interface engine for a batch of HL7 messages, opened at the
    first. Each message waits for its ACK before the next goes; an error drops the
    connection (the stream may be out of step) and the next message opens a fresh one."""

    def __init__(self) -> None:
        self._socket: socket.socket | None = None

    def send(self, *, key: str, body: str) -> str:
        """Hand one message over; returns the ACK's control id, or raises DeliveryError."""
        if not settings.HL7_MLLP_HOST:
            raise DeliveryError("No HL7 endpoint is configured (HL7_MLLP_HOST).")
        try:
            connection = self._connect()
            connection.sendall(mllp_frame(body))
            answer = read_frame(connection)
        except OSError as error:  # refused, reset, timed out (TimeoutError is an OSError)
            self.close()
            raise DeliveryError(f"HL7 endpoint: {type(error).__name__}") from None
        try:
            return acknowledged(answer, control_id_of(body))
        except DeliveryError:
            self.close()
            raise

    def _connect(self) -> socket.socket:
        if self._socket is None:
            timeout = settings.HL7_MLLP_TIMEOUT_SECONDS
            self._socket = socket.create_connection(
                (settings.HL7_MLLP_HOST, settings.HL7_MLLP_PORT), timeout=timeout
            )
            self._socket.settimeout(timeout)
        return self._socket

    def close(self) -> None:
        connection, self._socket = self._socket, None
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.close()


def read_frame(connection: socket.socket) -> str:
    """The next framed message on the connection; bytes before the start block are skipped."""
    data = b""
    while END_BLOCK not in data:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionResetError("closed before a whole ACK arrived")
        data += chunk
        if len(data) > MAX_ACK_BYTES:
            raise ConnectionResetError("no end of block in the answer")
    framed = data.split(END_BLOCK, 1)[0]
    return framed.split(START_BLOCK, 1)[-1].decode("utf-8", errors="replace")


def acknowledged(answer: str, control_id: str) -> str:
    """The ACK's own control id if it accepts our message; else DeliveryError (retried).
    The receiver's error text is not kept: it may quote the patient's data into our logs."""
    try:
        ack = hl7.parse(answer.replace("\n", "\r"))
        msa = ack.segment("MSA")
    except (hl7.ParseException, KeyError, IndexError):
        raise DeliveryError("The HL7 endpoint answered something that is no ACK.") from None
    code, acked = str(msa(1)), str(msa(2))
    if acked != control_id:
        raise DeliveryError("The HL7 endpoint acknowledged another message.")
    if code not in ACCEPTED:
        word = ACK_WORDS.get(code, "unknown acknowledgment code")
        raise DeliveryError(f"The HL7 endpoint answered {code[:2]} ({word}).")
    return str(ack.segment("MSH")(10)) or f"ack-{control_id}"
