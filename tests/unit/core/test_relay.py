"""The relay's sender token file and its idle budget (the parts of functions/core/relay.py without a store)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from events.catalog import DOMAINS
from functions.core.outbox import stage_event
from functions.core.relay import IDLE_QUERIES_PER_SECOND, Relay, SenderTokenError, TokenFile, idle_ceiling
from functions.core.settings import get_settings
from tests.unit.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "events"


def test_the_token_file_is_read_again_when_it_is_rotated(tmp_path: Path) -> None:
    # GIVEN a projected token file the relay has read
    path = tmp_path / "token"
    path.write_text("first\n")
    token = TokenFile(path)
    assert token() == "first"
    # WHEN kubelet replaces it with a new token
    path.write_text("second-and-longer")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    # THEN the next request carries the new one
    assert token() == "second-and-longer"


@pytest.mark.parametrize("content", [None, "", "   \n"], ids=["missing", "empty", "blank"])
def test_no_usable_token_is_an_error_not_an_empty_header(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SenderTokenError, match=str(path)):
        TokenFile(path)()


def test_all_relays_together_poll_no_more_than_the_single_relay_did_while_idle() -> None:
    # GIVEN one relay per producing domain, with one shard each (the default)
    per_relay = idle_ceiling(shards=1)
    # THEN at their longest idle wait their queries add up to the budget, under the single relay's 4 shards
    # every 0.2 s at most
    assert len(DOMAINS) * 1 / per_relay == pytest.approx(IDLE_QUERIES_PER_SECOND)
    assert IDLE_QUERIES_PER_SECOND <= 4 / 0.2
    # AND more shards per domain lengthen each wait rather than raise the total
    assert len(DOMAINS) * 3 / idle_ceiling(shards=3) == pytest.approx(IDLE_QUERIES_PER_SECOND)


def test_a_lower_idle_budget_lengthens_every_relays_wait_in_proportion(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the budget a local platform sets, where wakes over loopback are not lost
    monkeypatch.setenv("PIC_RELAY_IDLE_QPS", "3")
    get_settings.cache_clear()
    try:
        # THEN the relays together still make exactly that many queries a second at their longest wait
        assert len(DOMAINS) / idle_ceiling(shards=1) == pytest.approx(3.0)
        # AND a budget given outright wins over the setting
        assert idle_ceiling(shards=1, budget=IDLE_QUERIES_PER_SECOND) == pytest.approx(len(DOMAINS) / 15.0)
    finally:
        monkeypatch.delenv("PIC_RELAY_IDLE_QPS")
        get_settings.cache_clear()


def test_a_relay_is_for_a_domain_that_publishes_events() -> None:
    with pytest.raises(ValueError, match="not a domain"):
        Relay("http://sink", "no-such-domain", token=None)
    assert Relay("http://sink", "consent", token=None).shards == ["consent#0"]


class _Unit:
    """Collects what ``stage_event`` puts (the outbox row), standing in for a UnitOfWork."""

    def __init__(self) -> None:
        self.rows: list[Any] = []

    def put(self, record: Any, **_: Any) -> None:
        self.rows.append(record)


def _answer() -> Any:
    from events.rgpd import RgpdDomainAnswered

    return RgpdDomainAnswered.model_validate(
        json.loads((FIXTURES / "es.madrid.pic.rgpd.domain.answered.v1.json").read_text())["data"]
    )


def test_a_row_is_staged_in_its_producing_domains_shard_with_its_source() -> None:
    # GIVEN a domain's answer to a data-subject request, emitted by the position domain
    unit = _Unit()
    # WHEN it is staged
    stage_event(unit, _answer(), subject="c-1", traceparent=None, producer="pic-position")  # type: ignore[arg-type]
    # THEN its row waits in the position domain's shard, with the position domain's source
    (row,) = unit.rows
    assert row.pending_shard == "position#0" and row.source == "/pic/position"


def test_a_producer_that_is_no_publishing_domain_is_refused_before_anything_is_staged() -> None:
    unit = _Unit()
    with pytest.raises(ValueError, match="not a PIC domain"):
        stage_event(unit, _answer(), subject="c-1", traceparent=None, producer="pic-no-such-domain")  # type: ignore[arg-type]
    assert unit.rows == []


def test_only_one_domains_relay_sweeps_emulated_units_of_work(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a store without transactions, where crashed units of work must be finished by a relay
    from functions.core import relay as relay_module
    from functions.core.settings import get_settings

    monkeypatch.setenv("PIC_STORE_TRANSACTIONS", "emulated")
    get_settings.cache_clear()
    swept: list[str] = []
    monkeypatch.setattr(relay_module, "get_logger", lambda: type("L", (), {"warning": lambda *a, **k: None})())
    try:
        # WHEN every domain's relay comes to its recovery point
        for domain in DOMAINS:
            relay = Relay("http://sink", domain, token=None)
            monkeypatch.setattr(
                "functions.core.transactions.Coordinator.sweep", lambda self, d=domain: swept.append(d) or {}
            )
            monkeypatch.setattr("functions.core.store.connection", lambda: None)
            monkeypatch.setattr("functions.core.transactions.Coordinator.__init__", lambda self, conn: None)
            relay.recover_units_if_due()
    finally:
        get_settings.cache_clear()

    # THEN one of them swept (one scan per lease for the platform, not one per relay)
    assert swept == [relay_module.UNIT_RECOVERY_DOMAIN]
