"""The kernel's flag evaluation: the rules, the rollout's stability and spread, the OpenFeature provider and
the snapshot poll (``functions/core/flags.py``, ``functions/core/poller.py``)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from functions.core import flags
from functions.core.errors import MicroAppOffError
from functions.core.flags import CitizenContext, Rule, Snapshot, SnapshotProvider, Snapshots, decide
from functions.core.poller import ConditionalGet
from functions.core.settings import get_settings

ON = Rule(True, frozenset(), 100)


def catalogue() -> dict[str, Any]:
    return flags.load_catalogue(get_settings().flags_catalogue)


# ---- the rules ----------------------------------------------------------------------------------------


def test_a_disabled_flag_is_off_for_everybody() -> None:
    assert decide("inbox", Rule(False, frozenset(), 100), "c-1", "01") == (False, Reason.DISABLED)


def test_a_district_rule_keeps_other_districts_out_and_leaves_an_unknown_district_alone() -> None:
    # GIVEN inbox on in Centro (01) only
    rule = Rule(True, frozenset({"01"}), 100)
    # THEN a citizen of Centro has it, one of Arganzuela (02) does not, and a context with no district is not
    # restricted by the rule (the API's kernel does not know where the caller lives)
    assert decide("inbox", rule, "c-1", "01") == (True, Reason.TARGETING_MATCH)
    assert decide("inbox", rule, "c-1", "02") == (False, Reason.TARGETING_MATCH)
    assert decide("inbox", rule, "c-1", None)[0] is True


def test_a_partial_share_needs_a_citizen_and_zero_is_off() -> None:
    assert decide("inbox", Rule(True, frozenset(), 50), None, None) == (False, Reason.SPLIT)
    assert decide("inbox", Rule(True, frozenset(), 0), "c-1", None) == (False, Reason.SPLIT)


def test_the_rollout_is_stable_and_spreads_as_the_share_says() -> None:
    # GIVEN 10,000 citizens and a 30 % rollout
    rule = Rule(True, frozenset(), 30)
    citizens = [f"c-{n:05d}" for n in range(10_000)]
    # WHEN decided twice
    first = [decide("pay", rule, c, None)[0] for c in citizens]
    again = [decide("pay", rule, c, None)[0] for c in citizens]
    # THEN each citizen gets the same answer, about 30 % are in, and growing the share keeps them in
    assert first == again
    assert 2_850 <= sum(first) <= 3_150
    wider = [decide("pay", Rule(True, frozenset(), 60), c, None)[0] for c in citizens]
    assert all(w for f, w in zip(first, wider, strict=True) if f)
    # AND another flag picks other citizens (buckets are per flag)
    other = [decide("wallet", rule, c, None)[0] for c in citizens]
    assert sum(a and b for a, b in zip(first, other, strict=True)) < 1_200


# ---- the snapshot -------------------------------------------------------------------------------------


def test_the_catalogue_switches_on_the_apps_that_exist_and_off_the_coming_ones() -> None:
    snapshot = Snapshot.from_body(flags.snapshot_body(catalogue(), {}))
    on = {name for name, rule in snapshot.rules.items() if rule.enabled}
    assert on == {"position", "consents", "alerts", "inbox", "my-data", "pay", "cases", "assistant", "surveys",
                  "wallet", "zbe", "bookings", "agenda", "avisos", "suggestions"}  # fmt: skip
    assert {"services", "events"} <= set(snapshot.rules) - on


def test_the_revision_moves_with_any_change() -> None:
    before = flags.snapshot_body(catalogue(), {})
    after = flags.snapshot_body(catalogue(), {"inbox": ({"enabled": False}, 1)})
    assert before["revision"] != after["revision"]
    assert after["flags"]["inbox"] == {**after["flags"]["inbox"], "enabled": False, "version": 1}
    assert flags.snapshot_body(catalogue(), {})["revision"] == before["revision"]


def test_a_malformed_snapshot_is_refused() -> None:
    with pytest.raises(ValueError):
        Snapshot.from_body({"revision": "r", "flags": {"inbox": {"enabled": True, "districts": ["99"]}}})
    with pytest.raises(ValueError):
        Snapshot.from_body({"flags": {}})


# ---- the provider, through the OpenFeature SDK --------------------------------------------------------


@pytest.fixture
def client() -> Iterator[Any]:
    snapshot = Snapshot("r1", {"inbox": ON, "pay": Rule(False, frozenset(), 100, 3)})
    api.set_provider(SnapshotProvider(Snapshots(snapshot)), domain="test-flags")
    yield api.get_client(domain="test-flags")  # its own domain: the process's "pic" provider stays registered


def test_the_provider_answers_through_the_sdk(client: Any) -> None:
    details = client.get_boolean_details("pay", True, EvaluationContext(targeting_key="c-1"))
    assert (details.value, details.reason, details.variant) == (False, Reason.DISABLED, "off")
    assert details.flag_metadata == {"version": 3, "revision": "r1"}
    assert client.get_boolean_value("inbox", False) is True


def test_an_unknown_flag_or_type_gives_the_default_with_an_error_code(client: Any) -> None:
    details = client.get_boolean_details("nope", False)
    assert (details.value, details.error_code) == (False, ErrorCode.FLAG_NOT_FOUND)
    assert client.get_string_details("inbox", "x").error_code == ErrorCode.TYPE_MISMATCH


def test_enabled_and_require_app_use_the_process_provider() -> None:
    assert flags.enabled("inbox", CitizenContext("c-1")) is True
    assert flags.enabled("services", CitizenContext("c-1")) is False
    with pytest.raises(MicroAppOffError) as refused:
        flags.require_app("services", CitizenContext("c-1"))
    assert refused.value.to_problem()["app"] == "services" and refused.value.status == 404


# ---- the poll -----------------------------------------------------------------------------------------


class FlagServer:
    """A snapshot served with an ETag; counts the 304s."""

    def __init__(self) -> None:
        self.body = flags.snapshot_body(catalogue(), {})
        self.not_modified = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                etag = f'"{server.body["revision"]}"'
                if self.headers.get("If-None-Match") == etag:
                    server.not_modified += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                raw = json.dumps(server.body).encode()
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/v1/flags"


@pytest.fixture
def served() -> Iterator[FlagServer]:
    server = FlagServer()
    yield server
    server.http.shutdown()


def test_the_poll_asks_with_if_none_match_and_swaps_a_new_revision(served: FlagServer) -> None:
    # GIVEN a process serving the defaults, polling the snapshot
    snapshots = Snapshots(Snapshot("defaults", {}), ConditionalGet(served.url, flags.MAX_SNAPSHOT_BYTES))
    assert snapshots.refresh() is True and snapshots.current.rules["inbox"].enabled
    # WHEN nothing changed: a 304, nothing swapped
    assert snapshots.refresh() is False and served.not_modified == 1
    # WHEN an administrator switched inbox off
    served.body = flags.snapshot_body(catalogue(), {"inbox": ({"enabled": False}, 1)})
    # THEN the next poll serves it
    assert snapshots.refresh() is True
    assert snapshots.current.rules["inbox"] == Rule(False, frozenset(), 100, 1)


def test_a_bad_or_unreachable_snapshot_keeps_the_serving_one(served: FlagServer) -> None:
    snapshots = Snapshots(Snapshot("defaults", {}), ConditionalGet(served.url, flags.MAX_SNAPSHOT_BYTES))
    snapshots.refresh()
    serving = snapshots.current
    served.body = {"revision": "bad", "flags": {"inbox": {"enabled": "maybe"}}}
    assert snapshots.refresh() is False and snapshots.current is serving
    served.http.shutdown()
    served.http.server_close()
    assert snapshots.refresh() is False and snapshots.current is serving


def test_the_watcher_polls_in_the_background(served: FlagServer) -> None:
    snapshots = Snapshots(Snapshot("defaults", {}), ConditionalGet(served.url, flags.MAX_SNAPSHOT_BYTES), 0.02)
    snapshots.start()
    try:
        for _ in range(200):
            if snapshots.current.revision == served.body["revision"]:
                break
            threading.Event().wait(0.01)
        assert snapshots.current.revision == served.body["revision"]
    finally:
        snapshots.stop()
