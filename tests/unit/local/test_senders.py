"""Who may send what: the EventPolicies of infra/k8s as the local broker enforces them, the dev IdP's sender
tokens, and the ingress limits of the local broker."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from events.catalog import BROKER_AUDIENCE, CATALOG, DEADLETTER_REPLAY, DOMAINS, SENDERS, sender_owning
from functions.core.errors import SenderNotAllowedError, UnauthenticatedError
from local.broker import (
    MAX_EVENT_BYTES,
    InvalidCloudEventError,
    MalformedCloudEventError,
    check_envelope,
    parse_event,
)
from local.idp import DevIdp
from local.manifests import EventPolicy, load
from local.senders import SenderPolicies, TokenCache, TokenVerifier, passes, write_token_file
from tests.unit.conftest import ROOT

LOCAL = ROOT / "infra" / "k8s" / "overlays" / "local"
CHANGED = "es.madrid.pic.consent.changed.v1"
UPSERTED = "es.madrid.pic.citizen.record.upserted.v1"


def sub(account: str) -> str:
    return f"system:serviceaccount:pic:{account}"


@pytest.fixture(scope="module")
def policies() -> SenderPolicies:
    return SenderPolicies.of("pic", load(LOCAL).event_policies)


# ---------------------------------------------------------------------------
# The generated EventPolicies, enforced
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("spec", list(CATALOG.values()), ids=lambda spec: spec.type)
def test_every_catalogued_sender_is_admitted_for_its_types_with_its_own_source(
    policies: SenderPolicies, spec: Any
) -> None:
    for sender in spec.senders:
        policies.authorize(sender.subject, {"type": spec.type, "source": f"{sender.source}/sub-unit"})
        policies.authorize(sender.subject, {"type": spec.type, "source": sender.source})


def test_a_legacy_system_may_not_send_a_platform_fact(policies: SenderPolicies) -> None:
    with pytest.raises(SenderNotAllowedError, match=re.escape(f"legacy-padron may not send {CHANGED}")):
        policies.authorize(sub("legacy-padron"), {"type": CHANGED, "source": "/legacy/padron"})


def test_a_sender_that_lies_about_its_source_is_refused_and_told_why(policies: SenderPolicies) -> None:
    with pytest.raises(SenderNotAllowedError) as refused:
        policies.authorize(sub("legacy-deportes"), {"type": UPSERTED, "source": "/legacy/padron"})
    assert "source = /legacy/deportes or source starts with /legacy/deportes/" in refused.value.detail
    assert refused.value.status == 403 and refused.value.to_problem()["sender"] == sub("legacy-deportes")


def test_a_source_that_only_shares_a_prefix_is_not_the_senders(policies: SenderPolicies) -> None:
    with pytest.raises(SenderNotAllowedError):
        policies.authorize(sub("legacy-ser"), {"type": UPSERTED, "source": "/legacy/service-desk"})


def test_a_domain_sends_only_its_own_facts(policies: SenderPolicies) -> None:
    policies.authorize(DOMAINS["consent"].subject, {"type": CHANGED, "source": "/pic/consent"})
    with pytest.raises(SenderNotAllowedError):
        policies.authorize(DOMAINS["notification"].subject, {"type": CHANGED, "source": "/pic/notification"})
    with pytest.raises(SenderNotAllowedError):
        policies.authorize(DOMAINS["consent"].subject, {"type": CHANGED, "source": "/pic/notification"})


def test_an_unknown_subject_is_not_a_sender(policies: SenderPolicies) -> None:
    with pytest.raises(SenderNotAllowedError, match="no EventPolicy admits it"):
        policies.authorize(sub("intruder"), {"type": UPSERTED, "source": "/legacy/padron"})


def test_with_no_event_policy_nothing_is_admitted() -> None:
    with pytest.raises(SenderNotAllowedError):
        SenderPolicies.of("pic", []).authorize(sub("legacy-padron"), {"type": UPSERTED, "source": "/legacy/padron"})


def test_the_replay_tool_may_resend_any_catalogued_type_from_any_source(policies: SenderPolicies) -> None:
    for type_ in CATALOG:
        policies.authorize(DEADLETTER_REPLAY.subject, {"type": type_, "source": "/anything"})
    with pytest.raises(SenderNotAllowedError):
        policies.authorize(DEADLETTER_REPLAY.subject, {"type": "es.madrid.pic.made.up.v1", "source": "/pic/consent"})


def test_policies_of_another_broker_do_not_apply() -> None:
    other = EventPolicy("elsewhere", ("pic-deadletters",), (sub("legacy-padron"),))
    with pytest.raises(SenderNotAllowedError):
        SenderPolicies.of("pic", [other]).authorize(sub("legacy-padron"), {"type": UPSERTED, "source": "/x"})


@pytest.mark.parametrize(
    ("expression", "admitted"),
    [
        ({"exact": {"type": "a"}}, True),
        ({"exact": {"type": "b"}}, False),
        ({"exact": {"missing": "a"}}, False),
        ({"prefix": {"source": "/legacy/"}}, True),
        ({"suffix": {"source": "/padron"}}, True),
        ({"all": [{"exact": {"type": "a"}}, {"prefix": {"source": "/x"}}]}, False),
        ({"any": [{"exact": {"type": "b"}}, {"prefix": {"source": "/legacy"}}]}, True),
        ({"not": {"exact": {"type": "a"}}}, False),
    ],
)
def test_knative_filter_dialects(expression: dict[str, Any], admitted: bool) -> None:
    assert passes(expression, {"type": "a", "source": "/legacy/padron"}) is admitted


def test_a_filter_dialect_the_local_broker_cannot_evaluate_is_an_error_not_a_pass() -> None:
    with pytest.raises(ValueError, match="cesql"):
        passes({"cesql": "type = 'a'"}, {"type": "a"})


def test_sender_owning_finds_the_system_of_a_source_and_its_sub_paths() -> None:
    assert sender_owning("/legacy/oficinas/oac-centro") == next(s for s in SENDERS if s.account == "legacy-oficinas")
    assert sender_owning("/pic/consent") == DOMAINS["consent"]
    assert sender_owning("/legacy/unknown") is None


# ---------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------


@pytest.fixture
def idp(tmp_path: Path) -> DevIdp:
    return DevIdp(tmp_path, issuer="http://idp", audience="pic")


def test_a_sender_token_for_the_broker_names_its_service_account(idp: DevIdp) -> None:
    token = idp.mint_for(sub("legacy-padron"), BROKER_AUDIENCE)
    assert TokenVerifier(idp.public_key(), "http://idp").subject(f"Bearer {token}", BROKER_AUDIENCE) == sub(
        "legacy-padron"
    )


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (None, "Authorization: Bearer"),
        ("Basic abc", "Authorization: Bearer"),
        ("Bearer not-a-jwt", "not valid"),
    ],
)
def test_no_or_a_malformed_token_is_unauthenticated(idp: DevIdp, header: str | None, why: str) -> None:
    with pytest.raises(UnauthenticatedError, match=why):
        TokenVerifier(idp.public_key(), "http://idp").subject(header, BROKER_AUDIENCE)


def test_a_channel_token_is_not_a_sender_token(idp: DevIdp) -> None:
    channel = idp.mint_for("c-ana", "pic")
    with pytest.raises(UnauthenticatedError, match="not for this audience"):
        TokenVerifier(idp.public_key(), "http://idp").subject(f"Bearer {channel}", BROKER_AUDIENCE)


def test_an_expired_or_foreign_token_is_unauthenticated(idp: DevIdp, tmp_path: Path) -> None:
    verifier = TokenVerifier(idp.public_key(), "http://idp")
    with pytest.raises(UnauthenticatedError, match="expired"):
        verifier.subject(f"Bearer {idp.mint_for(sub('legacy-padron'), BROKER_AUDIENCE, -60)}", BROKER_AUDIENCE)
    (tmp_path / "other").mkdir()
    other = DevIdp(tmp_path / "other", issuer="http://idp", audience="pic")  # another key
    with pytest.raises(UnauthenticatedError, match="not valid"):
        verifier.subject(f"Bearer {other.mint_for(sub('legacy-padron'), BROKER_AUDIENCE)}", BROKER_AUDIENCE)


def test_relay_token_files_are_rewritten_when_the_token_is_renewed(idp: DevIdp, tmp_path: Path) -> None:
    # GIVEN tokens that live 2 s (renewed after half their life) and a relay's token file
    cache = TokenCache(idp, ttl_seconds=2)
    path = write_token_file(cache, DOMAINS["consent"], tmp_path / "tokens")
    first = path.read_text()
    # WHEN the cache renews the token (its renewal time has passed)
    cache._tokens = {k: (v[0], 0.0) for k, v in cache._tokens.items()}
    write_token_file(cache, DOMAINS["consent"], tmp_path / "tokens")
    # THEN the file holds a new token for the same subject and audience
    assert path.read_text() != first
    verifier = TokenVerifier(idp.public_key(), "http://idp")
    assert verifier.subject(f"Bearer {path.read_text()}", BROKER_AUDIENCE) == DOMAINS["consent"].subject


# ---------------------------------------------------------------------------
# Ingress limits
# ---------------------------------------------------------------------------

BINARY = {
    "ce-specversion": "1.0",
    "ce-id": "e-1",
    "ce-source": "/legacy/oficinas",
    "ce-type": UPSERTED,
    "content-type": "application/json",
}


def structured(**members: Any) -> bytes:
    return json.dumps({"specversion": "1.0", "id": "e-1", "source": "/legacy/x", "type": UPSERTED, **members}).encode()


STRUCTURED = {"content-type": "application/cloudevents+json"}


@pytest.mark.parametrize(
    ("headers", "body", "error", "why"),
    [
        ({**BINARY, "ce-time": "yesterday"}, b"{}", InvalidCloudEventError, "RFC 3339"),
        ({**BINARY, "ce-time": "2026-02-30T10:00:00Z"}, b"{}", InvalidCloudEventError, "RFC 3339"),
        ({**BINARY, "ce-id": "x" * 257}, b"{}", InvalidCloudEventError, "'id' is longer than 256"),
        ({**BINARY, "ce-source": "/" + "s" * 512}, b"{}", InvalidCloudEventError, "'source' is longer than 512"),
        ({**BINARY, "ce-foo_bar": "x"}, b"{}", InvalidCloudEventError, "attribute name 'foo_bar'"),
        ({**BINARY, "ce-averyveryverylongextension": "x"}, b"{}", InvalidCloudEventError, "at most 20"),
        ({**BINARY, "ce-subject": "c-\u0085"}, b"{}", InvalidCloudEventError, "control"),
        (BINARY, b"[" * 10_000 + b"]" * 10_000, MalformedCloudEventError, "deeper than 64"),
        (BINARY, b'{"a": "\xff"}', MalformedCloudEventError, "not UTF-8"),
        (BINARY, b"x" * (MAX_EVENT_BYTES + 1), InvalidCloudEventError, "larger than"),
        (STRUCTURED, structured(data=json.loads("[" * 100 + "]" * 100)), MalformedCloudEventError, "deeper than"),
        (STRUCTURED, b'{"specversion": "1.0", "data": "\xff"}', MalformedCloudEventError, "not UTF-8"),
        (STRUCTURED, b"[1, 2]", MalformedCloudEventError, "not a JSON object"),
        (STRUCTURED, structured(Subject="x"), InvalidCloudEventError, "attribute name 'Subject'"),
        (STRUCTURED, structured(subject="a\x00b"), InvalidCloudEventError, "control"),
        (STRUCTURED, structured(time="2026-01-15 10:00"), InvalidCloudEventError, "RFC 3339"),
    ],
    ids=[
        "time-word",
        "time-impossible-date",
        "long-id",
        "long-source",
        "extension-underscore",
        "extension-too-long",
        "control-character-in-subject",
        "binary-data-10000-levels",
        "binary-json-not-utf8",
        "binary-too-large",
        "structured-data-100-levels",
        "structured-not-utf8",
        "structured-not-an-object",
        "structured-upper-case-member",
        "structured-nul-in-subject",
        "structured-time-with-a-space",
    ],
)
def test_the_ingress_refuses_what_breaks_its_limits(
    headers: dict[str, str], body: bytes, error: type[Exception], why: str
) -> None:
    with pytest.raises(error, match=why):
        parse_event(headers, body)


def test_an_event_within_the_limits_is_read() -> None:
    headers = {
        **BINARY,
        "ce-time": "2026-01-15T09:31:00.123+01:00",
        "ce-traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01",
    }
    event = parse_event(headers, json.dumps({"deep": [[[["ok"]]]]}).encode())
    assert event["data"] == {"deep": [[[["ok"]]]]} and event["time"] == "2026-01-15T09:31:00.123+01:00"


def test_depth_is_counted_outside_strings_only() -> None:
    # GIVEN structured events whose data nest 64 and 65 levels, and one with brackets inside a string
    def structured(data: object) -> tuple[dict[str, str], bytes]:
        envelope = {"specversion": "1.0", "id": "1", "source": "/x", "type": "t", "data": data}
        return {"content-type": "application/cloudevents+json"}, json.dumps(envelope).encode()

    deep: list[Any] = [[]]
    for _ in range(61):  # 63 levels of data inside the envelope object: 64 in all
        deep = [deep]
    # THEN brackets in strings do not count, 64 levels in all pass, 65 are refused
    check_envelope(*structured({"text": "[" * 1000}))
    check_envelope(*structured(deep))
    with pytest.raises(MalformedCloudEventError, match="deeper than 64"):
        check_envelope(*structured([deep]))
