"""RateController and Circuit in isolation, on a hand-stepped clock."""

from __future__ import annotations

import itertools
import math

import anyio
import pytest

from intralinks_async._pipeline import Circuit, RateController
from intralinks_async.errors import ServiceUnavailableError


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def feed(rate: RateController, clock: Clock, per_second: float, seconds: float) -> None:
    """Answers accepted at ``per_second`` for ``seconds`` (admitted, then answered)."""
    step = 1.0 / per_second
    end = clock.t + seconds
    while clock.t < end:
        rate.reserve(clock.t)
        rate.on_answer(clock.t)
        clock.t += step


def test_unthrottled_costs_a_counter_and_paces_nothing() -> None:
    clock = Clock()
    rate = RateController(clock=clock)
    feed(rate, clock, 500, 2.0)
    snap = rate.snapshot()
    assert snap.mode == "adaptive" and snap.rate is None and snap.learned is None
    assert 999 <= snap.requests <= 1001 and snap.throttled == 0 and not rate.paced


def test_a_throttle_paces_at_a_share_of_the_accepted_rate_then_grows_back() -> None:
    clock = Clock()
    rate = RateController(clock=clock)
    feed(rate, clock, 100, 3.0)  # the server accepted ~100/s
    rate.on_throttle(clock.t - 0.01, clock.t)
    snap = rate.snapshot()
    assert snap.learned is not None and 90 <= snap.learned <= 110
    assert snap.rate is not None and 0.75 * snap.learned <= snap.rate <= 0.85 * snap.learned
    low = snap.rate
    # While queued demand is there, the rate grows back toward (and past) what was learned.
    for _ in range(40):
        clock.t += 0.25
        rate._waiters.append(anyio.Event())  # queued demand: the demand cap does not bind
        rate.on_answer(clock.t)
        rate._waiters.clear()
    assert rate.rate is not None and rate.rate > low and rate.rate >= snap.learned


def test_one_reduction_per_congestion_epoch() -> None:
    clock = Clock()
    rate = RateController(clock=clock)
    feed(rate, clock, 100, 3.0)
    sent = clock.t - 0.05
    for _ in range(50):  # a burst of 429s to requests all sent before the reduction
        rate.on_throttle(sent, clock.t)
    first = rate.rate
    assert rate.throttled == 50 and first is not None
    clock.t += 0.01
    rate.on_throttle(sent, clock.t)  # still an old request
    assert rate.rate == first


def test_stray_throttles_while_pacing_do_not_ratchet_the_rate_down() -> None:
    clock = Clock()
    rate = RateController(clock=clock)
    feed(rate, clock, 100, 3.0)
    rate.on_throttle(clock.t, clock.t + 0.001)
    learned = rate.snapshot().learned
    # 2% of the answers throttled, spread out: never 3 and 5% of an epoch at once.
    for i in range(2000):
        clock.t += 0.01
        if i % 50 == 49:
            rate.on_throttle(clock.t - 0.005, clock.t)
        else:
            rate.on_answer(clock.t)
    assert rate.snapshot().learned == learned


def test_fixed_and_off_modes() -> None:
    clock = Clock()
    fixed = RateController(rate_limit=10.0, adaptive=False, clock=clock)
    assert fixed.snapshot().mode == "fixed" and fixed.rate == 10.0
    assert fixed.reserve(clock.t) is True
    assert fixed.reserve(clock.t) is False  # the next slot is ~0.1 s away
    fixed.on_throttle(clock.t, clock.t)
    assert fixed.rate == 10.0 and fixed.throttled == 1
    off = RateController(adaptive=False, clock=clock)
    off.on_throttle(clock.t, clock.t)
    assert off.snapshot().mode == "off" and off.rate is None and off.reserve(clock.t)
    with pytest.raises(ValueError):
        RateController(rate_limit=0)


async def test_queued_requests_are_paced_first_come_first_served() -> None:
    rate = RateController(rate_limit=200.0, adaptive=False)
    order: list[int] = []

    async def one(i: int) -> None:
        if not rate.reserve(rate.clock()):
            await rate.wait_turn(None)
        order.append(i)

    start = rate.clock()
    async with anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(one, i)
            await anyio.sleep(0)
    assert order == list(range(20))
    assert rate.clock() - start >= 19 / 200 * 0.75  # slots ~5 ms apart (+-25% jitter)


async def test_a_queued_request_gives_up_at_its_deadline() -> None:
    rate = RateController(rate_limit=1.0, adaptive=False)
    assert rate.reserve(rate.clock())
    with pytest.raises(TimeoutError):
        await rate.wait_turn(rate.clock() + 0.05)


def test_circuit_opens_on_failures_across_calls_and_closes_on_success() -> None:
    clock = Clock()
    opened: list[bool] = []
    circuit = Circuit(threshold=3, clock=clock, on_open=lambda: opened.append(True))
    for _ in range(5):
        circuit.failure(caller=1)  # one call failing alone: its retry budget's business
    assert not circuit.open
    circuit.failure(caller=2)
    assert circuit.open and opened == [True]
    circuit.success()
    assert not circuit.open and circuit.failures == 0


async def test_circuit_lets_one_probe_through_at_growing_intervals_then_gives_up() -> None:
    circuit = Circuit(threshold=2, patience=0.5, probe_interval=0.05, probe_factor=2.0)
    circuit.failure(operation="op", caller=1)
    circuit.failure(operation="op", caller=2)
    assert circuit.open
    probes: list[float] = []
    errors: list[BaseException] = []
    start = circuit.clock()

    async def caller() -> None:
        while True:
            try:
                probe = await circuit.wait("op", None)
            except ServiceUnavailableError as exc:
                errors.append(exc)
                return
            if probe:
                probes.append(circuit.clock() - start)
                circuit.failure(probe=True, operation="op", caller=3)

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(caller)
    assert len(errors) == 10
    assert 2 <= len(probes) <= 5  # 0.05, 0.15, 0.35 s...: not one per caller
    gaps = [b - a for a, b in itertools.pairwise(probes)]
    assert all(later >= earlier for earlier, later in itertools.pairwise(gaps))
    assert "unavailable since" in str(errors[0]) and errors[0].since is not None
    assert not math.isnan(errors[0].since or 0.0)


async def test_an_operation_that_has_not_failed_probes_at_once() -> None:
    circuit = Circuit(threshold=2, probe_interval=60.0)
    circuit.failure(operation="uploadDocument", caller=1)
    circuit.failure(operation="uploadDocument", caller=2)
    with anyio.fail_after(5):
        assert await circuit.wait("listFolders", None) is True
    circuit.success(probe=True)
    assert not circuit.open
