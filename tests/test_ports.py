"""Private servers' ports (tests/support.py): below the kernel's ephemeral range, in a block
of each pytest-xdist worker's own, free when picked."""

from tests.support import (
    PORT_BLOCK,
    PRIVATE_PORTS_FROM,
    bindable,
    ephemeral_ports_from,
    free_port,
)


def test_each_xdist_worker_picks_free_ports_from_a_block_of_its_own(monkeypatch):
    blocks = {}
    for worker in ("gw0", "gw1"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        blocks[worker] = {free_port() for _ in range(20)}
    first = PRIVATE_PORTS_FROM + PORT_BLOCK
    assert all(first <= port < first + PORT_BLOCK for port in blocks["gw0"])
    assert all(first + PORT_BLOCK <= port < first + 2 * PORT_BLOCK for port in blocks["gw1"])
    assert max(blocks["gw1"]) < ephemeral_ports_from()
    assert all(bindable(port) for port in blocks["gw0"] | blocks["gw1"])


def test_a_plain_run_has_a_block_too(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert PRIVATE_PORTS_FROM <= free_port() < PRIVATE_PORTS_FROM + PORT_BLOCK
