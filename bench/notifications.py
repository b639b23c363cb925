"""Notifications and alerts (NOT): throughput and latency through the whole pipeline, alert fan-out at a
million subscribers, and a bulk job of 100,000 recipients.

- **pipeline**: ``POST /v1/notifications`` (explicit e-mail and SMS recipients, alternating) from 8 client
  threads → policy + render + one TransactWriteItems → outbox relay → broker → delivery function (claim,
  provider, outcome) → the local SMTP capture / SMS sink. Figures: accepted/s and delivered/s, HTTP latency
  and request-to-sink latency p50/p99. Anchor: GOV.UK Notify's platform ceiling of ~350 requests/s.
- **alert fan-out, 1,000,000 subscribers**: the decide-and-enqueue stage in process, over an in-memory
  projection (generated citizens in a few realistic shapes: preferred channels, quiet hours, RGPD flags,
  contact points) — for each subscriber the policy decision per candidate channel (memoised: citizens alike
  share one evaluation), the notification document and its status event serialised as they would be
  committed. DynamoDB writes are NOT in this figure; the next one measures the DynamoDB Local path.
- **alert fan-out through the platform**: N subscribers written to the projection table, one alert event,
  time until every message is in the sinks.
- **bulk 100,000**: one CSV request; time to the 202 (rows validated and stored) and until every message is
  delivered to the sinks (or how far it got within the time budget).
"""

from __future__ import annotations

import json
import resource
import sqlite3
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import requests

from bench.stats import Figure, ms, pct
from local.harness import Platform

SYSTEM = {"sub": "bench-notify", "role": "system"}
TEMPLATE: dict[str, Any] = {
    "purpose": "service-notifications",
    "subject": {"es": "Aviso {{ ref }}"},
    "body": {"es": "Hola, {{ name }}. Tiene un aviso nuevo ({{ ref }}) en la sede electrónica."},
}
_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def _sink_times(data_dir: Path) -> dict[str, float]:
    with sqlite3.connect(data_dir / "notify-sinks.sqlite", timeout=30) as db:
        rows = db.execute("SELECT notification_id, at FROM messages WHERE notification_id IS NOT NULL").fetchall()
    return {nid: at for nid, at in rows}


def _sink_count(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "notify-sinks.sqlite", timeout=30) as db:
        return int(db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])


def _template(platform: Platform, headers: dict[str, str]) -> str:
    template_id = f"bench-{uuid.uuid4().hex[:8]}"
    response = _session().put(platform.url(f"/v1/templates/{template_id}"), json=TEMPLATE, headers=headers, timeout=30)
    response.raise_for_status()
    return template_id


def pipeline(platform: Platform, count: int = 3000, concurrency: int = 8) -> list[Figure]:
    headers = {**platform.as_(SYSTEM["sub"], role="system"), "content-type": "application/json"}
    template = _template(platform, headers)
    sent: dict[str, tuple[float, float]] = {}
    lock = threading.Lock()

    def client(worker: int) -> None:
        for i in range(worker, count, concurrency):
            recipient = {"email": f"b{i}.{uuid.uuid4().hex[:6]}@example.org"} if i % 2 else {"phone": f"+346{i:07d}7"}
            body = {"template": template, "recipient": recipient, "personalisation": {"name": "Ana", "ref": str(i)}}
            t0 = time.time()
            response = _session().post(platform.url("/v1/notifications"), json=body, headers=headers, timeout=60)
            t1 = time.time()
            response.raise_for_status()
            with lock:
                sent[response.json()["id"]] = (t0, t1)

    before = _sink_count(platform.data_dir)
    started = time.time()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(client, range(concurrency)))
    accepted_at = time.time()
    deadline = time.monotonic() + 900
    while _sink_count(platform.data_dir) < before + count and time.monotonic() < deadline:
        time.sleep(0.2)
    arrived = {k: v for k, v in _sink_times(platform.data_dir).items() if k in sent}
    last = max(arrived.values()) if arrived else time.time()
    http = [t1 - t0 for t0, t1 in sent.values()]
    e2e = [arrived[k] - sent[k][0] for k in arrived]
    return [
        Figure(
            f"NOT pipeline: {count:,} notifications (e-mail + SMS), {concurrency} clients: accepted/s (HTTP 201)",
            f"{count / (accepted_at - started):.0f}/s",
            "≥ 350/s (GOV.UK Notify's ceiling), per core ≥ 175/s",
            "met" if count / (accepted_at - started) >= 350 else "NOT met (DynamoDB Local serialises writes)",
        ),
        Figure(
            "NOT pipeline: delivered to the sinks/s (first request to last message)",
            f"{len(arrived) / (last - started):.0f}/s ({len(arrived):,} of {count:,} arrived)",
        ),
        Figure("NOT pipeline: HTTP POST latency p50 / p99", f"{ms(pct(http, 50))} / {ms(pct(http, 99))}"),
        Figure(
            "NOT pipeline: request to message in the sink p50 / p99",
            f"{ms(pct(e2e, 50))} / {ms(pct(e2e, 99))}" if e2e else "none arrived",
        ),
    ]


def _deciding_ports() -> Any:
    """The ports deciding needs (the policy engine, the terms): no store or provider is touched."""
    from functions.core.clock import SYSTEM_CLOCK
    from functions.core.policy import get_policy
    from functions.core.terms import load_terms
    from functions.notification.handlers import NotificationPorts

    no_store = cast(Any, None)  # deciding reads and writes nothing
    return NotificationPorts(store=no_store, policy=get_policy(), terms=load_terms(), clock=SYSTEM_CLOCK, providers={})


def decide_in_process(count: int = 20_000) -> list[Figure]:
    """The CPU cost of one notification in the function, apart from DynamoDB and the broker: validate the
    recipient (email-validator / phonenumbers), decide (policy, per channel), render (Jinja2 sandbox), build
    the document and its status event, serialised. Gives the per-core ceiling of the code."""
    from events.notification import Recipient
    from functions.notification import handlers as pipe
    from functions.notification import templates
    from functions.notification.service import NotificationRequest

    content = templates.TemplateContent(TEMPLATE["purpose"], TEMPLATE["subject"], TEMPLATE["body"])
    template = templates.Template("bench", 1, content, templates.declared_fields(content))
    ports = _deciding_ports()
    at = datetime.now(UTC)
    latencies: list[float] = []
    started = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        recipient = Recipient(email=f"b{i}@example.org") if i % 2 else Recipient(phone=f"+346{i:07d}7")
        req = NotificationRequest(f"ntf-{i}", "bench", recipient, {"name": "Ana", "ref": str(i)}, "bench")
        doc = pipe.prepare(req, template, None, at, ports)
        json.dumps(doc, default=str)
        pipe.status_event(doc, at).model_dump_json()
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    return [
        Figure(
            f"NOT one notification in process (validate, decide, render, serialise), {count:,}: rate on one core",
            f"{count / elapsed:,.0f}/s; p50 / p99 {ms(pct(latencies, 50))} / {ms(pct(latencies, 99))}",
            "≥ 350/s per core (GOV.UK Notify's whole-platform ceiling)",
            "met" if count / elapsed >= 350 else "NOT met",
        )
    ]


def fanout_in_process(subscribers: int = 1_000_000) -> list[Figure]:
    """Decide and enqueue an alert for ``subscribers`` citizens over an in-memory projection."""
    from functions.notification import handlers as pipe
    from functions.notification import service
    from functions.notification.service import CitizenView

    ports = _deciding_ports()
    shapes = [
        CitizenView("x", known=True, push_endpoint="https://push.example.org/x"),
        CitizenView("x", known=True, email="a@example.org", channels=("email", "inapp")),
        CitizenView("x", known=True, phone="+34612345678", quiet_hours={"start": "22:00", "end": "08:00"}),
        CitizenView("x", known=True, channels=("push", "inapp"), push_endpoint="https://push.example.org/y"),
        CitizenView("x", known=True, restricted=True),
        CitizenView("x", known=True, objections=("alerts",)),
    ]
    weights = [40, 25, 15, 10, 5, 5]
    pool = [s for s, w in zip(shapes, weights, strict=True) for _ in range(w)]
    alert = {
        "topic": "civil-protection",
        "severity": "severe",
        "source": "/bench",
        "text": {"es": "Aviso naranja por tormentas en Madrid."},
        "title": {"es": "Aviso naranja"},
    }
    message = service.Message(purpose=service.ALERT_PURPOSE, kind="alert", topic="civil-protection", severity="severe")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    at = datetime.now(UTC)
    statuses: dict[str, int] = {}
    enqueued_bytes = 0
    batch: list[str] = []
    started = time.perf_counter()
    for i in range(subscribers):
        shape = pool[i % len(pool)]
        view = CitizenView(**{**shape.__dict__, "citizen_id": f"cit-{i:07d}"})
        doc = pipe.alert_doc("alr-bench", alert, view, message, at, ports)
        event = pipe.status_event(doc, at).model_dump_json()
        batch.append(json.dumps(doc, default=str))
        batch.append(event)
        statuses[doc["status"]] = statuses.get(doc["status"], 0) + 1
        if len(batch) >= 2 * pipe.TX_NOTIFICATIONS:  # one transaction's worth, "committed" and dropped
            enqueued_bytes += sum(len(b) for b in batch)
            batch = []
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    shown = ", ".join(f"{k} {v:,}" for k, v in sorted(statuses.items()))
    return [
        Figure(
            f"NOT alert fan-out in process: {subscribers:,} subscribers decided and enqueued (no DynamoDB)",
            f"{elapsed:.1f} s ({subscribers / elapsed:,.0f}/s, one core); {shown}",
        ),
        Figure(
            "NOT alert fan-out in process: peak RSS of the process (streamed in transaction-sized batches)",
            f"{peak / 1024:.0f} MiB (was {rss_before / 1024:.0f} MiB before); "
            f"{enqueued_bytes / 2**20:,.0f} MiB serialised",
        ),
    ]


class _BatchStore:
    """Only what ``handlers.batch_requested`` calls, in memory: each call counted (the DynamoDB calls the real
    adapter makes: one GetItem per template, one BatchGetItem per 100 profiles and per 100 ids, one
    TransactWriteItems per 30 notifications), each staged notification serialised as the adapter would."""

    def __init__(self, template: Any, profiles: dict[str, dict[str, Any]]) -> None:
        self.template, self.profiles, self.calls = template, profiles, {"read": 0, "commit": 0}
        self.written = 0

    def fetch_template(self, template_id: str, version: int | None = None) -> Any:
        self.calls["read"] += 1
        return self.template, 1

    def fetch_profiles(self, citizen_ids: Any) -> dict[str, dict[str, Any]]:
        self.calls["read"] += -(-len(citizen_ids) // 100)
        return {c: self.profiles[c] for c in citizen_ids}

    def fetch_existing(self, ids: Any) -> set[str]:
        self.calls["read"] += -(-len(ids) // 100)
        return set()

    def stage_notification(self, uow: Any, doc: dict[str, Any], at: datetime) -> None:
        self.written += len(json.dumps(doc, default=str))

    def commit_ahead(self, uow: Any) -> None:
        self.calls["commit"] += 1


def batch_in_process(messages: int = 100_000, page: int = 250) -> list[Figure]:
    """A campaign's dispatch as NOT does it per ``notification.batch.requested`` page (issue 16): decide each
    recipient (policies/notifications, consent per channel, blocklist; memoised per kind of citizen), render the
    chosen channel's template with its unsubscribe link (a signed token per message), build the document and
    its status event, serialised; the store is in memory and its calls counted. Per-core ceiling of the code."""
    from events.notification import BatchRecipient, NotificationBatchRequested
    from functions.core.clock import SYSTEM_CLOCK
    from functions.core.policy import get_policy
    from functions.core.store import UnitOfWork
    from functions.core.terms import load_terms
    from functions.notification import handlers as pipe
    from functions.notification import service, templates

    body = {"es": "Hola, {{ name }}. Programa de los Veranos de la Villa. Baja: {{ unsubscribe_url }}"}
    content = templates.TemplateContent("campaigns", {"es": "Veranos de la Villa"}, body)
    template = templates.Template("veranos", 1, content, templates.declared_fields(content))
    at = datetime.now(UTC)
    granted = {"granted": True, "channels": ["email", "sms"], "text_version": "2026-01"}
    shapes: list[dict[str, Any]] = []
    for consent, phone in ((granted, None), (granted, "+34612345678"), (None, None), ({**granted, "channels": ["sms"]},
                           "+34612345679")):  # fmt: skip
        parts = service.merge_contacts({}, "ana@example.org", phone, at) or {}
        if consent:
            parts = service.merge_consent(parts, "campaigns", consent, at) or parts
        shapes.append(parts)
    profiles = {f"c-{i:07d}": shapes[i % len(shapes)] for i in range(messages)}
    store = _BatchStore(template, profiles)
    ports = pipe.NotificationPorts(store=cast(Any, store), policy=get_policy(), terms=load_terms(), clock=SYSTEM_CLOCK,
                                   providers={})  # fmt: skip
    ids = list(profiles)
    events = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for start in range(0, messages, page):
        recipients = [BatchRecipient(citizen_id=c, personalisation={"name": "Ana"}, tags={"variant": "A"})
                      for c in ids[start : start + page]]  # fmt: skip
        data = NotificationBatchRequested(batch_id=f"b-{start}", template="veranos", campaign_id="cmp-bench",
                                          recipients=recipients)  # fmt: skip
        unit: UnitOfWork = pipe.batch_requested(data, "/pic/campaign", ports, None)
        events += len(unit.staged("outbox"))
        store.calls["commit"] += 1  # the last batch commits with the event's dedupe record
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    calls = store.calls["read"] + store.calls["commit"]
    rate, cpu_rate = messages / elapsed * 60, messages / cpu * 60
    return [
        Figure(
            f"NOT campaign dispatch in process: {messages:,} recipients in pages of {page} (decide, render with "
            "unsubscribe link, serialise)",
            f"{elapsed:.1f} s wall = {rate:,.0f}/min; {cpu:.1f} s CPU = {cpu_rate:,.0f} messages/min per core "
            f"({events:,} events in the last units)",
            "≥ 100,000 messages/min",
            "met" if cpu_rate >= 100_000 else "NOT met",
        ),
        Figure(
            f"NOT campaign dispatch: DynamoDB calls per page of {page}",
            f"{calls / (messages / page):.1f} per page ({store.calls['read'] / (messages / page):.1f} reads, "
            f"{store.calls['commit'] / (messages / page):.1f} transactions) = {calls / messages:.3f} per message",
        ),
    ]


def fanout_platform(platform: Platform, subscribers: int = 5000) -> list[Figure]:
    """Subscribers written to the projection (batch writes), one alert event, time until all are in the sinks."""
    from functions.notification.storage import ProfileItem, SubscriptionItem

    tag = uuid.uuid4().hex[:6]
    zone = "05"
    now = datetime.now(UTC)
    with SubscriptionItem.batch_write() as subs, ProfileItem.batch_write() as profiles:
        for i in range(subscribers):
            cid = f"bench-{tag}-{i:06d}"
            sub = SubscriptionItem(
                f"cit#{cid}", f"sub#mobility.{zone}", topic="mobility", zone=zone, live=True, changed_at=now
            )
            sub.topic_zone = f"mobility#{zone}"
            subs.save(sub)
            endpoint = {"value": f"https://push.example.org/{cid}", "at": now.isoformat()}
            profiles.save(ProfileItem(f"cit#{cid}", "profile", parts=json.dumps({"push_endpoint": endpoint})))
    before = _sink_count(platform.data_dir)
    event = {
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": "/legacy/movilidad",
        "type": "es.madrid.pic.alert.published.v1", "datacontenttype": "application/json",
        "data": {"topic": "mobility", "zones": [zone], "severity": "moderate", "text": {"es": "Corte en la M-30."}},
    }  # fmt: skip
    started = time.time()
    response = _session().post(
        platform.url("/events"),
        data=json.dumps(event),
        headers={"Content-Type": "application/cloudevents+json", **platform.sender("/legacy/movilidad")},
    )
    response.raise_for_status()
    deadline = time.monotonic() + 900
    while _sink_count(platform.data_dir) < before + subscribers and time.monotonic() < deadline:
        time.sleep(0.2)
    elapsed = time.time() - started
    got = _sink_count(platform.data_dir) - before
    return [
        Figure(
            f"NOT alert fan-out through the platform: {subscribers:,} subscribers (DynamoDB Local) to the push sink",
            f"{got:,} delivered in {elapsed:.1f} s ({got / elapsed:.0f}/s)",
        )
    ]


def campaign_platform(platform: Platform, recipients: int = 2000, page: int = 250) -> list[Figure]:
    """A campaign's pages through the platform (issue 16): citizens with consent to campaigns by push written to
    NOT's projection, the template PUT, ``notification.batch.requested`` pages sent as CAMP's relay, time until
    every message is in the push sink (decide, enqueue, relay, broker, delivery)."""
    from functions.notification.storage import ProfileItem

    tag = uuid.uuid4().hex[:6]
    now = datetime.now(UTC).isoformat()
    consent = {"granted": True, "channels": ["push"], "text_version": "2026-01"}
    ids = [f"bench-cmp-{tag}-{i:06d}" for i in range(recipients)]
    with ProfileItem.batch_write() as profiles:
        for cid in ids:
            parts = {"push_endpoint": {"value": f"https://push.example.org/{cid}", "at": now},
                     "consents": {"value": {"campaigns": consent}, "at": {"campaigns": now}}}  # fmt: skip
            profiles.save(ProfileItem(f"cit#{cid}", "profile", parts=json.dumps(parts)))
    headers = platform.as_(SYSTEM["sub"], role="system")
    template = f"bench-cmp-{tag}"
    body = {
        "purpose": "campaigns",
        "subject": {"es": "Veranos"},
        "body": {"es": "Hola, {{ name }}. {{ unsubscribe_url }}"},
    }
    _session().put(platform.url(f"/v1/templates/{template}"), json=body, headers=headers).raise_for_status()
    before = _sink_count(platform.data_dir)
    sender = platform.sender("/pic/campaign")
    started = time.time()
    for start in range(0, recipients, page):
        data = {
            "batch_id": f"{tag}:{start}",
            "template": template,
            "campaign_id": f"cmp-{tag}",
            "recipients": [{"citizen_id": c, "personalisation": {"name": "Ana"}} for c in ids[start : start + page]],
        }
        event = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/pic/campaign",
                 "type": "es.madrid.pic.notification.batch.requested.v1", "datacontenttype": "application/json",
                 "data": data}  # fmt: skip
        answer = _session().post(platform.url("/events"), data=json.dumps(event),
                                 headers={"Content-Type": "application/cloudevents+json", **sender})  # fmt: skip
        answer.raise_for_status()
    deadline = time.monotonic() + 900
    while _sink_count(platform.data_dir) < before + recipients and time.monotonic() < deadline:
        time.sleep(0.2)
    elapsed = time.time() - started
    got = _sink_count(platform.data_dir) - before
    return [
        Figure(
            f"NOT campaign through the platform: {recipients:,} recipients in pages of {page} (DynamoDB Local) to the "
            "push sink",
            f"{got:,} delivered in {elapsed:.1f} s ({got / elapsed * 60:,.0f}/min)",
        )
    ]


def bulk(platform: Platform, recipients: int = 100_000, budget: float = 1200) -> list[Figure]:
    headers = platform.as_(SYSTEM["sub"], role="system")
    template = _template(platform, {**headers, "content-type": "application/json"})
    lines = ["email,name,ref"] + [f"bulk{i}.{uuid.uuid4().hex[:4]}@example.org,Ana,{i}" for i in range(recipients)]
    body = ("\n".join(lines) + "\n").encode()
    before = _sink_count(platform.data_dir)
    started = time.time()
    response = _session().post(
        platform.url("/v1/notifications/bulk"), params={"template": template}, data=body,
        headers={**headers, "Content-Type": "text/csv"}, timeout=600,
    )  # fmt: skip
    accepted = time.time() - started
    response.raise_for_status()
    job = response.json()["id"]
    deadline = time.monotonic() + budget
    progress: dict[str, Any] = {}
    decided_at = None
    while time.monotonic() < deadline:
        progress = _session().get(platform.url(f"/v1/notifications/bulk/{job}"), headers=headers, timeout=60).json()
        if decided_at is None and progress["decided"] >= recipients:
            decided_at = time.time() - started
        if progress["state"] == "done":
            break
        time.sleep(2)
    elapsed = time.time() - started
    delivered = _sink_count(platform.data_dir) - before
    done = progress.get("state") == "done"
    return [
        Figure(
            f"NOT bulk {recipients:,} (CSV): time to 202 accepted (validated, stored in chunks)", f"{accepted:.1f} s"
        ),
        Figure(
            f"NOT bulk {recipients:,}: time until all decided and enqueued",
            f"{decided_at:.0f} s"
            if decided_at
            else f"not within {budget:.0f} s ({progress.get('decided', 0):,} decided)",
        ),
        Figure(
            f"NOT bulk {recipients:,}: time until all delivered to the sinks",
            f"{elapsed:.0f} s ({delivered / elapsed:.0f}/s)"
            if done
            else f"{delivered:,} delivered in {elapsed:.0f} s ({delivered / elapsed:.0f}/s); budget ended",
        ),
    ]


def main(argv: list[str]) -> int:
    """``python -m bench.notifications [decide|pipeline|fanout|platform-fanout|bulk] ...``: the platform parts on
    a fresh platform, then the in-process ones (after the environment points at its DynamoDB Local, since
    the models bind their endpoint when first imported). Figures are printed as they are measured."""
    import os
    import tempfile

    from local.harness import free_port, start_platform

    parts = set(argv) or {"decide", "pipeline", "fanout", "platform-fanout", "bulk", "campaign", "platform-campaign"}

    def show(found: list[Figure]) -> None:
        for figure in found:
            print(f"{figure.name:<95} {figure.value}  {figure.verdict}", flush=True)

    with tempfile.TemporaryDirectory(prefix="pic-bench-not-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        port = free_port()
        os.environ.update(
            {"PIC_DYNAMODB_ENDPOINT": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "local",
             "AWS_SECRET_ACCESS_KEY": "local", "PIC_LOG_LEVEL": "WARNING"}
        )  # fmt: skip
        platform = start_platform(data_dir, dynamodb_port=port) if parts - {"fanout", "decide", "campaign"} else None
        try:
            if platform and "pipeline" in parts:
                show(pipeline(platform, count=int(os.environ.get("PIC_BENCH_NOT_COUNT", "3000"))))
            if platform and "platform-fanout" in parts:
                show(fanout_platform(platform, int(os.environ.get("PIC_BENCH_NOT_SUBSCRIBERS", "5000"))))
            if platform and "platform-campaign" in parts:
                show(campaign_platform(platform, int(os.environ.get("PIC_BENCH_NOT_CAMPAIGN_PLATFORM", "2000"))))
            if platform and "bulk" in parts:
                show(bulk(platform, budget=float(os.environ.get("PIC_BENCH_NOT_BUDGET", "1200"))))
        finally:
            if platform:
                platform.stop()
    if "decide" in parts:
        show(decide_in_process())
    if "fanout" in parts:
        show(fanout_in_process())
    if "campaign" in parts:
        show(batch_in_process(int(os.environ.get("PIC_BENCH_NOT_CAMPAIGN", "100000"))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
