"""The embedded policy adapter: the same answers as a plain regorus Engine, from any thread."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import regorus
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.core.errors import PolicyUnavailableError
from functions.core.policy import Decision, EmbeddedPolicy, PolicyBundle, _to_decision, canonical_input, input_hash
from tests.unit.conftest import ROOT

POLICIES = ROOT / "policies"


def consent(
    purpose: str = "campaigns",
    channel: str = "email",
    *,
    granted: bool = True,
    channels: list[str] | None = None,
    flags: dict[str, Any] | None = None,
    quiet: dict[str, str] | None = None,
    local_time: str = "12:00",
    message: dict[str, str] | None = None,
) -> dict[str, Any]:
    given_ = {"granted": granted, "channels": ["email"] if channels is None else channels, "text_version": "2026-01"}
    return {
        "purpose": purpose,
        "channel": channel,
        "citizen": {"consents": {purpose: given_}, "flags": flags or {}, "preferences": {"quiet_hours": quiet}},
        "now": {"local_time": local_time},
        "message": message or {},
    }


def authz(action: str, role: str, subject: str, citizen: str | None, level: int = 0) -> dict[str, Any]:
    return {
        "action": action,
        "subject": {"id": subject, "role": role, "level": level},
        "resource": {} if citizen is None else {"citizen_id": citizen},
    }


CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("consent", "given-on-channel", consent()),
    ("consent", "other-channel", consent(channel="sms")),
    ("consent", "withdrawn", consent(granted=False)),
    ("consent", "unknown-purpose", consent(purpose="profiling")),
    ("consent", "unknown-channel", consent(channel="fax")),
    ("consent", "no-consent-needed", consent(purpose="service-notifications", channel="sms", granted=False)),
    ("consent", "restricted", consent(flags={"restricted": True})),
    ("consent", "objected", consent(flags={"objections": ["campaigns"]})),
    (
        "consent",
        "quiet-hours",
        consent(channel="sms", channels=["sms"], quiet={"start": "22:00", "end": "08:00"}, local_time="23:30"),
    ),
    (
        "consent",
        "civil-protection-override",
        consent(
            purpose="service-notifications",
            channel="push",
            granted=False,
            quiet={"start": "22:00", "end": "08:00"},
            local_time="02:00",
            message={"topic": "civil-protection", "severity": "extreme"},
        ),
    ),
    ("consent", "empty-input", {}),
    ("authz", "citizen-own-record", authz("consent.write", "citizen", "c-1", "c-1")),
    ("authz", "citizen-other-record", authz("consent.read", "citizen", "c-1", "c-2")),
    ("authz", "agent-level-2", authz("preferences.write", "agent", "a-1", "c-2", level=2)),
    ("authz", "agent-level-0", authz("preferences.write", "agent", "a-1", "c-2", level=0)),
    ("authz", "admin", authz("subscriptions.read", "admin", "root", "c-2")),
    ("authz", "unknown-action", authz("consent.delete", "citizen", "c-1", "c-1")),
    ("authz", "no-citizen", authz("consent.read", "agent", "a-1", None, level=1)),
]


@pytest.fixture(scope="module")
def bundle() -> PolicyBundle:
    return PolicyBundle.load(POLICIES)


@pytest.fixture(scope="module")
def policy(bundle: PolicyBundle) -> EmbeddedPolicy:
    return EmbeddedPolicy(bundle)


@pytest.fixture(scope="module")
def engine(bundle: PolicyBundle) -> regorus.Engine:
    """The reference: a plain regorus Engine holding the same modules and data."""
    engine = regorus.Engine()
    for name, text in bundle.modules:
        engine.add_policy(name, text)
    engine.add_data_json(json.dumps(bundle.data))
    return engine


def reference(engine: regorus.Engine, package: str, input_: dict[str, Any]) -> Any:
    engine.set_input_json(json.dumps(input_))
    return engine.eval_rule(f"data.{package}.decision")


# ---------------------------------------------------------------------------
# The bundle
# ---------------------------------------------------------------------------


def test_the_bundle_holds_every_policy_but_not_its_tests(bundle: PolicyBundle) -> None:
    assert {"authz", "consent", "position", "rgpd.retention"} <= set(bundle.packages)
    names = [name for name, _ in bundle.modules]
    assert {
        "authz/authz.rego",
        "consent/consent.rego",
        "position/position.rego",
        "rgpd/retention/retention.rego",
    } <= set(names)
    assert not [name for name in names if name.endswith("_test.rego")]
    assert "notifications" in bundle.packages
    assert "notifications/notifications.rego" in names
    assert len(bundle.version) == 12 and bundle.version == PolicyBundle.load(POLICIES).version


def test_each_data_json_is_at_its_folders_path(bundle: PolicyBundle) -> None:
    assert bundle.data["consent"] == json.loads((POLICIES / "consent" / "data.json").read_text(encoding="utf-8"))
    assert bundle.data["authz"]["agent_levels"] == [1, 2, 3]


def test_nested_and_root_data_files_are_placed_like_opa_does(tmp_path: Path) -> None:
    # GIVEN a root data.json and one two folders down, beside a policy
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "data.json").write_text('{"top": 1}')
    (tmp_path / "a" / "b" / "data.json").write_text('{"deep": true}')
    (tmp_path / "a" / "b" / "b.rego").write_text('package a.b\n\nimport rego.v1\n\ndecision := {"allow": true}\n')
    (tmp_path / "a" / "b" / "b_test.rego").write_text("package a.b\n\ntest_x if true\n")
    # WHEN the bundle is loaded
    bundle = PolicyBundle.load(tmp_path)
    # THEN the data nests by folder, the root file merges at the root, and tests are left out
    assert bundle.data == {"top": 1, "a": {"b": {"deep": True}}}
    assert bundle.packages == ["a.b"] and len(bundle.modules) == 1
    # AND the embedded policy answers from it
    assert EmbeddedPolicy(bundle).decide("a.b", {}).allow is True


def test_the_bundle_version_changes_when_data_changes(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "p.rego").write_text('package p\n\ndecision := {"allow": data.p.on}\n')
    (tmp_path / "p" / "data.json").write_text('{"on": true}')
    first = PolicyBundle.load(tmp_path).version
    (tmp_path / "p" / "data.json").write_text('{"on": false}')
    assert PolicyBundle.load(tmp_path).version != first


def test_a_module_without_a_package_line_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.rego").write_text("decision := 1\n")
    with pytest.raises(ValueError, match="package"):
        PolicyBundle.load(tmp_path)


# ---------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("package", "case", "input_"), CASES, ids=[f"{p}:{c}" for p, c, _ in CASES])
def test_embedded_decisions_equal_the_regorus_engine(
    policy: EmbeddedPolicy, engine: regorus.Engine, package: str, case: str, input_: dict[str, Any]
) -> None:
    # WHEN the embedded adapter and a plain Engine evaluate the same input
    expected = reference(engine, package, input_)
    decision = policy.decide(package, input_)
    # THEN they give the same answer, reasons and all
    assert policy.evaluate(package, input_) == expected
    assert decision == Decision(allow=expected["allow"], reasons=expected["reasons"], result=expected)


def test_a_few_decisions_say_what_the_law_says(policy: EmbeddedPolicy) -> None:
    # (guards the comparison above against both engines being wrong in the same, trivial way)
    assert policy.decide("consent", consent()).allow is True
    assert policy.decide("consent", consent(channel="sms")).allow is False
    quiet = policy.evaluate("consent", dict(CASES[8][2]))
    assert (quiet["allow"], quiet["defer"]) == (False, True)
    assert policy.decide("authz", authz("consent.read", "citizen", "c-1", "c-2")).allow is False
    denied = policy.decide("consent", consent(purpose="profiling"))
    assert denied.allow is False and any("Unknown purpose" in r for r in denied.reasons)


def test_an_unknown_package_is_policy_unavailable(policy: EmbeddedPolicy) -> None:
    with pytest.raises(PolicyUnavailableError) as err:
        policy.decide("billing", {})
    assert err.value.status == 503


@pytest.mark.parametrize("result", [None, [], {"reasons": []}, "allow"])
def test_a_result_without_allow_is_no_decision(result: Any) -> None:
    with pytest.raises(PolicyUnavailableError):
        _to_decision("consent", result)


def test_four_threads_decide_at_once_each_with_its_own_compiled_program(
    policy: EmbeddedPolicy, engine: regorus.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the expected answers, computed once; and a thread may not compile the policies again: it loads the
    # program compiled when the bundle was loaded (compiling on a request thread was the light-load p99)
    expected = {(p, c): reference(engine, p, i) for p, c, i in CASES}
    monkeypatch.setattr(policy, "_compile", lambda: pytest.fail("a request thread compiled the policies"))
    main_vm_id = id(policy._vm())
    vm_ids: list[int] = []
    failures: list[BaseException] = []
    start, compiled = threading.Barrier(4), threading.Barrier(4)

    def worker() -> None:
        try:
            start.wait()
            vm = policy._vm()  # stays referenced only by this thread: regorus objects must die where born
            vm_ids.append(id(vm))
            compiled.wait()  # every thread holds its VM now, so the ids are of live objects
            for _ in range(5):
                for package, case, input_ in CASES:
                    assert policy.evaluate(package, input_) == expected[(package, case)], case
            assert policy._vm() is vm
        except BaseException as exc:  # collected and re-raised in the test thread
            failures.append(exc)

    # WHEN four threads use the same policy object concurrently
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # THEN every answer is right, and each thread ran its own VM (regorus objects are thread-bound)
    assert not failures, failures
    assert len(set(vm_ids)) == 4 and main_vm_id not in vm_ids


# ---------------------------------------------------------------------------
# The decision log's input hash
# ---------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    input_=st.dictionaries(st.text(max_size=6), st.integers() | st.text(max_size=6) | st.booleans(), max_size=8),
    rnd=st.randoms(),
)
def test_the_input_hash_does_not_depend_on_key_order(input_: dict[str, Any], rnd: Any) -> None:
    items = list(input_.items())
    rnd.shuffle(items)
    assert input_hash(dict(items)) == input_hash(input_)


def test_the_input_hash_is_a_sha256_that_tells_inputs_apart_and_accepts_datetimes() -> None:
    digest = input_hash({"a": 1, "at": datetime(2026, 1, 1, tzinfo=UTC)})
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert input_hash({"a": 1}) != input_hash({"a": 2})
    assert input_hash({"a": {"b": 1, "c": 2}}) == input_hash({"a": {"c": 2, "b": 1}})


@settings(max_examples=50, deadline=None)
@given(
    input_=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.datetimes(timezones=st.just(UTC)),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
        max_leaves=12,
    )
)
def test_the_canonical_input_says_what_the_standard_library_says_keys_sorted(input_: Any) -> None:
    # GIVEN any input a handler may build (integers beyond 64 bits and datetimes included)
    text = canonical_input({"x": input_})
    # THEN it reads back as the standard library's rendering, with datetimes as str() wrote them
    assert json.loads(text) == json.loads(json.dumps({"x": input_}, default=str))
    # AND it is canonical: no spaces between tokens, keys sorted at every level
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
