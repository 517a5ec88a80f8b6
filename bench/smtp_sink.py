"""A local SMTP server that takes every message and keeps only what a benchmark counts: one
line per SMTP session ("session") and one per message ("message <key>", the outbox key from
the X-Clinic-Message header), appended to --log. Built on aiosmtpd (a dev dependency).

    .venv/bin/python bench/smtp_sink.py --port 8025 --log /tmp/sink.log

It runs until SIGTERM or SIGINT. It listens on 127.0.0.1 only.
"""

import argparse
import re
import signal
import threading
from typing import IO

from aiosmtpd.controller import Controller

KEY = re.compile(rb"^X-Clinic-Message:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


class CountingHandler:
    def __init__(self, log: IO[str]) -> None:
        self.log = log

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self._write("session")
        return responses

    async def handle_DATA(self, server, session, envelope):
        found = KEY.search(envelope.original_content or envelope.content or b"")
        self._write(f"message {found.group(1).decode() if found else '-'}")
        return "250 Message accepted for delivery"

    def _write(self, line: str) -> None:
        self.log.write(line + "\n")
        self.log.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True, help="file the sessions and keys go to")
    args = parser.parse_args()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with open(args.log, "a", encoding="ascii") as log:
        controller = Controller(CountingHandler(log), hostname="127.0.0.1", port=args.port)
        controller.start()
        print(f"SMTP sink on 127.0.0.1:{args.port}", flush=True)
        stop.wait()
        controller.stop()


if __name__ == "__main__":
    main()
