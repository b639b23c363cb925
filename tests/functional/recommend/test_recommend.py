"""Recommendations on the real platform (DynamoDB Local, the broker, the functions over HTTP, the real
``policies/recommend``): a citizen who consents to personalisation through the consent API (mode b) and whose Padrón
facts, IBI receipts paid by card and a vehicle arrive as real events gets the suggestions with their reasons and the
data used; the read is in their access log; feedback hides a suggestion or a rule; an objection to personalisation
through the RGPD API (or mode a) leaves none; agents see nothing; bad input is a problem."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.harness import Platform

pytestmark = pytest.mark.functional

NOW = datetime.now(UTC)


def event(platform: Platform, type_: str, data: dict[str, Any], source: str, subject: str) -> None:
    sent = platform.send_event(f"es.madrid.pic.{type_}.v1", data, source=source, subject=subject)
    assert sent.status_code == 202, sent.text


def consent(platform: Platform, cid: str, granted: bool) -> None:
    url = platform.url(f"/v1/citizens/{cid}/consents/personalisation")
    put = platform.http.put(url, json={"granted": granted, "text_version": "2026-01"}, headers=platform.as_(cid),
                            timeout=15)  # fmt: skip
    assert put.status_code == 200, put.text


def facts(platform: Platform, cid: str) -> None:
    """A senior of Centro (01) who paid the IBI of 2024 and 2025 by card, with a car registered in Centro, who booked a
    concert and shares a work zone in Chamartín (05), where the agenda has a concert."""
    event(platform, "citizen.updated", {
        "citizen_id": cid, "link": {"source": "/legacy/padron", "local_id": f"P{cid}", "change": "added"},
        "match": {"method": "new", "score": 1.0, "evidence": []}, "updated_at": (NOW - timedelta(hours=1)).isoformat(),
        "profile": {"birth_date": "1955-02-01", "district": "01", "barrio": "011"},
    }, "/pic/citizen", cid)  # fmt: skip
    for year in (2024, 2025):
        rid = f"IBI-{year}-{cid[2:]}"
        event(platform, "tax.receipt.issued", {
            "citizen_id": cid, "receipt_id": rid, "tax": "IBI", "period": str(year), "amount_cents": 41000,
            "object": {"kind": "cadastral-reference", "reference": "9872023VH5797S0001WX"},
            "voluntary_period": {"start": f"{year}-04-01", "end": f"{year}-06-30"},
        }, "/legacy/tributos", cid)  # fmt: skip
        event(platform, "tax.receipt.paid", {
            "debt_id": f"receipt-{rid}", "receipt_id": rid, "citizen_id": cid, "amount_cents": 41000,
            "stage": "voluntary", "legal_source": "LGT art. 62.2", "payment_id": "pay-" + "1" * 32, "method": "card",
            "paid_at": f"{year}-05-02T10:00:00+00:00",
        }, "/pic/payment", cid)  # fmt: skip
    event(platform, "booking.confirmed", {
        "booking_id": f"bk-{uuid.uuid4().hex[:16]}", "citizen_id": cid, "resource_id": "conde-duque",
        "slot_id": "conde-duque.1", "kind": "cultural-activity", "category": "musica", "district": "01",
        "starts_at": (NOW - timedelta(days=30)).isoformat(),
        "ends_at": (NOW - timedelta(days=30, hours=-2)).isoformat(),
        "centre": "Centro Cultural Conde Duque", "price_cents": 0, "via": "free",
        "confirmed_at": (NOW - timedelta(days=32)).isoformat(),
    }, "/pic/booking", cid)  # fmt: skip
    event(platform, "zones.changed", {
        "citizen_id": cid, "zones": [{"kind": "work", "label": "Oficina", "district": "05", "lat": 40.45, "lon": -3.68,
                                                          "radius_m": 1000}],
        "changed_at": NOW.isoformat(),
    }, "/pic/agenda", cid)  # fmt: skip
    event(platform, "agenda.event.published", {
        "event_id": f"ag-{cid}", "title": "Concierto en Chamartín", "category": "musica", "district": "05",
        "free": True,
        "next_dates": [(NOW + timedelta(days=4)).isoformat()],
    }, "/pic/agenda", cid)  # fmt: skip
    event(platform, "vehicle.registered", {
        "plate": "1234KLM", "label": "C", "citizen_id": cid, "district": "01", "as_of": NOW.isoformat(),
    }, "/legacy/movilidad", cid)  # fmt: skip


def suggestions(platform: Platform, cid: str, headers: dict[str, str] | None = None) -> Any:
    got = platform.http.get(platform.url(f"/v1/citizens/{cid}/suggestions"), headers=headers or platform.as_(cid),
                            timeout=15)  # fmt: skip
    return got


def rules_once(platform: Platform, cid: str, want: set[str]) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        got = suggestions(platform, cid)
        assert got.status_code == 200, got.text
        body: dict[str, Any] = got.json()
        return body if {s["rule"] for s in body["suggestions"]} == want else None

    return dict(platform.wait_for(ready, timeout=20, what=f"the suggestions {sorted(want)}"))


def feedback(platform: Platform, cid: str, sid: str, value: Any, headers: dict[str, str] | None = None) -> Any:
    url = platform.url(f"/v1/citizens/{cid}/suggestions/{sid}/feedback")
    return platform.http.post(url, json={"feedback": value}, headers=headers or platform.as_(cid), timeout=15)


def test_a_mode_b_citizen_gets_explained_suggestions_feedback_hides_them_and_an_objection_stops_them(
    platform: Platform, citizen_id: str
) -> None:
    cid = citizen_id
    # GIVEN the facts, and the citizen's consent to personalisation (mode b) through the consent API
    facts(platform, cid)
    consent(platform, cid, True)
    # THEN three suggestions, each with its reason in both languages, the data it used and a link
    body = rules_once(platform, cid, {"ibi-direct-debit", "ser-resident-card", "madrid-mayor", "agenda-events"})
    assert body["allowed"] is True
    ibi = next(s for s in body["suggestions"] if s["rule"] == "ibi-direct-debit")
    assert "2024, 2025" in ibi["reason"]["es"] and "70 €" in ibi["reason"]["es"] and ibi["reason"]["en"]
    assert ibi["link"] == "/app/pay/taxes" and "Ordenanza Fiscal" in ibi["legal_source"]
    assert {u["key"] for u in ibi["used"]} >= {"ibi_paid_by_card", "ibi_direct_debit"}
    concert = next(s for s in body["suggestions"] if s["rule"] == "agenda-events")  # the by-district index read
    assert concert["title"]["es"] == "Concierto en Chamartín" and "Oficina" in concert["reason"]["es"]

    # AND the read is in the citizen's access log
    def logged() -> list[dict[str, Any]] | None:
        log = platform.http.get(platform.url(f"/v1/citizens/{cid}/access-log"), headers=platform.as_(cid), timeout=15)
        assert log.status_code == 200, log.text
        found = [e for e in log.json()["entries"] if e.get("resource") == "suggestions"]
        return found or None

    assert platform.wait_for(logged, what="the read of the suggestions in the access log")
    # WHEN not useful on the card, don't show again on the senior card THEN both go, the IBI stays
    assert feedback(platform, cid, "ser-resident-card.1234KLM", "not-useful").status_code == 200
    assert feedback(platform, cid, "madrid-mayor", "dont-show-again").status_code == 200
    left = suggestions(platform, cid).json()["suggestions"]
    assert [s["rule"] for s in left] == ["ibi-direct-debit", "agenda-events"]
    # AND feedback on one no longer shown is 404, a value not in the list 422
    gone = feedback(platform, cid, "madrid-mayor", "useful")
    assert gone.status_code == 404 and gone.json()["type"] == "/problems/suggestion-not-found"
    bad = feedback(platform, cid, ibi["id"], "meh")
    assert bad.status_code == 422 and bad.headers["Content-Type"].startswith("application/problem+json")
    # AND an agent, even with a purpose, is refused by policy; another citizen too
    agent = platform.as_("agent-7", role="agent", level=2, area="atencion-ciudadania")
    agent["Access-Purpose"] = "consulta del ciudadano"
    assert suggestions(platform, cid, agent).status_code == 403
    assert suggestions(platform, cid, platform.as_("c-someone-else")).status_code == 403
    # WHEN the citizen objects to personalisation through the RGPD API THEN there are none, and it says why
    objected = platform.http.post(platform.url(f"/v1/citizens/{cid}/rgpd-requests"), headers=platform.as_(cid),
                                  json={"right": "objection", "purposes": ["personalisation"]}, timeout=15)  # fmt: skip
    assert objected.status_code in (201, 202), objected.text

    def blocked() -> dict[str, Any] | None:
        answer: dict[str, Any] = suggestions(platform, cid).json()
        return answer if not answer["allowed"] else None

    answer = platform.wait_for(blocked, timeout=20, what="the objection projected")
    assert answer["suggestions"] == []
    assert any(r["key"] == "objection" and not r["met"] and "RGPD art. 21" in r["es"] for r in answer["reasons"])


def test_a_mode_a_citizen_gets_none_and_the_reason(platform: Platform, citizen_id: str) -> None:
    # GIVEN the same facts and a consent to personalisation withdrawn (mode a)
    facts(platform, citizen_id)
    consent(platform, citizen_id, True)
    rules_once(platform, citizen_id, {"ibi-direct-debit", "ser-resident-card", "madrid-mayor", "agenda-events"})
    consent(platform, citizen_id, False)

    def none() -> dict[str, Any] | None:
        answer: dict[str, Any] = suggestions(platform, citizen_id).json()
        return answer if not answer["allowed"] else None

    answer = platform.wait_for(none, timeout=20, what="mode a projected")
    assert answer["suggestions"] == []
    mode = next(r for r in answer["reasons"] if r["key"] == "mode")
    assert mode["met"] is False and "modo a" in mode["es"] and "mode a" in mode["en"]
    # AND a suggestion id that cannot be one is a problem (the kernel's 422 for a path id too long, else 404)
    for sid, status in (("x" * 300, 422), ("NOT_ONE", 404), ("madrid-mayor", 404)):
        refused = feedback(platform, citizen_id, sid, "useful")
        assert refused.status_code == status, refused.text
        assert refused.headers["Content-Type"].startswith("application/problem+json")
