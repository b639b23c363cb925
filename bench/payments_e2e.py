"""Payments end to end through the local Redsys (PAY, issue 14): ``python -m bench payments``.

Each payment is what a citizen's browser does: ``POST /v1/payments`` (the debt held, a fresh order), the form
posted to the sandbox's realizarPago (its payment page), the holder's approval (the sandbox signs the merchant
notification and delivers it to ``POST /v1/payments/redsys/notifications`` before sending the browser back).
Run twice: each notification delivered once, then three times (Redsys retries). Afterwards the run is
audited: the approved charges must equal the debts paid and the ``fine.paid`` events, one each. Store calls
per step are read from the kernel's ``Server-Timing`` header (a notification posted directly, signed as the
sandbox signs it). Every part shares the machine's cores with the clients.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from bench.reads import figures_for, parse_server_timing, steady_reads
from bench.stats import Figure, ms, pct, record_section, recorded, table
from functions.payment import redsys
from local.harness import Platform

TITLE = "## Payments end to end through the local Redsys (PAY)"
FINE = "es.madrid.pic.fine.issued.v1"
FINE_PAID = "es.madrid.pic.fine.paid.v1"
CLIENTS = 8
NOTE = """\
A payment is what the citizen's browser does: `POST /v1/payments` (the debt held by the payment, a fresh
Redsys order), the signed form posted to the local Redsys (`/dev/redsys/realizarPago`, its payment page), and
the holder's approval, on which the sandbox signs the merchant notification and delivers it to
`POST /v1/payments/redsys/notifications` before sending the browser back. Eight clients at once, each with its
own citizen and fine (a traffic fine, 50 % off). The second run delivers every notification three times, as
Redsys retries. Afterwards each run is audited: charges approved at the gateway, debts paid and `fine.paid`
events must be equal, one per payment. Store calls are the kernel's `Server-Timing` count for one request of
each kind (what DynamoDB would bill). Then a person's 50 debts read at 10 reads/s (each debt priced by
`policies/payment` on every read), and a day of Madrid's fines (≈7,400 `fine.issued`, `../shared/data/madrid`)
sent through the broker, then 400 of them paid end to end; memory is the peak resident set of the largest
gateway worker (locally each worker serves every function). DynamoDB Local serialises requests, and every part
shares the 2 cores with the clients: the rates are floors, not a capacity plan."""


def _fine(citizen: str) -> dict[str, Any]:
    return {
        "fine_id": f"BENCH-{uuid.uuid4().hex[:12]}",
        "citizen_id": citizen,
        "infraction": {"article": "RGC art. 94.2.e", "description": "Estacionar en zona de carga y descarga"},
        "severity": "grave",
        "regime": "traffic",
        "amount_cents": 20000,
        "notified_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
    }


def seed(platform: Platform, n: int) -> list[tuple[str, str]]:
    """``n`` citizens, each with one fine issued by event (Multas); waits until every debt is stored."""
    citizens = [f"c-bench-pay-{uuid.uuid4().hex[:10]}" for _ in range(n)]
    people = [(citizen, _fine(citizen)) for citizen in citizens]

    def send(person: tuple[str, dict[str, Any]]) -> None:
        citizen, fine = person
        platform.send_event(FINE, fine, source="/legacy/multas", subject=citizen).raise_for_status()

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(send, people))
    for citizen, _ in people:
        platform.wait_for(_stored(platform, citizen), timeout=300, what=f"the fine of {citizen}")
    return [(citizen, f"fine-{fine['fine_id']}") for citizen, fine in people]


def _stored(platform: Platform, citizen: str) -> Callable[[], list[dict[str, Any]]]:
    return lambda: _debts(platform, citizen)


def _debts(platform: Platform, citizen: str) -> list[dict[str, Any]]:
    answer = platform.http.get(platform.url(f"/v1/citizens/{citizen}/debts"), headers=platform.as_(citizen), timeout=30)
    return list(answer.json()["debts"])


def pay(platform: Platform, citizen: str, debt_id: str, deliveries: int) -> tuple[float, str]:
    """One payment as the browser makes it; its wall time and the order."""
    session = requests.Session()
    started = time.perf_counter()
    made = session.post(
        platform.url("/v1/payments"),
        json={"debt_ids": [debt_id], "method": "card"},
        headers={**platform.as_(citizen), "Idempotency-Key": str(uuid.uuid4())},
        timeout=60,
    )
    made.raise_for_status()
    payment = made.json()
    session.post(payment["redirect"]["url"], data=payment["redirect"]["fields"], timeout=60).raise_for_status()
    answer = {"order": payment["order"], "outcome": "approve"}
    back = session.post(platform.url("/dev/redsys/answer"), data=answer, allow_redirects=False, timeout=60)
    assert back.status_code == 303, back.text
    for _ in range(deliveries - 1):
        again = session.post(platform.url("/dev/redsys/resend"), data={"order": payment["order"]}, timeout=60)
        assert again.json()["merchant_status"] == 200, again.text
    return time.perf_counter() - started, str(payment["order"])


def audit(platform: Platform, people: list[tuple[str, str]], orders: list[str]) -> tuple[int, int, int]:
    """Charges approved at the gateway, debts paid, ``fine.paid`` events: for this run's people and orders."""
    mine = set(orders)
    seen = platform.http.get(platform.url("/dev/redsys/orders"), timeout=30).json()["orders"]
    charges = sum(1 for o in seen if o["order"] in mine and o["outcome"] == "approve")
    paid = sum(1 for citizen, _ in people for d in _debts(platform, citizen) if d["status"] == "paid")
    citizens = {citizen for citizen, _ in people}
    platform.settle(timeout=300)
    events = sum(1 for e in platform.events(FINE_PAID) if e.get("subject") in citizens)
    return charges, paid, events


def run_once(platform: Platform, n: int, deliveries: int) -> list[Figure]:
    people = seed(platform, n)
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        done = list(pool.map(lambda p: pay(platform, p[0], p[1], deliveries), people))
    wall = time.perf_counter() - started
    times = [t for t, _ in done]
    charges, paid, events = audit(platform, people, [order for _, order in done])
    label = "once" if deliveries == 1 else f"{deliveries} times"
    exact = charges == paid == events == n
    return [
        Figure(f"payments end to end, each notification delivered {label}: {n} payments, {CLIENTS} clients",
               f"{n / wall:.1f} payments/s ({wall:.1f} s)"),
        Figure(f"one payment end to end (create, gateway page, approval, notification{'s' if deliveries > 1 else ''})",
               f"p50 {ms(pct(times, 50))}, p99 {ms(pct(times, 99))}"),
        Figure(f"charges = debts paid = fine.paid events (notifications {label})",
               f"{charges} = {paid} = {events}", "all equal to the payments", "met" if exact else "NOT MET"),
    ]  # fmt: skip


def store_calls(platform: Platform) -> list[Figure]:
    """The store calls of one request of each kind, from its ``Server-Timing``."""
    ((citizen, debt_id),) = seed(platform, 1)
    made = platform.http.post(
        platform.url("/v1/payments"),
        json={"debt_ids": [debt_id], "method": "card"},
        headers=platform.as_(citizen),
        timeout=60,
    )
    payment = made.json()
    form = redsys.notification_form(redsys.Merchant.test(), payment["order"], payment["amount_cents"], 0)
    notify: Callable[[], requests.Response] = lambda: platform.http.post(  # noqa: E731
        platform.url("/v1/payments/redsys/notifications"), data=form, timeout=60
    )
    first, replay = notify(), notify()
    rows = [
        ("create a payment (POST /v1/payments)", made),
        ("a merchant notification that pays one debt", first),
        ("the same notification again (a replay)", replay),
    ]
    return [
        Figure(f"store calls: {name}", parse_server_timing(r.headers.get("Server-Timing", ""))[1]) for name, r in rows
    ]


def debts_read(platform: Platform, debts: int = 50, reads: int = 300, rate: float = 10.0) -> list[Figure]:
    """``GET /v1/citizens/{id}/debts`` for a person with ``debts`` fines, at a steady light rate."""
    citizen = f"c-bench-debts-{uuid.uuid4().hex[:10]}"
    fines = [_fine(citizen) for _ in range(debts)]
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(lambda f: platform.send_event(FINE, f, source="/legacy/multas", subject=citizen), fines))
    platform.wait_for(lambda: len(_debts(platform, citizen)) == debts, timeout=300, what=f"{debts} fines")
    found = steady_reads(platform, f"/v1/citizens/{citizen}/debts", platform.as_(citizen), reads, rate)
    return figures_for(f"GET /v1/citizens/{{id}}/debts, a person with {debts} debts (each priced)", *found)


def day_of_fines(platform: Platform, fines: int = 7_400, paid: int = 400) -> list[Figure]:
    """A day of Madrid's fines as events (≈7,400 ``fine.issued``: facts.md), stored and priced; then ``paid``
    of them paid through the sandbox. Time, the rate of each, and the payment function's peak memory."""
    before = _peak_rss_mib(platform)
    citizens = [f"c-bench-day-{uuid.uuid4().hex[:10]}" for _ in range(fines)]
    sent = [(citizen, _fine(citizen)) for citizen in citizens]

    def issue(person: tuple[str, dict[str, Any]]) -> None:
        platform.send_event(FINE, person[1], source="/legacy/multas", subject=person[0]).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(issue, sent))
    platform.settle(timeout=900)
    for citizen, _ in sent[:: max(1, fines // 50)]:  # a sample: every one was stored
        platform.wait_for(_stored(platform, citizen), timeout=300, what=f"the fine of {citizen}")
    ingest = time.perf_counter() - started
    chosen = [(citizen, f"fine-{fine['fine_id']}") for citizen, fine in sent[:paid]]
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        done = list(pool.map(lambda p: pay(platform, p[0], p[1], 1), chosen))
    paying = time.perf_counter() - started
    charges, debts_paid, events = audit(platform, chosen, [order for _, order in done])
    after = _peak_rss_mib(platform)
    return [
        Figure(f"a day of fines: {fines:,} fine.issued through the broker, stored and readable",
               f"{ingest:.1f} s ({fines / ingest:.0f} events/s)"),
        Figure(f"then {paid} of them paid end to end, {CLIENTS} clients",
               f"{paying:.1f} s ({paid / paying:.1f} payments/s; the day's {fines:,} at this rate: "
               f"{fines / (paid / paying) / 60:.0f} min)"),
        Figure("charges = debts paid = fine.paid events (the day's payments)", f"{charges} = {debts_paid} = {events}",
               "all equal to the payments", "met" if charges == debts_paid == events == paid else "NOT MET"),
        Figure("peak memory of a gateway worker serving them (VmHWM, the largest; every function in it), "
               "before / after the day",
               f"{before:.0f} MiB / {after:.0f} MiB"),
    ]  # fmt: skip


def _peak_rss_mib(platform: Platform) -> float:
    """The largest peak resident set (``VmHWM``) among the gateway's workers: locally they serve every function,
    the payment functions included (deployed, each function is its own container)."""
    peaks = []
    for pid in platform.processes():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if "local.gateway" in cmdline:
            peaks += [int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")]
    return max(peaks, default=0.0)


def run(platform: Platform, n: int = 200) -> list[Figure]:
    figures = run_once(platform, n, 1) + run_once(platform, n, 3) + store_calls(platform)
    figures += debts_read(platform) + day_of_fines(platform)
    record_section(TITLE, f"{NOTE}\n{recorded(datetime.now(UTC), 'python -m bench payments')}\n\n{table(figures)}")
    return figures
