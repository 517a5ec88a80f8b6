"""A small MLLP listener for tests: a TCP server on a local port that records every HL7
message it receives (parsed with the `hl7` package) and answers each with an ACK whose
code the test sets (AA by default, or AE, AR; None answers nothing, so the sender times
out). It can be stopped and started again on the same port, as an interface engine that
was down for a while."""

import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import hl7
import pytest

from notifications.channels import END_BLOCK, START_BLOCK, mllp_frame, read_frame
from tests.support import free_port


@dataclass
class Received:
    texts: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ack_code: str | None = "AA"

    def add(self, text: str) -> None:
        with self.lock:
            self.texts.append(text)

    def messages(self) -> list[hl7.Message]:
        with self.lock:
            return [hl7.parse(text) for text in self.texts]

    def triggers(self) -> list[str]:
        """SIU^S12 ... of each message received, in order."""
        return [str(message.segment("MSH")(9)) for message in self.messages()]


class _Handler(socketserver.BaseRequestHandler):
    server: "_Server"

    def handle(self) -> None:
        while True:
            try:
                text = read_frame(self.request)
            except OSError:
                return
            received = self.server.received
            received.add(text)
            if received.ack_code is None:
                continue
            ack = hl7.parse(text).create_ack(ack_code=received.ack_code)
            self.request.sendall(mllp_frame(str(ack)))


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    received: Received


class MllpListener:
    def __init__(self, port: int) -> None:
        self.port = port
        self.received = Received()
        self._server: _Server | None = None

    def start(self) -> "MllpListener":
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.received = self.received
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()


@pytest.fixture
def listener(settings) -> Iterator[MllpListener]:
    """The interface engine's port on this machine, configured as the endpoint; the
    listener itself starts when the test asks."""
    port = free_port()
    settings.HL7_MLLP_HOST, settings.HL7_MLLP_PORT = "127.0.0.1", port
    settings.HL7_MLLP_TIMEOUT_SECONDS = 5
    box = MllpListener(port)
    yield box
    box.stop()


__all__ = ["END_BLOCK", "START_BLOCK", "MllpListener", "listener"]
