"""The relay woken by the commit (ADR 0017): the function's fire-and-forget datagram, the relay's listener,
and a woken relay ending its idle wait; the poll stays the safety net."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from events.rgpd import RgpdDomainAnswered
from functions.core import wake
from functions.core.outbox import stage_event
from functions.core.relay import Relay, serve_wakes
from functions.core.settings import get_settings
from functions.core.store import UnitOfWork
from tests.unit.conftest import ROOT


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def wake_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    address = f"udp://127.0.0.1:{_free_udp_port()}"
    monkeypatch.setenv("PIC_RELAY_WAKE", address)
    get_settings.cache_clear()
    yield address
    get_settings.cache_clear()


def test_a_wake_names_the_domain_to_the_relays_listener(wake_at: str) -> None:
    # GIVEN the relays listening where PIC_RELAY_WAKE points
    listener = wake.WakeListener.on(wake_at)
    got: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=listener.serve, args=(lambda d: (got.append(d), stop.set()), stop.is_set))
    thread.start()
    # WHEN a commit with consent events wakes them
    wake.wake(["consent"])
    # THEN the listener hears the domain
    thread.join(timeout=5)
    assert got == ["consent"]


@pytest.mark.parametrize("address", ["", "http://127.0.0.1:1", "udp://no-such-host.invalid:9", "udp://127.0.0.1"])
def test_a_wake_never_fails_the_request(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    # GIVEN no wake address, a wrong one, or one nobody listens on; WHEN a commit wakes THEN nothing is raised
    monkeypatch.setenv("PIC_RELAY_WAKE", address)
    get_settings.cache_clear()
    try:
        wake.wake(["consent", "rgpd"])
    finally:
        get_settings.cache_clear()


def test_the_address_is_udp_host_and_port() -> None:
    assert wake.parse("udp://pic-consent-relay.pic.svc:8081") == ("pic-consent-relay.pic.svc", 8081)
    with pytest.raises(ValueError, match="udp://host:port"):
        wake.parse("tcp://relay:8081")


def test_a_woken_relay_ends_its_idle_wait_at_once() -> None:
    relay = Relay("http://127.0.0.1:9/events", "consent", token=None)
    stop = threading.Event()
    # WHEN nothing wakes it THEN it waits its idle time (the poll, the safety net)
    started = time.monotonic()
    assert relay._idle(stop, 0.2) is False
    assert time.monotonic() - started >= 0.2
    # WHEN a commit wakes it during a long idle wait THEN it polls at once
    threading.Timer(0.05, relay.wake).start()
    started = time.monotonic()
    assert relay._idle(stop, 5.0) is True
    assert time.monotonic() - started < 1.0
    # AND a stop ends the wait too
    stop.set()
    assert relay._idle(stop, 5.0) is False


def test_the_listener_wakes_only_the_named_domains_relay(wake_at: str) -> None:
    relays = {d: Relay("http://127.0.0.1:9/events", d, token=None) for d in ("consent", "rgpd")}
    stop = threading.Event()
    serve_wakes(relays, wake_at, stop)
    try:
        wake.wake(["rgpd", "not-a-domain"])
        deadline = time.monotonic() + 5
        while relays["rgpd"].wakes == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (relays["rgpd"].wakes, relays["consent"].wakes) == (1, 0)
    finally:
        stop.set()


def test_a_unit_of_work_without_events_wakes_no_one(monkeypatch: pytest.MonkeyPatch) -> None:
    woken: list[set[str]] = []
    monkeypatch.setattr("functions.core.store.wake", lambda domains: woken.append(set(domains)))
    UnitOfWork().commit()
    assert woken == []


def _unit_with_an_event(producer: str) -> UnitOfWork:
    """A unit of work holding one outbox row of ``producer``'s domain (an RGPD domain answer)."""
    fixture = ROOT / "tests" / "fixtures" / "events" / "es.madrid.pic.rgpd.domain.answered.v1.json"
    data = RgpdDomainAnswered.model_validate(json.loads(fixture.read_text())["data"])
    uow = UnitOfWork()
    stage_event(uow, data, subject="cit-1", traceparent=None, producer=producer)
    return uow


def test_a_committed_unit_with_events_wakes_the_producing_domains_relay(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a unit of work with an event of the consent domain, and a commit that succeeds
    uow = _unit_with_an_event("pic-consent")
    woken: list[set[str]] = []
    monkeypatch.setattr(UnitOfWork, "_commit", lambda self, token: None)
    monkeypatch.setattr("functions.core.store.wake", lambda domains: woken.append(set(domains)))
    # WHEN it commits THEN the producing domain's relay is woken, once
    uow.commit()
    assert woken == [{"consent"}]


def test_a_failed_commit_wakes_no_one(monkeypatch: pytest.MonkeyPatch) -> None:
    def lost(self: UnitOfWork, token: str | None) -> None:
        raise RuntimeError("the store said no")

    uow = _unit_with_an_event("pic-position")
    woken: list[set[str]] = []
    monkeypatch.setattr(UnitOfWork, "_commit", lost)
    monkeypatch.setattr("functions.core.store.wake", lambda domains: woken.append(set(domains)))
    with pytest.raises(RuntimeError):
        uow.commit()
    assert woken == []


def test_the_broker_ingress_wakes_the_dispatcher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from local.broker import BrokerStore, Dispatcher
    from local.manifests import Trigger

    # GIVEN a dispatcher listening where PIC_BROKER_WAKE points
    address = f"udp://127.0.0.1:{_free_udp_port()}"
    monkeypatch.setenv("PIC_BROKER_WAKE", address)
    store = BrokerStore(tmp_path / "broker.sqlite")
    trigger = Trigger(name="all", broker="pic", filters={}, subscriber="pic-consent-events", subscriber_path="/")
    dispatcher = Dispatcher(store, [trigger], "http://127.0.0.1:9/", workers=1)
    stop = threading.Event()
    dispatcher.listen_for_wakes(address, stop)
    try:
        # WHEN the ingress records an event with a delivery
        store.ingest({"specversion": "1.0", "id": "e-1", "source": "/dev/test", "type": "dev.test.v1"}, [trigger])
        # THEN the dispatcher is woken (it claims the delivery now, not after its idle wait)
        assert dispatcher._woken.wait(5.0)
    finally:
        stop.set()
        dispatcher._pool.shutdown(wait=False)
