"""A booking storm through gunicorn (issue 16, points 3 and 7): `--clients` HTTP clients x
`--rounds` rounds, each round every client asking for one of a few slots (four starts 15
minutes apart, on a day of the round's own) of three providers who share the one room,
split across `--servers` gunicorn instances on the one database. Every request must be
answered 201, or 409 `slot_taken`/`patient_busy` with alternatives; 0 5xx; 0 overlapping
visits afterwards (the SQL self-join).

    .venv/bin/python bench/storm.py                              # 200 x 20, two servers
    .venv/bin/python bench/storm.py --clients 50 --rounds 4      # a quick look

It seeds its own database (clinic_bench_h1_storm), like the other benchmarks, and prints
the answers by kind, p50/p95/max latency, the wall time, the load average and the commit.
"""

import argparse
import json
from collections import Counter
from contextlib import ExitStack

from benchkit import machine_line, own_database, server_url, with_database
from served import (
    DESK_PASSWORD,
    BookingClinic,
    exit_on_sigterm,
    fire,
    gunicorn,
    seed_clinic,
    staff_token,
    token_headers,
)

BENCH_DB = "clinic_bench_h1_storm"
BOOK = "/api/v1/appointments/"
PROVIDERS, STARTS = 3, 4


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--servers", type=int, default=2, help="gunicorn instances")
    parser.add_argument("--workers", type=int, default=2, help="workers per instance")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database")
    return parser.parse_args()


def storm(clinic: BookingClinic, clients: int, rounds: int) -> list[tuple[str, str, dict]]:
    """Round by round: every client asks for one of the few contended slots of that day."""
    requests = []
    for round_ in range(rounds):
        for client in range(clients):
            body = clinic.booking(client % PROVIDERS, round_, (client // PROVIDERS) % STARTS)
            body["patient"] = clinic.patient_ids[client % len(clinic.patient_ids)]
            requests.append(("POST", BOOK, body))
    return requests


def kind_of(status: int, body: bytes) -> str:
    if status != 409:
        return str(status)
    answer = json.loads(body)
    return f"409 {answer.get('code')}" + ("" if answer.get("alternatives") else " (none offered)")


def main() -> None:
    exit_on_sigterm()
    args = parse_args()
    with own_database(BENCH_DB, keep=args.keep):
        from scheduling.models import Appointment
        from scheduling.overlaps import overlapping_pairs

        clinic = seed_clinic(providers=PROVIDERS, shared_room=True)
        database = with_database(server_url(), BENCH_DB)
        with ExitStack() as stack:
            servers = [
                stack.enter_context(gunicorn(database, workers=args.workers, name=f"storm-{n}"))
                for n in range(args.servers)
            ]
            addresses = [server.address for server in servers]
            token = staff_token(addresses[0], clinic.desk_username, DESK_PASSWORD)
            firing = fire(
                addresses,
                storm(clinic, args.clients, args.rounds),
                clients=args.clients,
                headers=token_headers(token),
            )
        kinds = Counter(kind_of(o.status, o.body) for o in firing.outcomes)
        total = args.clients * args.rounds
        print(
            f"\n{args.clients} clients x {args.rounds} rounds = {total} requests, "
            f"{args.servers} gunicorn x {args.workers} workers, {PROVIDERS} providers sharing "
            f"one room, {STARTS} starts a round"
        )
        print(
            f"answered: {len(firing.outcomes)} of {total}; connection errors: {dict(firing.errors)}"
        )
        for kind, count in sorted(kinds.items()):
            print(f"  {kind:<28} {count:>6}")
        server_errors = sum(n for status, n in firing.statuses().items() if status >= 500)
        print(f"5xx: {server_errors}")
        print(
            f"latency ms: p50 {firing.latency(0.5):.0f}, p95 {firing.latency(0.95):.0f}, "
            f"max {firing.latency(1.0):.0f}; wall {firing.seconds:.1f} s "
            f"({firing.seconds / args.rounds:.2f} s a round)"
        )
        print(
            f"booked rows: {Appointment.objects.count()}, overlapping visits: {overlapping_pairs()}"
        )
        print(machine_line())


if __name__ == "__main__":
    main()
