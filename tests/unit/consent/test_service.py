"""The consent rules, pure: give/withdraw, proofs and events, derived state, preferences, subscriptions."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.consent import Actor, Preferences, QuietHours
from functions.consent.service import (
    PERSONALISATION,
    ChangeConsent,
    ConsentError,
    ConsentProof,
    ConsentState,
    change_consent,
    change_preferences,
    consent_entries,
    derive_state,
    new_subscription,
    removed_subscription,
    subscription_id,
)
from functions.core.errors import ValidationError
from functions.core.madrid import zones
from functions.core.terms import Terms

CITIZEN_ID = "c-0001"
T0 = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
ACTOR = Actor(kind="citizen", id=CITIZEN_ID)
SCOPED = ("service-notifications", "campaigns", "surveys")
UNSCOPED = ("personalisation", "location")


def cmd(purpose: str, granted: bool = True, channels: tuple[str, ...] = (), **kw: Any) -> ChangeConsent:
    fields: dict[str, Any] = {
        "citizen_id": CITIZEN_ID,
        "purpose": purpose,
        "granted": granted,
        "channels": channels,
        "text_version": "2026-01" if granted else None,
        "language": "es",
        "actor": ACTOR,
        "capture_channel": "web",
    }
    fields.update(kw)
    return ChangeConsent(**fields)


def empty() -> ConsentState:
    return ConsentState(citizen_id=CITIZEN_ID)


def small_terms() -> Terms:
    """Hand-made terms: one purpose per channel with two text versions, one for the whole purpose."""
    text = {"text": "t", "sha256": "0" * 64}
    return Terms.from_data(
        {
            "purposes": {
                "news": {
                    "legal_basis": "RGPD art. 6.1.a",
                    "requires_consent": True,
                    "channel_scoped": True,
                    "current_text_version": "v2",
                },
                "personalisation": {
                    "legal_basis": "RGPD art. 6.1.a",
                    "requires_consent": True,
                    "channel_scoped": False,
                    "current_text_version": "v1",
                },
            },
            "channels": {"email": {"interruptive": False}, "sms": {"interruptive": True}},
            "texts": {
                "news": {"v1": {"es": text}, "v2": {"es": {"text": "t2", "sha256": "2" * 64}, "en": text}},
                "personalisation": {"v1": {"es": text}},
            },
            "topics": {"traffic": {}},
        }
    )


# ---------------------------------------------------------------------------
# Giving and withdrawing
# ---------------------------------------------------------------------------


def test_giving_consent_records_a_proof_and_an_event(terms: Terms) -> None:
    # GIVEN a citizen never asked about campaigns
    # WHEN they give consent for campaigns by e-mail
    out = change_consent(cmd("campaigns", channels=("email",)), empty(), terms, T0)
    # THEN the state says granted on e-mail to text 2026-01, with the proof that records it
    current = out.state.of("campaigns")
    assert (current.granted, current.channels, current.text_version) == (True, ("email",), "2026-01")
    assert out.proof is not None and current.proof_id == out.proof.proof_id and current.changed_at == T0
    assert out.proof.text_sha256 == terms.text("campaigns", "2026-01", "es").sha256
    assert (out.proof.actor, out.proof.capture_channel, out.proof.recorded_at) == (ACTOR, "web", T0)
    # AND the event says what changed, before and after
    assert out.event is not None
    assert out.event.before.model_dump() == {"granted": False, "channels": [], "text_version": None}
    assert out.event.after.model_dump() == {"granted": True, "channels": ["email"], "text_version": "2026-01"}
    assert out.event.proof_id == out.proof.proof_id and out.event.changed_at == T0
    assert out.event.text_sha256 == out.proof.text_sha256


def test_withdrawing_consent_records_a_proof_with_the_hash_of_the_text_withdrawn(terms: Terms) -> None:
    # GIVEN consent for campaigns on e-mail and SMS
    given_ = change_consent(cmd("campaigns", channels=("email", "sms")), empty(), terms, T0)
    # WHEN the citizen withdraws it (one call, RGPD art. 7.3)
    later = T0 + timedelta(minutes=5)
    out = change_consent(cmd("campaigns", granted=False), given_.state, terms, later)
    # THEN nothing is granted on any channel, and the proof names the text that was withdrawn
    assert out.state.of("campaigns").granted is False and out.state.of("campaigns").channels == ()
    assert out.proof is not None
    in_force = terms.text("campaigns", "2026-01", "es")
    assert in_force is not None
    assert (out.proof.granted, out.proof.text_version, out.proof.text_sha256) == (False, "2026-01", in_force.sha256)
    assert out.event is not None
    assert out.event.before.model_dump() == {"granted": True, "channels": ["email", "sms"], "text_version": "2026-01"}
    assert out.event.after.granted is False and out.event.after.channels == []


def test_a_withdrawal_in_a_language_without_that_text_proves_the_spanish_one() -> None:
    # GIVEN consent to "news" on text v1, which exists in Spanish only
    terms = small_terms()
    given_ = change_consent(cmd("news", channels=("email",), text_version="v1"), empty(), terms, T0)
    # WHEN it is withdrawn from an English screen
    out = change_consent(cmd("news", granted=False, language="en"), given_.state, terms, T0 + timedelta(seconds=1))
    # THEN the proof carries the hash of the Spanish v1 text the citizen had consented to
    assert out.proof is not None and (out.proof.text_version, out.proof.text_sha256) == ("v1", "0" * 64)
    assert out.event is not None and out.event.text_sha256 == "0" * 64


def test_the_proof_carries_how_and_by_whom_the_consent_was_captured(terms: Terms, agent: Actor) -> None:
    # GIVEN a signed paper form recorded by an agent
    captured = T0 - timedelta(days=1)
    change = cmd(
        "surveys",
        channels=("postal",),
        actor=agent,
        capture_channel="office-paper",
        captured_at=captured,
        document_ref="FORM-1",
        access_purpose="attention call",
    )
    # WHEN it is applied
    out = change_consent(change, empty(), terms, T0)
    # THEN the proof keeps the agent, the capture, the document and the access purpose
    assert out.proof is not None
    assert (out.proof.actor, out.proof.capture_channel, out.proof.captured_at) == (agent, "office-paper", captured)
    assert (out.proof.document_ref, out.proof.access_purpose) == ("FORM-1", "attention call")
    assert out.event is not None and out.event.actor == agent


def test_english_consent_uses_the_english_text_and_the_event_says_so(terms: Terms) -> None:
    # WHEN consent is given in English
    out = change_consent(cmd("location", language="en"), empty(), terms, T0)
    # THEN the proof hashes the English text and the event is in English
    assert out.proof is not None and out.event is not None
    assert out.proof.text_sha256 == terms.text("location", "2026-01", "en").sha256
    assert out.event.language == "en"


# ---------------------------------------------------------------------------
# Mode (a)/(b)
# ---------------------------------------------------------------------------


def test_mode_is_a_until_personalisation_is_given_and_b_until_it_is_withdrawn(terms: Terms) -> None:
    # GIVEN a citizen with no consent: mode (a)
    assert empty().mode == "a"
    # WHEN they give consent for personalisation THEN mode (b), and the event says so
    given_ = change_consent(cmd(PERSONALISATION), empty(), terms, T0)
    assert given_.state.mode == "b" and given_.event is not None and given_.event.mode == "b"
    # WHEN they withdraw it THEN mode (a) again
    withdrawn = change_consent(cmd(PERSONALISATION, granted=False), given_.state, terms, T0 + timedelta(seconds=1))
    assert withdrawn.state.mode == "a" and withdrawn.event is not None and withdrawn.event.mode == "a"


def test_other_purposes_do_not_switch_mode_b_on(terms: Terms) -> None:
    # WHEN a citizen consents to everything but personalisation
    state = empty()
    for purpose in SCOPED:
        state = change_consent(cmd(purpose, channels=("email",)), state, terms, T0).state
    state = change_consent(cmd("location"), state, terms, T0).state
    # THEN the platform stays in mode (a)
    assert state.mode == "a"


# ---------------------------------------------------------------------------
# Errors: the terms decide what may be asked
# ---------------------------------------------------------------------------


def test_unknown_purpose_is_a_422_naming_the_purpose_field(terms: Terms) -> None:
    # WHEN a citizen consents to a purpose the council never declared
    with pytest.raises(ConsentError) as err:
        change_consent(cmd("profiling", channels=("email",)), empty(), terms, T0)
    # THEN it is a 422 consent problem naming the field and the declared purposes
    problem = err.value.to_problem()
    assert problem["status"] == 422 and problem["type"] == "/problems/consent-invalid"
    assert problem["errors"][0]["field"] == "purpose"
    assert "campaigns" in problem["errors"][0]["message"]
    assert isinstance(err.value, ValidationError)


def test_unknown_channel_is_a_422_naming_the_channels_field(terms: Terms) -> None:
    with pytest.raises(ConsentError) as err:
        change_consent(cmd("campaigns", channels=("email", "fax")), empty(), terms, T0)
    assert err.value.status == 422
    assert "fax" in err.value.detail
    assert err.value.errors == [{"field": "channels", "message": "each one of " + ", ".join(terms.channels)}]


def test_unknown_channel_is_refused_on_withdrawal_too(terms: Terms) -> None:
    with pytest.raises(ConsentError) as err:
        change_consent(cmd("campaigns", granted=False, channels=("fax",)), empty(), terms, T0)
    assert err.value.errors and err.value.errors[0]["field"] == "channels"


def test_unknown_text_version_is_a_422_naming_the_published_versions(terms: Terms) -> None:
    with pytest.raises(ConsentError) as err:
        change_consent(cmd("campaigns", channels=("email",), text_version="2020-01"), empty(), terms, T0)
    assert err.value.errors == [{"field": "text_version", "message": "one of 2026-01"}]


def test_a_text_version_not_published_in_the_language_is_refused(terms: Terms) -> None:
    with pytest.raises(ConsentError) as err:
        change_consent(cmd("location", language="fr"), empty(), terms, T0)
    assert err.value.errors and err.value.errors[0]["field"] == "text_version"


def test_giving_consent_without_the_text_version_shown_is_refused(terms: Terms) -> None:
    with pytest.raises(ConsentError, match="text_version"):
        change_consent(cmd("location", text_version=None), empty(), terms, T0)


@pytest.mark.parametrize("purpose", UNSCOPED)
def test_channels_are_refused_for_a_purpose_not_given_per_channel(terms: Terms, purpose: str) -> None:
    with pytest.raises(ConsentError, match="not given per channel"):
        change_consent(cmd(purpose, channels=("email",)), empty(), terms, T0)


@pytest.mark.parametrize("purpose", SCOPED)
def test_a_purpose_given_per_channel_needs_a_channel(terms: Terms, purpose: str) -> None:
    with pytest.raises(ConsentError, match="at least one channel"):
        change_consent(cmd(purpose, channels=()), empty(), terms, T0)


def test_a_purpose_given_per_channel_is_withdrawn_without_naming_channels(terms: Terms) -> None:
    # GIVEN consent for surveys on SMS
    state = change_consent(cmd("surveys", channels=("sms",)), empty(), terms, T0).state
    # WHEN it is withdrawn with no channels THEN it is withdrawn on every channel
    out = change_consent(cmd("surveys", granted=False), state, terms, T0 + timedelta(seconds=1))
    assert out.proof is not None and out.state.of("surveys").channels == ()


# ---------------------------------------------------------------------------
# Channel-scoped consent
# ---------------------------------------------------------------------------


def test_narrowing_the_channels_is_a_new_decision(terms: Terms) -> None:
    # GIVEN campaigns on e-mail and SMS
    state = change_consent(cmd("campaigns", channels=("email", "sms")), empty(), terms, T0).state
    # WHEN the citizen keeps only e-mail
    out = change_consent(cmd("campaigns", channels=("email",)), state, terms, T0 + timedelta(seconds=1))
    # THEN a proof records it and SMS is no longer granted
    assert out.proof is not None and out.event is not None
    assert out.state.of("campaigns").channels == ("email",)
    assert out.event.before.channels == ["email", "sms"] and out.event.after.channels == ["email"]


def test_repeated_channels_are_recorded_once(terms: Terms) -> None:
    out = change_consent(cmd("campaigns", channels=("sms", "email", "sms")), empty(), terms, T0)
    assert out.state.of("campaigns").channels == ("sms", "email")
    assert out.proof is not None and out.proof.channels == ("sms", "email")


def test_purposes_are_independent(terms: Terms) -> None:
    # GIVEN campaigns by e-mail WHEN surveys are given by SMS THEN campaigns is unchanged
    state = change_consent(cmd("campaigns", channels=("email",)), empty(), terms, T0).state
    state = change_consent(cmd("surveys", channels=("sms",)), state, terms, T0).state
    assert state.of("campaigns").channels == ("email",) and state.of("surveys").channels == ("sms",)


# ---------------------------------------------------------------------------
# Repeating the same decision
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "again"),
    [
        (cmd("campaigns", channels=("email", "sms")), cmd("campaigns", channels=("email", "sms"))),
        (cmd("campaigns", channels=("email", "sms")), cmd("campaigns", channels=("sms", "email", "sms"))),
        (cmd("location"), cmd("location", language="en", capture_channel="app")),
        (cmd("location", granted=False), cmd("location", granted=False)),
    ],
    ids=["same-channels", "same-channels-other-order", "same-decision-other-language", "withdraw-twice"],
)
def test_repeating_the_same_decision_records_nothing(terms: Terms, first: ChangeConsent, again: ChangeConsent) -> None:
    # GIVEN a decision already applied
    state = change_consent(first, empty(), terms, T0).state
    # WHEN it is repeated
    out = change_consent(again, state, terms, T0 + timedelta(seconds=1))
    # THEN no proof, no event, and the state is the same
    assert out.proof is None and out.event is None
    assert out.state == state


def test_withdrawing_what_was_never_given_records_nothing(terms: Terms) -> None:
    out = change_consent(cmd("campaigns", granted=False), empty(), terms, T0)
    assert (out.proof, out.event, out.state) == (None, None, empty())


def test_consenting_again_to_a_new_text_version_is_a_new_decision() -> None:
    # GIVEN consent to version v1 of the news text
    small = small_terms()
    state = change_consent(cmd("news", channels=("email",), text_version="v1"), empty(), small, T0).state
    # WHEN the citizen consents to v2 on the same channel
    out = change_consent(cmd("news", channels=("email",), text_version="v2"), state, small, T0 + timedelta(days=1))
    # THEN a new proof records v2 and its hash
    assert out.proof is not None and out.proof.text_version == "v2" and out.proof.text_sha256 == "2" * 64
    assert out.event is not None and out.event.before.text_version == "v1" and out.event.after.text_version == "v2"


def test_hand_made_terms_list_their_versions_in_the_error() -> None:
    with pytest.raises(ConsentError) as err:
        change_consent(cmd("news", channels=("email",), text_version="v9"), empty(), small_terms(), T0)
    assert err.value.errors == [{"field": "text_version", "message": "one of v1, v2"}]


# ---------------------------------------------------------------------------
# The state is a fold of the proofs
# ---------------------------------------------------------------------------

CHANNELS = ("email", "sms", "push", "inapp", "phone", "whatsapp", "postal")


@st.composite
def consent_changes(draw: st.DrawFn) -> ChangeConsent:
    purpose = draw(st.sampled_from(SCOPED + UNSCOPED))
    granted = draw(st.booleans())
    if purpose in UNSCOPED:
        channels: tuple[str, ...] = ()
    else:
        channels = tuple(draw(st.lists(st.sampled_from(CHANNELS), min_size=1 if granted else 0, max_size=4)))
    language = draw(st.sampled_from(["es", "en"]))
    return cmd(purpose, granted=granted, channels=channels, language=language)


def apply_all(changes: list[ChangeConsent], terms: Terms) -> tuple[ConsentState, list[ConsentProof], list[Any]]:
    state, proofs, events = empty(), [], []
    for i, change in enumerate(changes):
        out = change_consent(change, state, terms, T0 + timedelta(seconds=i))
        state = out.state
        if out.proof is not None:
            proofs.append(out.proof)
            events.append(out.event)
    return state, proofs, events


@settings(max_examples=60, deadline=None)
@given(changes=st.lists(consent_changes(), max_size=12), rnd=st.randoms())
def test_derived_state_equals_the_state_reached_one_change_at_a_time(
    terms: Terms, changes: list[ChangeConsent], rnd: random.Random
) -> None:
    # GIVEN any sequence of valid gives and withdrawals, applied one by one
    state, proofs, events = apply_all(changes, terms)
    # WHEN the state is derived from the proofs alone, in whatever order the store returns them
    shuffled = proofs[:]
    rnd.shuffle(shuffled)
    derived = derive_state(CITIZEN_ID, shuffled)
    # THEN it is the same state, and every event's "after" is what the state holds after it
    assert derived == state
    assert len(events) == len(proofs)
    for event in events:
        assert event.proof_id in {p.proof_id for p in proofs}
    for purpose in state.purposes:
        last = [e for e in events if e.purpose == purpose][-1]
        assert last.after == state.of(purpose).snapshot()


@settings(max_examples=40, deadline=None)
@given(changes=st.lists(consent_changes(), min_size=1, max_size=8))
def test_applying_the_last_change_again_records_nothing(terms: Terms, changes: list[ChangeConsent]) -> None:
    # GIVEN any history WHEN its last change is sent again THEN there is no new proof or event
    state, _, _ = apply_all(changes, terms)
    out = change_consent(changes[-1], state, terms, T0 + timedelta(hours=1))
    assert (out.proof, out.event) == (None, None)


def test_derived_state_of_no_proofs_is_nothing_given() -> None:
    derived = derive_state(CITIZEN_ID, [])
    assert derived == empty() and derived.of("campaigns").granted is False and derived.mode == "a"


# ---------------------------------------------------------------------------
# Consent entries
# ---------------------------------------------------------------------------


def test_consent_entries_list_every_purpose_and_every_channel_of_scoped_ones(terms: Terms) -> None:
    # WHEN a citizen with no consent lists their consents
    entries = consent_entries(empty(), terms)
    # THEN each purpose not given per channel appears once, and each scoped purpose once per channel
    pairs = {(e["purpose"], e["channel"]) for e in entries}
    expected = {(p, None) for p in UNSCOPED} | {(p, c) for p in SCOPED for c in terms.channels}
    assert pairs == expected and len(entries) == len(expected)
    assert not any(e["granted"] for e in entries)


def test_consent_entries_show_what_is_granted_where(terms: Terms) -> None:
    # GIVEN campaigns by e-mail and personalisation
    state = change_consent(cmd("campaigns", channels=("email",)), empty(), terms, T0).state
    state = change_consent(cmd(PERSONALISATION), state, terms, T0).state
    by_key = {(e["purpose"], e["channel"]): e for e in consent_entries(state, terms)}
    # THEN e-mail is granted with its text version, SMS is not
    assert by_key[("campaigns", "email")]["granted"] is True
    assert by_key[("campaigns", "email")]["text_version"] == "2026-01"
    assert by_key[("campaigns", "sms")]["granted"] is False and by_key[("campaigns", "sms")]["text_version"] is None
    assert by_key[(PERSONALISATION, None)]["granted"] is True
    # AND each entry carries the legal basis and the current text from the terms
    notices = by_key[("service-notifications", "email")]
    assert notices["requires_consent"] is False
    assert notices["legal_basis"] == terms.purposes["service-notifications"].legal_basis
    assert notices["current_text_version"] == "2026-01"


# ---------------------------------------------------------------------------
# Preferences
# ---------------------------------------------------------------------------


def test_changed_preferences_produce_an_event(terms: Terms, now: datetime) -> None:
    before = Preferences()
    after = Preferences(language="en", channels=["push", "email"], quiet_hours=QuietHours(start="22:00", end="08:00"))
    event = change_preferences(CITIZEN_ID, before, after, ACTOR, terms, now)
    assert event is not None
    assert (event.citizen_id, event.before, event.after, event.actor, event.changed_at) == (
        CITIZEN_ID,
        before,
        after,
        ACTOR,
        now,
    )


def test_unchanged_preferences_produce_nothing(terms: Terms, now: datetime) -> None:
    prefs = Preferences(channels=["email"])
    assert change_preferences(CITIZEN_ID, prefs, Preferences(channels=["email"]), ACTOR, terms, now) is None


def test_preferences_with_an_unknown_channel_are_refused(terms: Terms, now: datetime) -> None:
    with pytest.raises(ConsentError) as err:
        change_preferences(CITIZEN_ID, Preferences(), Preferences(channels=["email", "telegram"]), ACTOR, terms, now)
    assert err.value.status == 422 and err.value.errors and err.value.errors[0]["field"] == "channels"


def test_preferences_with_a_repeated_channel_are_refused(terms: Terms, now: datetime) -> None:
    with pytest.raises(ConsentError, match="repeat"):
        change_preferences(CITIZEN_ID, Preferences(), Preferences(channels=["sms", "sms"]), ACTOR, terms, now)


# ---------------------------------------------------------------------------
# Subscriptions
# ---------------------------------------------------------------------------


def test_subscribing_to_a_district(terms: Terms, now: datetime) -> None:
    # WHEN a citizen subscribes to traffic alerts in district 01
    sub, event = new_subscription(CITIZEN_ID, "traffic", "01", ACTOR, terms, now)
    # THEN the zone is Centro, a district, and the event says created
    assert (sub.zone.kind, sub.zone.name, sub.zone.district) == ("district", "Centro", "01")
    assert sub.id == "traffic.01" and sub.created_at == now
    assert (event.change, event.subscription_id, event.topic, event.zone) == ("created", "traffic.01", "traffic", "01")


def test_subscribing_to_a_barrio(terms: Terms, now: datetime) -> None:
    sub, event = new_subscription(CITIZEN_ID, "culture", "011", ACTOR, terms, now)
    assert (sub.zone.kind, sub.zone.name, sub.zone.district) == ("barrio", "Palacio", "01")
    assert event.zone == "011" and sub.id == "culture.011"


def test_subscribing_to_an_unknown_zone_is_refused(terms: Terms, now: datetime) -> None:
    with pytest.raises(ConsentError) as err:
        new_subscription(CITIZEN_ID, "traffic", "99", ACTOR, terms, now)
    assert err.value.status == 422 and err.value.errors and err.value.errors[0]["field"] == "zone"


def test_subscribing_to_an_unknown_topic_is_refused(terms: Terms, now: datetime) -> None:
    with pytest.raises(ConsentError) as err:
        new_subscription(CITIZEN_ID, "football", "01", ACTOR, terms, now)
    assert err.value.errors and err.value.errors[0]["field"] == "topic"


@settings(max_examples=50, deadline=None)
@given(
    topic=st.sampled_from(["traffic", "civil-protection", "culture", "sports", "taxes", "environment", "mobility"]),
    zone=st.sampled_from(sorted(zones())),
    other_citizen=st.text(alphabet="abc123", min_size=1, max_size=8),
)
def test_the_subscription_id_is_derived_so_subscribing_twice_is_idempotent(
    terms: Terms, topic: str, zone: str, other_citizen: str
) -> None:
    # GIVEN any published topic and official zone, subscribed at two different times
    first, _ = new_subscription(CITIZEN_ID, topic, zone, ACTOR, terms, T0)
    again, _ = new_subscription(other_citizen, topic, zone, ACTOR, terms, T0 + timedelta(days=3))
    # THEN the id is the same: it depends on topic and zone only
    assert first.id == again.id == subscription_id(topic, zone)


def test_removing_a_subscription_produces_a_deleted_event(terms: Terms, now: datetime, agent: Actor) -> None:
    sub, _ = new_subscription(CITIZEN_ID, "taxes", "21", ACTOR, terms, now)
    later = now + timedelta(days=1)
    event = removed_subscription(sub, agent, later)
    assert (event.change, event.subscription_id, event.zone, event.actor, event.changed_at) == (
        "deleted",
        "taxes.21",
        "21",
        agent,
        later,
    )
