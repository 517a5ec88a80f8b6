"""Booking throughput through the deployed web server (issue 16, point 4): successful
bookings a second by POST /api/v1/appointments/ on distinct free slots, through gunicorn
with the production settings, and 0 overlapping visits afterwards.

Run from the project root:

    .venv/bin/python bench/throughput.py                         # sync x 3 (the chosen config)
    .venv/bin/python bench/throughput.py --config sync:3 gthread:2:4 gthread:3:4
    .venv/bin/python bench/throughput.py --help                  # --bookings, --clients, --runs

It never touches the dev database: it drops and recreates clinic_bench_h1_throughput on the
server of DATABASE_URL, migrates it and seeds one location (America/Chicago) with
`--providers` providers, a consult room each, working every day 08:00-17:00, a 15-minute
follow-up, and patients who take email. For each `--config` (worker class:workers[:threads])
it starts gunicorn (gunicorn.conf.py, clinic.settings.production, DEBUG off) on a free port,
gets a front desk API token as a client does (password and the authenticator app's code),
and per run fires `--bookings` bookings of distinct free slots (each run on days of its
own) from `--clients` threads with kept-alive connections. It prints per run the successful
bookings a second, the 4xx and 5xx counts and the p50/p95 latency, the median run, the
overlaps the SQL self-join finds (must be 0), the load average and the commit.
"""

import argparse
import os
import statistics
from dataclasses import dataclass

from benchkit import machine_line, own_database, server_url, vacuum_analyze, with_database
from served import (
    DESK_PASSWORD,
    SLOTS_A_DAY,
    BookingClinic,
    CpuClock,
    Firing,
    exit_on_sigterm,
    fire,
    gunicorn,
    seed_clinic,
    staff_token,
    token_headers,
)

BENCH_DB = "clinic_bench_h1_throughput"
BOOK = "/api/v1/appointments/"


@dataclass(frozen=True)
class Config:
    worker_class: str
    workers: int
    threads: int

    @classmethod
    def parse(cls, text: str) -> "Config":
        kind, workers, *threads = text.split(":")
        return cls(kind, int(workers), int(threads[0]) if threads else 1)

    def __str__(self) -> str:
        extra = f" x {self.threads} threads" if self.worker_class == "gthread" else ""
        return f"{self.worker_class}, {self.workers} workers{extra}"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--config",
        nargs="+",
        default=["sync:3"],
        help="worker_class:workers[:threads] to measure, e.g. sync:3 gthread:2:4",
    )
    parser.add_argument("--providers", type=int, default=20)
    parser.add_argument("--bookings", type=int, default=1500, help="bookings a run")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database")
    return parser.parse_args()


class Days:
    """Hands out days no run has booked yet."""

    def __init__(self) -> None:
        self.next = 0

    def take(self, count: int) -> range:
        taken = range(self.next, self.next + count)
        self.next += count
        return taken


def bookings(clinic: BookingClinic, days: range, count: int) -> list[tuple[str, str, dict]]:
    """`count` distinct free slots, consecutive ones with different providers."""
    slots = (
        clinic.booking(provider, day, slot)
        for day in days
        for slot in range(SLOTS_A_DAY)
        for provider in range(len(clinic.provider_ids))
    )
    return [("POST", BOOK, body) for _, body in zip(range(count), slots, strict=False)]


def summary(run: int | str, firing: Firing, cpu: CpuClock) -> str:
    statuses = firing.statuses()
    client = sum(n for s, n in statuses.items() if 400 <= s < 500)
    server = sum(n for s, n in statuses.items() if s >= 500)
    booked = max(statuses[201], 1)
    web, db = (cpu.spent[part] * 1000 / booked for part in ("web", "db"))
    return (
        f"{run!s:>4} {statuses[201]:>7} {firing.seconds:>7.2f} {firing.per_second(201):>10.1f} "
        f"{client:>5} {server:>5} {sum(firing.errors.values()):>6} "
        f"{firing.latency(0.5):>7.1f} {firing.latency(0.95):>7.1f} "
        f"{web:>7.2f} {db:>6.2f} {cpu.spent['client'] * 1000 / booked:>7.2f} {2000 / (web + db):>6.0f}"
    )


HEADER = (
    f"{'run':>4} {'201':>7} {'wall s':>7} {'booked/s':>10} {'4xx':>5} {'5xx':>5} {'conn':>6} "
    f"{'p50 ms':>7} {'p95 ms':>7} {'web cpu':>7} {'db cpu':>6} {'clients':>7} {'cap/s':>6}"
)
CPU_NOTE = (
    "web cpu, db cpu: CPU ms a booking of gunicorn (master and workers) and of the PostgreSQL\n"
    "backends; clients: of this process's HTTP clients; cap/s: 2 cores / (web + db), the\n"
    "bookings a second two idle cores would serve (load-independent, unlike booked/s)"
)


def measure_config(config: Config, clinic: BookingClinic, args, days: Days) -> float:
    from scheduling.overlaps import overlapping_pairs

    database = with_database(server_url(), BENCH_DB)
    per_day = SLOTS_A_DAY * len(clinic.provider_ids)
    need_days = -(-args.bookings // per_day)
    with gunicorn(
        database,
        workers=config.workers,
        worker_class=config.worker_class,
        threads=config.threads,
        name="throughput",
    ) as server:
        headers = token_headers(staff_token(server.address, clinic.desk_username, DESK_PASSWORD))
        warm = fire(
            [server.address],
            bookings(clinic, days.take(1), 4 * args.clients),
            clients=args.clients,
            headers=headers,
        )
        print(f"\n{config}: warm-up {warm.statuses()}")
        print(HEADER)
        print("-" * len(HEADER))
        rates, firings = [], []
        for run in range(1, args.runs + 1):
            requests = bookings(clinic, days.take(need_days), args.bookings)
            cpu = CpuClock(server.process.pid, BENCH_DB)
            cpu.start()
            firing = fire([server.address], requests, clients=args.clients, headers=headers)
            cpu.stop()
            firings.append((firing, cpu))
            rates.append(firing.per_second(201))
            print(summary(run, firing, cpu), flush=True)
            if run == 1 and firing.statuses()[201] != args.bookings:
                print(
                    "  not all booked, e.g.:",
                    next((o.body[:300] for o in firing.outcomes if o.status != 201), b""),
                )
        middle = sorted(firings, key=lambda f: f[0].per_second(201))[len(firings) // 2]
        print(summary("med", *middle))
        print(CPU_NOTE)
    load = os.getloadavg()
    print(f"overlapping visits (SQL self-join): {overlapping_pairs()}; load average {load[0]:.2f}")
    return statistics.median(rates)


def main() -> None:
    exit_on_sigterm()
    args = parse_args()
    configs = [Config.parse(text) for text in args.config]
    with own_database(BENCH_DB, keep=args.keep):
        clinic = seed_clinic(providers=args.providers)
        vacuum_analyze()
        days = Days()
        print(
            f"{args.bookings} bookings a run from {args.clients} clients, {args.providers} "
            f"providers, {args.runs} runs a config"
        )
        results = {str(c): measure_config(c, clinic, args, days) for c in configs}
        print("\nmedian successful bookings/s:")
        for name, rate in results.items():
            print(f"  {name:<32} {rate:7.1f}")
        print(machine_line())


if __name__ == "__main__":
    main()
