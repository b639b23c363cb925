"""The verifier's use cases (``functions.verifier.handlers``) on an in-memory store, with credentials issued by a
stand-in issuer (``tests.verifier_issuer``) whose metadata and status lists the real caches (``trust``) read
through a fake ``Fetch``: the request link, a verified presentation disclosing exactly what was asked, every
refusal of issue 17's "Bad input" by its reason slug and the check it fails, single use, and the caches' rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from functions.core import sdjwt
from functions.core.errors import ForbiddenError, LostRaceError
from functions.core.jose import LocalSigner, b64url, canonical_json
from functions.core.retry import retry_on_conflict
from functions.core.store import Staged
from functions.verifier import handlers, service, trust
from functions.verifier.handlers import VerifierPorts
from tests.unit.fakes import FixedClock
from tests.unit.verifier.fakes import FakeVerifierStore
from tests.verifier_issuer import Holder, StandInIssuer

NOW = datetime(2026, 12, 7, 10, tzinfo=UTC)
BASE = "https://pic.example"
OVER_65 = [["age_equal_or_over", "65"]]


class World:
    """A verifier at BASE trusting the stand-in issuer, a holder with a Madrid Mayor card."""

    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.issuer = StandInIssuer(f"{BASE}/v1/wallet", self.clock)
        self.store = FakeVerifierStore()
        self.directory = trust.IssuerDirectory(trust.trusted_issuers("", BASE), self.issuer, self.clock)
        self.statuses = trust.StatusCache(self.directory, self.issuer, self.clock)
        self.ports = VerifierPorts(self.store, self.clock, self.directory, self.statuses, BASE)
        self.holder = Holder()
        self.credential, self.index = self.issuer.issue(self.holder.key)

    def commit(self, staged: Staged[Any]) -> Any:
        self.store.commit(staged.unit)
        return staged.result

    def ask(self, claims: list[list[str]] = OVER_65, card_type: str = "madrid-mayor") -> handlers.Asked:
        cmd = handlers.Ask(card_type, claims, "agent:ana", "ticket 42")
        return self.commit(handlers.ask(cmd, self.ports))

    def respond(self, asked: handlers.Asked, credential: str | None = None, **kw: Any) -> service.VerificationRequest:
        _, form = self.holder.answer(credential or self.credential, asked.request_link, self.clock.now(), **kw)
        return self.commit(handlers.respond(asked.request.id, form["vp_token"], form["state"], self.ports))

    def verdict(self, credential: str | None = None, claims: list[list[str]] = OVER_65, **kw: Any) -> dict[str, Any]:
        asked = self.ask(claims)
        self.respond(asked, credential, **kw)
        return self.commit(handlers.result(asked.request.id, "agent:ana", "ticket 42", self.ports))


@pytest.fixture
def world() -> World:
    return World()


def checks(verdict: dict[str, Any]) -> dict[str, bool | None]:
    return {c["name"]: c["passed"] for c in verdict["checks"]}


# ---- the request -------------------------------------------------------------------------------------------------


def test_a_request_is_an_openid4vp_link_by_value_with_a_dcql_query(world: World) -> None:
    asked = world.ask()
    query = {k: v[0] for k, v in parse_qs(urlsplit(asked.request_link).query).items()}
    response_uri = f"{BASE}/v1/verifier/responses/{asked.request.id}"
    assert asked.request_link.startswith("openid4vp://?")
    assert query["client_id"] == asked.client_id == f"redirect_uri:{response_uri}"
    assert query["response_uri"] == response_uri
    assert (query["response_type"], query["response_mode"]) == ("vp_token", "direct_post")
    assert query["nonce"] == asked.request.nonce and len(asked.request.nonce) >= 32
    assert query["state"] == asked.request.id
    assert json.loads(query["dcql_query"]) == {"credentials": [{
        "id": "card", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:es:madrid:pic:card:madrid-mayor:1"]},
        "claims": [{"path": ["age_equal_or_over", "65"]}]}]}  # fmt: skip
    assert world.ask().request.nonce != asked.request.nonce


@pytest.mark.parametrize(
    ("card_type", "claims", "field"),
    [("tarjeta-x", OVER_65, "card_type"), ("madrid-mayor", [["plate"]], "claims[0]"),
     ("madrid-mayor", [["district"], ["district"]], "claims"), ("zbe", OVER_65, "claims[0]")],
)  # fmt: skip
def test_a_request_asks_only_for_claims_of_a_known_card_type(
    world: World, card_type: str, claims: list[list[str]], field: str
) -> None:
    with pytest.raises(service.VerificationRequestInvalidError) as refused:
        world.ask(claims, card_type)
    assert refused.value.errors and refused.value.errors[0]["field"] == field


# ---- the verdict ---------------------------------------------------------------------------------------------------


def test_a_presentation_disclosing_only_over_65_is_verified_with_exactly_that(world: World) -> None:
    verdict = world.verdict()
    assert verdict["state"] == "verified" and verdict["reason"] is None
    assert verdict["disclosed"] == {"age_equal_or_over": {"65": True}}  # no birth date, no name, no "18"
    assert set(checks(verdict)) == set(service.CHECKS) and all(checks(verdict).values())
    assert world.store.reads == [{"request_id": verdict["request_id"], "reader": "agent:ana", "purpose": "ticket 42",
                                  "at": NOW}]  # fmt: skip


def test_several_claims_asked_are_all_returned(world: World) -> None:
    verdict = world.verdict(claims=[["given_name"], ["district"], ["age_equal_or_over", "65"]])
    assert verdict["disclosed"] == {"given_name": "Carmen", "district": "Chamberí", "age_equal_or_over": {"65": True}}


def _refusal(world: World, reason: str, check: str, credential: str | None = None, **kw: Any) -> dict[str, Any]:
    verdict = world.verdict(credential, **kw)
    assert (verdict["state"], verdict["reason"]) == ("refused", reason), verdict["detail"]
    assert verdict["disclosed"] == {}
    passed = checks(verdict)
    order = list(service.CHECKS)
    assert passed[check] is False
    assert all(passed[name] is True for name in order[: order.index(check)])
    assert all(passed[name] is None for name in order[order.index(check) + 1 :])
    assert world.store.reads == []  # a refusal disclosed nothing: no read to record
    return verdict


def test_wrong_nonce_is_refused(world: World) -> None:
    _refusal(world, "nonce-mismatch", "key-binding", nonce="a-nonce-of-another-request")


def test_wrong_audience_is_refused(world: World) -> None:
    _refusal(world, "audience-mismatch", "key-binding", aud="redirect_uri:https://elsewhere.example/cb")


def test_an_expired_credential_is_refused(world: World) -> None:
    old, _ = world.issuer.issue(world.holder.key, nbf=NOW - timedelta(days=400))
    _refusal(world, "expired", "validity", old)


def test_a_credential_not_yet_valid_is_refused(world: World) -> None:
    future, _ = world.issuer.issue(world.holder.key, nbf=NOW + timedelta(days=2))
    _refusal(world, "not-yet-valid", "validity", future)


def test_a_tampered_disclosure_is_refused(world: World) -> None:
    asked = world.ask()
    jws = world.credential.split("~")[0]
    forged = b64url(json.dumps(["salt-salt-salt", "65", True]).encode())  # a disclosure the issuer never signed
    presented = sdjwt.bind(f"{jws}~{forged}~", holder_key=world.holder.key, aud=asked.client_id,
                           nonce=asked.request.nonce, iat=NOW)  # fmt: skip
    answered = world.commit(handlers.respond(asked.request.id, json.dumps({"card": [presented]}), None, world.ports))
    assert (answered.state, answered.reason) == ("refused", "disclosure-tampered")


def test_alg_none_is_refused(world: World) -> None:
    jws, *rest = world.credential.split("~")
    _, payload, _ = jws.split(".")
    unsigned = f"{b64url(canonical_json({'alg': 'none', 'typ': 'dc+sd-jwt'}))}.{payload}."
    _refusal(world, "alg-not-allowed", "signature", "~".join([unsigned, *rest]))


def test_a_key_the_issuer_never_published_is_refused(world: World) -> None:
    forged, _ = world.issuer.issue(world.holder.key, signer=LocalSigner.generate())
    _refusal(world, "unknown-key", "signature", forged)


def test_an_untrusted_issuer_is_refused(world: World) -> None:
    stranger = StandInIssuer("https://elsewhere.example/v1/wallet", world.clock)
    credential, _ = stranger.issue(world.holder.key)
    _refusal(world, "untrusted-issuer", "issuer", credential)
    assert stranger.fetches == []  # an untrusted issuer is never even asked for its keys


@pytest.mark.parametrize(("value", "reason"), [(1, "revoked"), (2, "suspended")])
def test_a_revoked_or_suspended_credential_is_refused(world: World, value: int, reason: str) -> None:
    world.issuer.set_status("madrid-mayor", world.index, value)
    _refusal(world, reason, "status")


def test_another_card_type_is_refused(world: World) -> None:
    zbe, _ = world.issuer.issue(world.holder.key, card_type="zbe", vct="urn:es:madrid:pic:card:zbe:1")
    _refusal(world, "wrong-card-type", "card-type", zbe)


def test_claims_not_asked_for_are_refused_and_not_kept(world: World) -> None:
    verdict = _refusal(world, "claims-not-asked", "claims", reveal=["age_equal_or_over.65", "birth_date"])
    assert "birth_date" in verdict["detail"] and "1952" not in json.dumps(verdict)


def test_claims_asked_and_not_disclosed_are_refused(world: World) -> None:
    _refusal(world, "claims-missing", "claims", reveal=[])


# ---- answering once --------------------------------------------------------------------------------------------------


def test_a_request_is_answered_once(world: World) -> None:
    asked = world.ask()
    assert world.respond(asked).state == "verified"
    with pytest.raises(service.VerificationAnsweredError):
        world.respond(asked)


def test_two_answers_at_once_one_is_written_the_other_decided_again(world: World) -> None:
    asked = world.ask()
    _, form = world.holder.answer(world.credential, asked.request_link, NOW)
    first = handlers.respond(asked.request.id, form["vp_token"], form["state"], world.ports)
    second = handlers.respond(asked.request.id, form["vp_token"], form["state"], world.ports)
    world.commit(first)
    with pytest.raises(LostRaceError):
        world.commit(second)

    def again() -> Any:
        return world.commit(handlers.respond(asked.request.id, form["vp_token"], form["state"], world.ports))

    with pytest.raises(service.VerificationAnsweredError):
        retry_on_conflict(again, attempts=2, what="respond")


def test_an_expired_request_takes_no_answer_and_reads_as_expired(world: World) -> None:
    asked = world.ask()
    world.clock.advance(minutes=11)
    with pytest.raises(service.VerificationExpiredError):
        world.respond(asked)
    assert world.commit(handlers.result(asked.request.id, "agent:ana", None, world.ports))["state"] == "expired"


def test_an_answer_to_no_request_or_to_another_state_or_without_a_presentation(world: World) -> None:
    asked = world.ask()
    _, form = world.holder.answer(world.credential, asked.request_link, NOW)
    with pytest.raises(service.VerificationNotFoundError):
        handlers.respond("no-such-request", form["vp_token"], None, world.ports)
    with pytest.raises(service.PresentationResponseError):
        handlers.respond(asked.request.id, form["vp_token"], "another-state", world.ports)
    for token in ("not json", "[]", '{"card": []}', '{"card": ["a", "b"]}', '{"other": ["a"]}'):
        with pytest.raises(service.PresentationResponseError) as refused:
            handlers.respond(asked.request.id, token, None, world.ports)
        assert refused.value.extra["error"] == "invalid_request"
    assert world.store.requests[asked.request.id].state == "pending"  # none of them used the request up


def test_garbage_as_the_presentation_is_a_malformed_refusal(world: World) -> None:
    asked = world.ask()
    answered = world.commit(handlers.respond(asked.request.id, '{"card": ["x.y.z~"]}', None, world.ports))
    assert (answered.state, answered.reason) == ("refused", "malformed")


# ---- the result -----------------------------------------------------------------------------------------------------


def test_only_who_asked_reads_the_result_and_a_pending_one_records_no_read(world: World) -> None:
    asked = world.ask()
    with pytest.raises(ForbiddenError):
        handlers.result(asked.request.id, "agent:luis", "ticket 42", world.ports)
    pending = world.commit(handlers.result(asked.request.id, "agent:ana", "ticket 42", world.ports))
    assert pending["state"] == "pending" and pending["checks"] == [] and world.store.reads == []
    with pytest.raises(service.VerificationNotFoundError):
        handlers.result("nope", "agent:ana", None, world.ports)


# ---- trust: keys and status lists over HTTP, cached ----------------------------------------------------------------


def test_metadata_url_inserts_the_well_known_segment_after_the_host() -> None:
    assert (
        trust.metadata_url("https://pic.example/v1/wallet") == "https://pic.example/.well-known/jwt-vc-issuer/v1/wallet"
    )
    assert trust.metadata_url("https://issuer.example") == "https://issuer.example/.well-known/jwt-vc-issuer"
    assert trust.trusted_issuers(" https://a.example/x/ ,", BASE) == {f"{BASE}/v1/wallet", "https://a.example/x"}


def test_the_status_list_is_read_once_a_minute_at_most(world: World) -> None:
    uri = world.issuer.list_uri("madrid-mayor")
    world.verdict()
    world.verdict()
    assert world.issuer.fetches.count(uri) == 1
    world.issuer.set_status("madrid-mayor", world.index, 1)  # revoked now: seen once the cached list is stale
    assert world.verdict()["state"] == "verified"
    world.clock.advance(seconds=61)
    assert world.verdict()["reason"] == "revoked"
    assert world.issuer.fetches.count(uri) == 2


def test_a_shorter_ttl_of_the_list_wins_over_the_max_age(world: World) -> None:
    world.issuer.ttl = 10
    uri = world.issuer.list_uri("madrid-mayor")
    world.verdict()
    world.clock.advance(seconds=11)
    world.verdict()
    assert world.issuer.fetches.count(uri) == 2


def test_a_rotated_key_is_read_again_and_made_up_kids_at_most_once_a_minute(world: World) -> None:
    metadata = trust.metadata_url(world.issuer.issuer)
    assert world.verdict()["state"] == "verified"
    world.issuer.rotate()
    rotated, _ = world.issuer.issue(world.holder.key)
    assert world.verdict(rotated)["reason"] == "unknown-key"  # read less than a minute ago: not read again yet
    world.clock.advance(seconds=61)
    assert world.verdict(rotated)["state"] == "verified"  # an unknown kid, a minute on: read again, found
    assert world.verdict()["state"] == "verified"  # the old key still verifies what it signed
    forged, _ = world.issuer.issue(world.holder.key, signer=LocalSigner.generate())
    world.clock.advance(seconds=61)
    for _ in range(3):
        assert world.verdict(forged)["reason"] == "unknown-key"
    assert world.issuer.fetches.count(metadata) == 3  # first read, the rotation, one for the three forgeries


def test_an_unreachable_issuer_refuses_with_unknown_key_and_a_status_list_elsewhere_is_refused(world: World) -> None:
    world.directory = trust.IssuerDirectory({"https://down.example/v1/wallet"}, world.issuer, world.clock)
    down = StandInIssuer("https://down.example/v1/wallet", world.clock)
    credential, _ = down.issue(world.holder.key)
    ports = VerifierPorts(world.store, world.clock, world.directory, world.statuses, BASE)
    asked = world.commit(handlers.ask(handlers.Ask("madrid-mayor", OVER_65, "agent:ana", None), ports))
    _, form = world.holder.answer(credential, asked.request_link, NOW)
    answered = world.commit(handlers.respond(asked.request.id, form["vp_token"], None, ports))
    assert answered.reason == "unknown-key" and "could not be read" in (answered.detail or "")
    with pytest.raises(Exception) as elsewhere:
        world.statuses.status_of(world.issuer.issuer, "https://tracker.example/status/1", 0)
    assert getattr(elsewhere.value, "reason", None) == "status-unavailable"
