"""Store calls per business operation (issue 12 §5): the figure that transfers to production, where DynamoDB
bills per call, unlike DynamoDB Local's latency.

Every function of every domain is loaded as ``make run`` loads it (functions-framework's ``create_app``, the
real bootstrap and adapters) against a DynamoDB Local of its own, and driven through one scenario: the
channels' requests on every route, the area systems' events, and every event the functions themselves stage
in the outbox, delivered to each subscriber its Trigger names (the broker's job, done here in process so that
each delivery is measured alone). The store calls each request or delivery makes are counted by the kernel's
botocore ``before-call`` hook on every client the store layer builds (``functions.core.timing``), by
DynamoDB operation. A handler seen more than once (an event delivered to it several times in the scenario)
keeps its largest count.

``python -m bench.store_calls``: measure, print, record the table in ``docs/benchmarks.md`` ("Store calls per
operation") and compare with the budgets (``tests/functional/core/store_call_budgets.json``);
``--update-budgets`` rewrites the budgets from this measurement; ``--json PATH`` only writes the
measurement (what ``tests/functional/core/test_store_calls.py`` reads).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
BUDGETS = ROOT / "tests/functional/core/store_call_budgets.json"
TITLE = "## Store calls per operation"
READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})
TRANSACTIONS = frozenset({"TransactWriteItems"})
ISSUER = "http://pic.store-calls"
PURPOSE = "CITA-0042"
DISPLAY = "pic-event-display"  # the local subscriber of every event: it writes to SQLite, not the store

Counts = dict[str, dict[str, int]]  # operation key -> DynamoDB operation -> calls


# ---- what the table and the budgets say ---------------------------------------------------------------


def kind_totals(ops: dict[str, int]) -> tuple[int, int, int]:
    """(reads, writes, transactions) of one operation's calls."""
    return (
        sum(n for op, n in ops.items() if op in READS),
        sum(n for op, n in ops.items() if op in WRITES),
        sum(n for op, n in ops.items() if op in TRANSACTIONS),
    )


def over_budget(measured: Counts, budgets: Counts) -> list[str]:
    """One sentence per operation whose calls grew above its budget, naming the calls added; and per
    operation measured without a budget (a new route or handler: ``--update-budgets`` gives it one)."""
    found = []
    for key, ops in sorted(measured.items()):
        budget = budgets.get(key)
        if budget is None:
            found.append(f"{key}: no budget yet ({describe(ops)}); run python -m bench.store_calls --update-budgets")
            continue
        added = {op: n - budget.get(op, 0) for op, n in ops.items() if n > budget.get(op, 0)}
        if sum(ops.values()) > sum(budget.values()) or added:
            found.append(
                f"{key}: {sum(ops.values())} store calls, budget {sum(budget.values())} "
                f"(added: {describe(added)}; now {describe(ops)}, budget {describe(budget)})"
            )
    return found


def describe(ops: dict[str, int]) -> str:
    return " ".join(f"{op}={n}" for op, n in sorted(ops.items())) or "none"


def section(measured: Counts, uncovered: list[str], started: datetime) -> str:
    from bench.stats import recorded

    rows = "\n".join(
        f"| `{key}` | {sum(ops.values())} | {r} | {w} | {t} | {describe(ops)} |"
        for key, ops in sorted(measured.items())
        for r, w, t in [kind_totals(ops)]
    )
    missing = (
        "Not driven by the scenario (no figure yet): " + "; ".join(f"`{u}`" for u in uncovered) + "."
        if uncovered
        else "Every route and every Trigger's handler is driven."
    )
    return f"""{TITLE}

DynamoDB calls per request or event delivery, by operation, on the real wiring: each function loaded as
`make run` loads it, against DynamoDB Local, driven through one scenario (every route; the area systems'
events; every event the functions stage, delivered to each subscriber its Trigger names), counted by the
kernel's botocore `before-call` hook (`functions.core.timing`). This is the figure that transfers to
production, where DynamoDB bills per call. Reads are GetItem/BatchGetItem/Query/Scan, writes
PutItem/UpdateItem/DeleteItem/BatchWriteItem, transactions TransactWriteItems (one call, billed per item).
An operation seen several times keeps its largest count. Not counted: the outbox relay (one Query per poll
of a shard with rows, one BatchWriteItem per 25 rows sent). `tests/functional/core/test_store_calls.py`
fails when an operation's calls grow above its budget (`tests/functional/core/store_call_budgets.json`,
rewritten by `python -m bench.store_calls --update-budgets`). {missing}

{recorded(started, "python -m bench store-calls")}

| operation | calls | reads | writes | transactions | by DynamoDB operation |
|---|---|---|---|---|---|
{rows}
"""


# ---- the platform, in process ---------------------------------------------------------------------------


def _serve_jwks(jwks: dict[str, Any]) -> ThreadingHTTPServer:
    body = json.dumps(jwks).encode()

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _serve_sinks(data_dir: Path) -> Any:
    """The local SMS and push providers and the area systems' webhooks (``local.notify_sinks``), and the local
    Redsys (refunds), as the gateway serves them."""
    from werkzeug.serving import make_server
    from werkzeug.wrappers import Request, Response

    from functions.payment.redsys import Merchant
    from local.notify_sinks import ProviderSinks
    from local.redsys_sandbox import RedsysSandbox

    handlers = {**ProviderSinks(data_dir).handlers(), **RedsysSandbox(data_dir, Merchant.test()).handlers()}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        handler = handlers.get((request.method, request.path))
        response = handler(request) if handler else Response("not found", status=404)
        return response(environ, start_response)

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per message otherwise
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextmanager
def local_store(data_dir: Path) -> Iterator[None]:
    """DynamoDB Local (in memory), the dev IdP's keys over HTTP and the SMTP capture, with the environment the
    functions read set before any of them is imported (their models bind the endpoint when defined)."""
    from local import dynamodb
    from local.harness import free_port
    from local.idp import DevIdp

    port, smtp_port = free_port(), free_port()
    store = dynamodb.start(data_dir / "dynamodb", port, in_memory=True)
    jwks = _serve_jwks(DevIdp(data_dir, ISSUER, "pic").jwks())
    sinks = _serve_sinks(data_dir)
    os.environ.update(
        {
            "PIC_DYNAMODB_ENDPOINT": f"http://127.0.0.1:{port}",
            "AWS_REGION": "eu-south-2",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "PIC_JWKS_URL": f"http://127.0.0.1:{jwks.server_port}/jwks",
            "PIC_JWT_ISSUER": ISSUER,
            "PIC_JWT_AUDIENCE": "pic",
            "PIC_POLICY_ENGINE": "embedded",
            "PIC_SERVER_TIMING": "0",  # the kernel leaves the request's count to this meter
            "PIC_LOG_LEVEL": "ERROR",
            "PIC_DATA_DIR": str(data_dir),
            "PIC_SMTP_HOST": "127.0.0.1",
            "PIC_SMTP_PORT": str(smtp_port),
            "PIC_SMS_URL": f"http://127.0.0.1:{sinks.server_port}/dev/sms/messages",
            "PIC_PUSH_URL": f"http://127.0.0.1:{sinks.server_port}/dev/push/messages",
            "PIC_WHATSAPP_API_URL": f"http://127.0.0.1:{sinks.server_port}/dev/whatsapp",
            "PIC_REDSYS_REST_URL": f"http://127.0.0.1:{sinks.server_port}/dev/redsys/rest/trataPeticionREST",
            "PIC_PAYMENT_WEBHOOKS": json.dumps(
                {"/legacy/multas": f"http://127.0.0.1:{sinks.server_port}/dev/webhooks?system=multas"}
            ),
            "PIC_RELAY_WAKE": "",
            "K_SINK": "",
        }
    )
    from functions.core.settings import get_settings
    from local.notify_sinks import start_smtp

    get_settings.cache_clear()  # the sinks read the settings (the WhatsApp stand-in's path) before they were set
    smtp = start_smtp(data_dir, smtp_port)
    try:
        dynamodb.wait_ready(os.environ["PIC_DYNAMODB_ENDPOINT"], "eu-south-2")
        from functions.core.tables import create_tables

        create_tables()
        yield
    finally:
        smtp.stop()
        sinks.shutdown()
        jwks.shutdown()
        store.terminate()
        store.wait(timeout=30)


@dataclass
class Meter:
    """The functions of the local overlay in process, a meter on their store calls, and the broker's fan-out
    of their outbox rows to the Triggers' subscribers."""

    idp: Any
    apps: dict[str, Any] = field(default_factory=dict)
    triggers: list[Any] = field(default_factory=list)
    counts: Counts = field(default_factory=dict)
    seen_routes: set[str] = field(default_factory=set)
    seen_handlers: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, data_dir: Path) -> Meter:
        from functions_framework import create_app

        from local.idp import DevIdp
        from local.manifests import load

        manifests = load(ROOT / "infra/k8s/overlays/local")
        meter = cls(
            DevIdp(data_dir, ISSUER, "pic"), triggers=[t for t in manifests.triggers if t.subscriber != DISPLAY]
        )
        for service in manifests.services.values():
            if service.name != DISPLAY:
                app = create_app(service.target, str(ROOT / service.source), service.signature)
                meter.apps[service.name] = app.test_client()
        return meter

    def token(self, sub: str, role: str = "citizen", level: int = 0, area: str | None = None) -> dict[str, str]:
        from local.idp import TokenRequest

        minted = self.idp.mint(TokenRequest(sub=sub, role=role, level=level, area=area))
        headers = {"Authorization": f"Bearer {minted}"}
        if role == "agent":
            headers["Access-Purpose"] = PURPOSE
        return headers

    def _count(self, call: Callable[[], Any]) -> tuple[Any, dict[str, int]]:
        """``call()`` and the store calls it made, by DynamoDB operation."""
        from functions.core import timing

        measured = timing.start()
        try:
            result = call()
        finally:
            timing.stop()
        return result, dict(measured.store_ops)

    def _keep(self, key: str, ops: dict[str, int]) -> None:
        if sum(ops.values()) >= sum(self.counts.get(key, {}).values()):
            self.counts[key] = ops

    def request(
        self,
        service: str,
        method: str,
        path: str,
        rule: str,
        headers: dict[str, str],
        body: Any = None,
        query: dict[str, str] | None = None,
        expect: int | tuple[int, ...] = (200, 201, 202, 204),
        deliver: bool = True,
        form: dict[str, str] | None = None,
        text: str | None = None,
    ) -> Any:
        """One channel request on ``rule`` (counted), then the events it staged, delivered (unless not
        ``deliver``: the next request sees the state before its consequences, e.g. a request still open)."""
        key = f"{method} {rule}"
        client = self.apps[f"pic-{service}"]
        response, ops = self._count(
            lambda: client.open(
                path,
                method=method,
                json=body if form is None and text is None else None,
                data=form if text is None else text,
                headers=headers if text is None else {"Content-Type": "text/plain", **headers},
                query_string=query,
            )
        )
        expected = (expect,) if isinstance(expect, int) else expect
        if response.status_code not in expected:
            raise AssertionError(f"{key}: {response.status_code} {response.get_data(as_text=True)[:300]}")
        self._keep(key, ops)
        self.seen_routes.add(key)
        if deliver:
            self.deliver_pending()
        return response.get_json(silent=True)

    def send(self, type_: str, data: Any, source: str, subject: str | None = None) -> None:
        """An area system's event through the broker: delivered to each subscriber (counted), then what they
        staged."""
        attributes = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": source, "type": type_}
        if subject:
            attributes["subject"] = subject
        self.deliver_pending([(attributes, json.dumps(data))])

    def _deliver(self, attributes: dict[str, Any], data: str, trigger: Any) -> bool:
        """One delivery, counted when the subscriber took it; False when it asked for a retry (409: what it
        needs is not projected yet, as the broker's retry covers)."""
        headers = {f"ce-{k}": v for k, v in attributes.items() if k != "datacontenttype"}
        headers["content-type"] = "application/json"
        key = f"{attributes['type'].removeprefix('es.madrid.pic.')} → {trigger.subscriber}"
        client = self.apps[trigger.subscriber]
        response, ops = self._count(lambda: client.post("/", data=data, headers=headers))
        if response.status_code == 409:
            return False
        if response.status_code >= 300:
            raise AssertionError(f"{key}: {response.status_code} {response.get_data(as_text=True)[:300]}")
        self._keep(key, ops)
        self.seen_handlers.add(f"{trigger.name} → {trigger.subscriber}")
        return True

    def deliver_pending(self, events: list[tuple[dict[str, Any], str]] | None = None, rounds: int = 20) -> None:
        """The relays and the broker: ``events`` and every pending outbox row, delivered to the subscribers of
        their Triggers (rows then marked sent), round after round until nothing is pending or retried; what a
        round's deliveries stage, and the deliveries answered 409, go in the next."""
        from events.catalog import DOMAINS
        from functions.core.outbox import OutboxRecord, pending_shards
        from functions.core.relay import Relay

        retry: list[tuple[dict[str, Any], str, Any]] = [
            (attributes, data, t) for attributes, data in events or [] for t in self.triggers if t.matches(attributes)
        ]
        for _ in range(rounds):
            rows = [
                row
                for domain in sorted(DOMAINS)
                for shard in pending_shards(domain)
                for row in OutboxRecord.pending.query(shard)
            ]
            rows.sort(key=lambda row: row.created_at)
            due = retry + [
                (row.attributes(), row.data, t) for row in rows for t in self.triggers if t.matches(row.attributes())
            ]
            if not due:
                return
            if rows:
                Relay.mark_sent(rows)
            retry = [(attributes, data, t) for attributes, data, t in due if not self._deliver(attributes, data, t)]
        raise AssertionError(f"events still pending after {rounds} rounds of deliveries")


# ---- the scenario: every route, the area systems' events, and what they cause ---------------------------


def _dni(n: int) -> str:
    """A valid DNI (its check letter right): two valid documents never merge on their own."""
    from seed.city import dni_check_letter

    digits = f"{n:08d}"
    return f"{digits}{dni_check_letter(digits)}"


def _person(local_id: str, dni: str, email: str) -> dict[str, Any]:
    return {
        "local_id": local_id,
        "document": {"type": "DNI", "number": dni},
        "given_name": "Inés",
        "first_surname": "Calleja",
        "second_surname": "Ortuño",
        "birth_date": "1984-05-17",
        "email": email,
        "address": {"street": "Calle de Cesar Cañas", "number": "12", "postal_code": "28031", "district": "18"},
    }


def _campaign_through_not(m: Meter, citizen: str, me: dict[str, str], system: dict[str, str]) -> None:
    """Issue 16, NOT's side: a campaign's page (the citizen consented to campaigns by e-mail and prefers it
    again), the provider's feedback on it (signed), what its unsubscribe link is for, and the one-click."""
    from functions.core import webhooks
    from functions.core.settings import get_settings
    from functions.notification.service import derived_id

    template = f"sc-cmp-{uuid.uuid4().hex[:8]}"
    body = {
        "purpose": "campaigns",
        "subject": {"es": "Veranos"},
        "body": {"es": "Hola, {{ name }}. {{ unsubscribe_url }}"},
    }
    m.request("notification", "PUT", f"/v1/templates/{template}", "/v1/templates/<template_id>", system, body)
    prefs = f"/v1/citizens/{citizen}/preferences"
    m.request(
        "consent", "PUT", prefs, "/v1/citizens/<citizen_id>/preferences", me, {"language": "es", "channels": ["email"]}
    )
    recipient = {"citizen_id": citizen, "personalisation": {"name": "Inés"}, "tags": {"variant": "A"}}
    page = {"batch_id": "sc-cmp:0", "template": template, "campaign_id": "sc-cmp", "recipients": [recipient]}
    m.send("es.madrid.pic.notification.batch.requested.v1", page, "/pic/campaign")
    notification_id = derived_id("campaign", "sc-cmp", citizen)
    event = {"eventType": "Open", "mail": {"tags": {"notification": [notification_id]}}}
    raw = json.dumps(event)
    signed = {"Content-Type": "application/json", "X-PIC-Signature": webhooks.sign(
        get_settings().feedback_secret, int(datetime.now(UTC).timestamp()), raw.encode())}  # fmt: skip
    rule = "/v1/notification-feedback/<provider>"
    m.request("notification", "POST", "/v1/notification-feedback/ses", rule, signed, text=raw)
    path, rule = f"/v1/notifications/{notification_id}", "/v1/notifications/<notification_id>"
    note = m.request("notification", "GET", path, rule, system)
    assert note["status"] == "delivered" and note["campaign_id"] == "sc-cmp", note
    from functions.core import signed_links

    token = signed_links.sign("unsubscribe", {"n": notification_id})
    m.request("notification", "GET", f"/v1/unsubscribe/{token}", "/v1/unsubscribe/<token>", {})
    m.request("notification", "POST", f"/v1/unsubscribe/{token}", "/v1/unsubscribe/<token>", {})


def consumers(m: Meter) -> None:
    """API consumers (issue 19, ADR 0035): a client's request (its quota's one conditional UpdateItem on top of the
    route's own calls), a request over its quota (429: the failed write and the refusal's), the admin's usage."""
    from local.idp import ClientCredentials

    with tempfile.TemporaryDirectory(prefix="pic-sc-clients-") as secrets:
        clients = ClientCredentials(m.idp, Path(secrets))
        secret = clients.secret("quiosco-pruebas")
        grant = clients.grant({"grant_type": "client_credentials"}, ("quiosco-pruebas", secret))
    kiosk = {"Authorization": f"Bearer {grant['access_token']}"}
    cards = "/v1/verifier/card-types"
    if time.time() % 5 > 3:  # the kiosk's quota is 3 per 5-second window: its four calls within one
        time.sleep(5 - time.time() % 5 + 0.05)
    m.request("verifier", "GET", cards, f"{cards} (a client's token: its quota)", kiosk)
    for _ in range(2):  # the rest of its window's quota (3), then one over it
        m.request("verifier", "GET", cards, f"{cards} (a client's token: its quota)", kiosk)
    m.request("verifier", "GET", cards, f"{cards} (a client over its quota: 429)", kiosk, expect=429)
    admin = m.token("adm-sc-consumers", role="admin")
    m.request("consumers", "GET", "/v1/consumers", "/v1/consumers", admin)
    usage = "/v1/consumers/<client_id>/usage"
    m.request("consumers", "GET", "/v1/consumers/quiosco-pruebas/usage", usage, admin, query={"days": "7"})


def scenario(m: Meter) -> None:
    """One citizen's life across every domain, in the order a channel would drive it."""
    system = m.token("svc-store-calls", role="system")
    agent = m.token("ag-store-calls", role="agent", level=3, area="atencion-ciudadania")
    upserted = "es.madrid.pic.citizen.record.upserted.v1"
    seed = uuid.uuid4().int % 10_000_000
    pad, trb = f"PADS{uuid.uuid4().hex[:8]}", f"TRBS{uuid.uuid4().hex[:8]}"
    padron = _person(pad, _dni(10_000_000 + seed), "ines.calleja@example.org")

    # an office visit recorded against the Padrón record before C360 links it: the link stamps it
    visited = datetime.now(UTC).isoformat()
    m.send(
        "es.madrid.pic.interaction.recorded.v1",
        {
            "interaction_id": f"oac-{uuid.uuid4().hex[:10]}",
            "record": {"source": "/legacy/padron", "local_id": pad},
            "channel": {"kind": "call", "direction": "inbound", "line": "010"},
            "area": "atencion-ciudadania",
            "topic": "Cita para el padrón",
            "started_at": visited,
        },
        "/legacy/linea-madrid-010",
    )

    # C360: a golden record from the Padrón; the same person under another valid DNI goes to review
    m.send(upserted, padron, "/legacy/padron")
    found = m.request(
        "citizen", "GET", "/v1/citizens", "/v1/citizens", system, query={"source": "/legacy/padron", "local_id": pad}
    )
    citizen = found["citizen_id"]
    me = m.token(citizen)
    m.send(
        upserted,
        {**padron, "local_id": trb, "document": {"type": "DNI", "number": _dni(20_000_000 + seed)}},
        "/legacy/tributos",
    )
    m.send(upserted, {**padron, "phone": "+34600111222"}, "/legacy/padron")  # a change of the same record: a mobile
    m.request("citizen", "GET", f"/v1/citizens/{citizen}", "/v1/citizens/<citizen_id>", me)
    queue = m.request("citizen", "GET", "/v1/citizen-reviews", "/v1/citizen-reviews", agent)
    review = next(item for item in queue["items"] if item["candidate_id"] == citizen)
    m.request(
        "citizen",
        "POST",
        f"/v1/citizen-reviews/{review['review_id']}",
        "/v1/citizen-reviews/<review_id>",
        agent,
        {"decision": "match"},
    )
    m.request(
        "citizen",
        "POST",
        f"/v1/citizens/{citizen}/unmerge",
        "/v1/citizens/<citizen_id>/unmerge",
        agent,
        {"source": "/legacy/tributos", "local_id": trb},
    )
    m.request(  # both golden records are the same name and birth date: two found, two access records
        "citizen",
        "POST",
        "/v1/citizen-search",
        "/v1/citizen-search",
        agent,
        {"name": "Inés", "surname": "Calleja Ortuño", "birth_date": "1984-05-17"},
    )

    # consents, preferences, subscriptions
    consent = f"/v1/citizens/{citizen}/consents"
    m.request("consent", "GET", "/v1/consent-terms", "/v1/consent-terms", {})
    for purpose, channels in (("personalisation", []), ("campaigns", ["email"])):
        m.request(
            "consent",
            "PUT",
            f"{consent}/{purpose}",
            "/v1/citizens/<citizen_id>/consents/<purpose>",
            me,
            {"granted": True, "channels": channels, "text_version": "2026-01"},
        )
    m.request("consent", "GET", consent, "/v1/citizens/<citizen_id>/consents", me)
    m.request("consent", "GET", f"{consent}/history", "/v1/citizens/<citizen_id>/consents/history", me)
    m.request("consent", "GET", f"{consent}/campaigns", "/v1/citizens/<citizen_id>/consents/<purpose>", me)
    m.request(
        "consent",
        "GET",
        f"/v1/citizens/{citizen}/contact-decision",
        "/v1/citizens/<citizen_id>/contact-decision",
        system,
        query={"purpose": "campaigns", "channel": "email"},
    )
    prefs = f"/v1/citizens/{citizen}/preferences"
    m.request(
        "consent", "PUT", prefs, "/v1/citizens/<citizen_id>/preferences", me, {"language": "es", "channels": ["email"]}
    )
    m.request("consent", "GET", prefs, "/v1/citizens/<citizen_id>/preferences", me)
    subs = f"/v1/citizens/{citizen}/subscriptions"
    sub = m.request(
        "consent", "POST", subs, "/v1/citizens/<citizen_id>/subscriptions", me, {"topic": "traffic", "zone": "01"}
    )
    m.request("consent", "GET", subs, "/v1/citizens/<citizen_id>/subscriptions", me)
    m.send(
        "es.madrid.pic.consent.change.requested.v1",
        {
            "citizen_id": citizen,
            "purpose": "surveys",
            "granted": True,
            "channels": ["email"],
            "text_version": "2026-01",
            "actor": {"kind": "agent", "id": "ag-oac-7", "level": 2},
        },
        "/legacy/oficinas",
    )

    # interactions and the global position
    now = datetime.now(UTC)
    interaction = {
        "interaction_id": f"sc-{uuid.uuid4().hex[:10]}",
        "citizen_id": citizen,
        "channel": {"kind": "call", "direction": "inbound", "line": "010"},
        "area": "atencion-ciudadania",
        "topic": "Duda sobre el padrón",
        "started_at": now.isoformat(),
    }
    recorded = m.request("interaction", "POST", "/v1/interactions", "/v1/interactions", system, interaction)
    m.request("interaction", "GET", f"/v1/interactions/{recorded['id']}", "/v1/interactions/<interaction_id>", me)
    m.request(
        "interaction", "GET", f"/v1/citizens/{citizen}/interactions", "/v1/citizens/<citizen_id>/interactions", me
    )
    m.send(
        "es.madrid.pic.interaction.recorded.v1",
        {
            "interaction_id": f"oac-{uuid.uuid4().hex[:10]}",
            "record": {"source": "/legacy/padron", "local_id": pad},
            "channel": {
                "kind": "office-visit",
                "office": "OAC Arganzuela",
                "service": "Empadronamiento",
                "ticket": "A042",
                "issued_at": now.isoformat(),
            },
            "area": "atencion-ciudadania",
            "topic": "Alta en el padrón",
            "started_at": now.isoformat(),
        },
        "/legacy/oficinas/oac-arganzuela",
    )
    m.send(
        "es.madrid.pic.position.item.upserted.v1",
        {
            "local_id": pad,
            "section": "taxes",
            "item_id": "IBI-2026-1",
            "status": "pending",
            "title": "IBI 2026, primer plazo",
            "area": "hacienda",
            "as_of": now.isoformat(),
            "amount_eur": "312.40",
            "due_date": (now + timedelta(days=30)).date().isoformat(),
        },
        "/legacy/padron",
    )
    m.request("position", "GET", f"/v1/citizens/{citizen}/position", "/v1/citizens/<citizen_id>/position", me)

    # fines and taxes: a fine from Multas, a receipt from Tributos, the person's debts priced for today
    m.send(
        "es.madrid.pic.fine.issued.v1",
        {
            "fine_id": f"MUL-{uuid.uuid4().hex[:8]}",
            "citizen_id": citizen,
            "plate": "1234KLM",
            "infraction": {"article": "RGC art. 94.2.e", "description": "Estacionar en carga y descarga"},
            "severity": "grave",
            "regime": "traffic",
            "amount_cents": 20000,
            "notified_at": now.isoformat(),
        },
        "/legacy/multas",
    )
    m.send(
        "es.madrid.pic.tax.receipt.issued.v1",
        {
            "receipt_id": f"IBI-{uuid.uuid4().hex[:8]}",
            "citizen_id": citizen,
            "tax": "IBI",
            "object": {"kind": "cadastral-reference", "reference": "9872023VH5797S0001WX"},
            "period": "2026",
            "amount_cents": 45678,
            "voluntary_period": {"start": now.date().isoformat(), "end": (now + timedelta(days=60)).date().isoformat()},
        },
        "/legacy/tributos",
    )
    debts = m.request("payment", "GET", f"/v1/citizens/{citizen}/debts", "/v1/citizens/<citizen_id>/debts", me)
    # ... the citizen pays both; Redsys's approval settles them; the receipt, and its verification by code
    from functions.payment import redsys

    pay = {"debt_ids": [d["id"] for d in debts["debts"]], "method": "card"}
    payment = m.request("payment", "POST", "/v1/payments", "/v1/payments", me, body=pay)
    paid = f"/v1/payments/{payment['id']}"
    m.request("payment", "GET", paid, "/v1/payments/<payment_id>", me)
    approval = redsys.notification_form(redsys.Merchant.test(), payment["order"], payment["amount_cents"], 0)
    notifications = "/v1/payments/redsys/notifications"
    m.request("payment", "POST", notifications, notifications, {}, form=approval)
    m.request("payment", "GET", f"{paid}/receipt", "/v1/payments/<payment_id>/receipt", me)
    code = m.request("payment", "GET", paid, "/v1/payments/<payment_id>", me)["verification_code"]
    m.request("payment", "GET", f"/v1/payments/verify/{code}", "/v1/payments/verify/<code>", {})
    # ... an agent of Hacienda refunds part of it (PAY's worker asks the local Redsys)
    hacienda = m.token("ag-store-calls-hac", role="agent", level=2, area="hacienda")
    refund = {"amount_cents": 100, "refund_amount_available": payment["amount_cents"], "reason": "Recurso estimado"}
    m.request("payment", "POST", f"{paid}/refunds", "/v1/payments/<payment_id>/refunds", hacienda, refund)
    # ... a new fine, paid at a bank with its payment letter (the bank's collection file), and the day's books
    fine_id = f"MUL-{uuid.uuid4().hex[:8]}"
    m.send(
        "es.madrid.pic.fine.issued.v1",
        {"fine_id": fine_id, "citizen_id": citizen, "infraction": {"article": "RGC art. 94.2.e", "description": "x"},
         "severity": "grave", "regime": "traffic", "amount_cents": 20000,
         "notified_at": (now - timedelta(days=1)).isoformat()},
        "/legacy/multas",
    )  # fmt: skip
    letter_rule = "/v1/citizens/<citizen_id>/debts/<debt_id>/letter"
    m.request("payment", "GET", f"/v1/citizens/{citizen}/debts/fine-{fine_id}/letter", letter_rule, me)
    from functions.payment import cuaderno60
    from functions.payment.storage import LetterItem

    (printed,) = [item for item in LetterItem.scan() if item.debt_id == f"fine-{fine_id}"]
    reference, identification = printed.id.removeprefix("letter-").split("-")
    collected = cuaderno60.Collected("280796", reference, identification, int(printed.amount_cents), now.date(), "2100")
    bank_file = cuaderno60.render_return_file([collected], entity="2100", created_on=now.date())
    collections = "/v1/payments/bank-collections"
    m.request("payment", "POST", collections, collections, system, text=bank_file)
    books = "/v1/payments/reconciliation/<day>"
    m.request("payment", "GET", f"/v1/payments/reconciliation/{now.date().isoformat()}", books, system)
    # ... the tax folder; a direct debit of the flat's IBI signed (Tributos told by webhook), then cancelled
    m.request("payment", "GET", f"/v1/citizens/{citizen}/tax-folder", "/v1/citizens/<citizen_id>/tax-folder", me)
    debit_rule = "/v1/citizens/<citizen_id>/direct-debits/<tax_object>"
    debit = f"/v1/citizens/{citizen}/direct-debits/9872023VH5797S0001WX"
    mandate = {"iban": "ES91 2100 0418 4502 0005 1332", "holder": "Lucía Gómez", "modality": "fraccionado-bonificado"}
    m.request("payment", "PUT", debit, debit_rule, me, mandate)
    m.request("payment", "DELETE", debit, debit_rule, me)

    # notifications: a template, one message to the citizen, a bulk job, an alert, a requested event
    template = f"sc-{uuid.uuid4().hex[:8]}"
    ibi = {
        "purpose": "service-notifications",
        "subject": {"es": "Su recibo del IBI", "en": "Your property tax bill"},
        "body": {
            "es": "Hola, {{ name }}. Su recibo ya está en la sede.",
            "en": "Hello {{ name }}. Your bill is ready.",
        },
    }
    m.request("notification", "PUT", f"/v1/templates/{template}", "/v1/templates/<template_id>", system, ibi)
    m.request("notification", "GET", f"/v1/templates/{template}", "/v1/templates/<template_id>", system)
    m.request(
        "notification",
        "POST",
        f"/v1/templates/{template}/preview",
        "/v1/templates/<template_id>/preview",
        system,
        {"personalisation": {"name": "Inés"}},
    )
    note = m.request(
        "notification",
        "POST",
        "/v1/notifications",
        "/v1/notifications",
        system,
        {"template": template, "recipient": {"citizen_id": citizen}, "personalisation": {"name": "Inés"}},
    )
    m.request("notification", "GET", f"/v1/notifications/{note['id']}", "/v1/notifications/<notification_id>", system)
    # the app's inbox: the citizen now prefers it, and the next message lands there
    m.request(
        "consent", "PUT", prefs, "/v1/citizens/<citizen_id>/preferences", me, {"language": "es", "channels": ["inapp"]}
    )
    note = m.request(
        "notification",
        "POST",
        "/v1/notifications",
        "/v1/notifications",
        system,
        {"template": template, "recipient": {"citizen_id": citizen}, "personalisation": {"name": "Inés"}},
    )
    m.request("notification", "GET", f"/v1/citizens/{citizen}/inbox", "/v1/citizens/<citizen_id>/inbox", me)
    m.request(
        "notification", "GET", f"/v1/citizens/{citizen}/notifications", "/v1/citizens/<citizen_id>/notifications", me
    )
    m.request(
        "notification",
        "POST",
        f"/v1/citizens/{citizen}/inbox/{note['id']}/read",
        "/v1/citizens/<citizen_id>/inbox/<notification_id>/read",
        me,
    )
    m.request(
        "notification",
        "PUT",
        f"/v1/citizens/{citizen}/push-endpoint",
        "/v1/citizens/<citizen_id>/push-endpoint",
        me,
        {"endpoint": "https://push.example.org/ines"},
    )
    m.request(
        "notification",
        "GET",
        f"/v1/citizens/{citizen}/notification-profile",
        "/v1/citizens/<citizen_id>/notification-profile",
        me,
    )
    bulk = m.request(
        "notification",
        "POST",
        "/v1/notifications/bulk",
        "/v1/notifications/bulk",
        system,
        {
            "template": template,
            "recipients": [
                {"recipient": {"email": f"b{i}@example.org"}, "personalisation": {"name": "Ana"}} for i in range(3)
            ],
        },
    )
    m.request("notification", "GET", f"/v1/notifications/bulk/{bulk['id']}", "/v1/notifications/bulk/<bulk_id>", system)
    m.send(
        "es.madrid.pic.notification.requested.v1",
        {"template": template, "recipient": {"email": "ines.calleja@example.org"}, "personalisation": {"name": "Inés"}},
        "/legacy/tributos",
    )
    m.send(
        "es.madrid.pic.alert.published.v1",
        {
            "topic": "traffic",
            "zones": ["01"],
            "severity": "moderate",
            "text": {"es": "Corte de tráfico en la calle Mayor."},
        },
        "/legacy/movilidad",
    )
    _campaign_through_not(m, citizen, me, system)

    # micro-apps (FLAG): the snapshot every function polls, an administrator's switch, the citizen's home
    admin = m.token("adm-store-calls", role="admin")
    snapshot = m.request("flags", "GET", "/v1/flags", "/v1/flags", {})
    switch = {"enabled": True, "districts": ["01"], "percentage": 10, "reason": "pilot", "version": 0}
    assert snapshot["flags"]["events"]["version"] == 0
    m.request("flags", "PUT", "/v1/flags/events", "/v1/flags/<flag>", admin, switch)
    m.request("flags", "GET", "/v1/flags/events/history", "/v1/flags/<flag>/history", admin)
    apps = f"/v1/citizens/{citizen}/apps"
    m.request("flags", "PUT", apps, "/v1/citizens/<citizen_id>/apps", me, {"pinned": ["inbox"], "hidden": []})
    m.request("flags", "GET", apps, "/v1/citizens/<citizen_id>/apps", me)

    # data-subject rights: an access request (every domain answers), an objection (flags), the access log
    rgpd = m.request(
        "rgpd",
        "POST",
        f"/v1/citizens/{citizen}/rgpd-requests",
        "/v1/citizens/<citizen_id>/rgpd-requests",
        me,
        {"right": "access"},
    )
    rid = rgpd["request_id"]
    m.request("rgpd", "GET", f"/v1/rgpd-requests/{rid}", "/v1/rgpd-requests/<request_id>", me)
    m.request("rgpd", "GET", f"/v1/rgpd-requests/{rid}/export", "/v1/rgpd-requests/<request_id>/export", me)
    m.request(
        "rgpd",
        "POST",
        f"/v1/citizens/{citizen}/rgpd-requests",
        "/v1/citizens/<citizen_id>/rgpd-requests",
        me,
        {"right": "objection", "purposes": ["campaigns"]},
    )
    m.request("rgpd", "GET", f"/v1/citizens/{citizen}/rgpd-requests", "/v1/citizens/<citizen_id>/rgpd-requests", me)
    m.request("rgpd", "GET", f"/v1/citizens/{citizen}/rgpd-flags", "/v1/citizens/<citizen_id>/rgpd-flags", me)
    pending = m.request(
        "rgpd",
        "POST",
        f"/v1/citizens/{citizen}/rgpd-requests",
        "/v1/citizens/<citizen_id>/rgpd-requests",
        me,
        {"right": "rectification", "fields": {"email": "ines.nueva@example.org"}},
        deliver=False,
    )
    m.request(
        "rgpd",
        "POST",
        f"/v1/rgpd-requests/{pending['request_id']}/extension",
        "/v1/rgpd-requests/<request_id>/extension",
        agent,
        {"reason": "Complejidad: varias áreas implicadas."},
    )
    # notifications that do not simply arrive: refused by the provider, refused by the objection, deferred by
    # quiet hours and released when they end (the release poller's pass, not counted: it walks minutes)
    failing = {
        "template": template,
        "recipient": {"email": "fail-perm-1@example.org"},
        "personalisation": {"name": "Ana"},
    }
    m.request("notification", "POST", "/v1/notifications", "/v1/notifications", system, failing)
    campaign = f"sc-{uuid.uuid4().hex[:8]}"
    m.request(
        "notification",
        "PUT",
        f"/v1/templates/{campaign}",
        "/v1/templates/<template_id>",
        system,
        {**ibi, "purpose": "campaigns"},
    )
    m.request(
        "notification",
        "POST",
        "/v1/notifications",
        "/v1/notifications",
        system,
        {"template": campaign, "recipient": {"citizen_id": citizen}, "personalisation": {"name": "Inés"}},
    )
    madrid = datetime.now(ZoneInfo("Europe/Madrid"))
    quiet = {
        "start": (madrid - timedelta(hours=1)).strftime("%H:%M"),
        "end": (madrid + timedelta(hours=2)).strftime("%H:%M"),
    }
    m.request(
        "consent",
        "PUT",
        prefs,
        "/v1/citizens/<citizen_id>/preferences",
        me,
        {"language": "es", "channels": ["sms"], "quiet_hours": quiet},
    )
    deferred = m.request(
        "notification",
        "POST",
        "/v1/notifications",
        "/v1/notifications",
        system,
        {"template": template, "recipient": {"citizen_id": citizen}, "personalisation": {"name": "Inés"}},
    )
    view = m.request(
        "notification", "GET", f"/v1/notifications/{deferred['id']}", "/v1/notifications/<notification_id>", system
    )
    from functions.notification.release import release

    release(datetime.fromisoformat(view["deliver_after"]) + timedelta(minutes=1))
    m.deliver_pending()
    surveys(m, citizen)
    cases(m, citizen, me)
    knowledge_base(m)
    routing(m, citizen)
    assistant(m, citizen, me)
    campaigns(m)
    wallet(m)
    verifier(m)
    agenda(m)
    zbe(m)
    bookings(m)
    incidents(m)
    recommend(m)
    consumers(m)
    apidocs(m)
    intake(m)
    lake(m)
    m.request("audit", "GET", f"/v1/citizens/{citizen}/access-log", "/v1/citizens/<citizen_id>/access-log", me)
    m.request(
        "consent", "DELETE", f"{subs}/{sub['id']}", "/v1/citizens/<citizen_id>/subscriptions/<subscription_id>", me
    )


def bookings(m: Meter) -> None:
    """Bookings (issue 18): a resident projected from C360 lists the catalogue and a court's slots, books the court
    (held: a precio público receipt for PAY), pays it (PAY's tax.receipt.paid confirms it), another joins the
    waiting list; the first cancels (the second is promoted, held); reads; an agent's no-show of a slot not started
    yet is refused as a state conflict (its reads counted)."""
    from functions.payment import redsys

    ana, bea = f"c-bk-{uuid.uuid4().hex[:8]}", f"c-bk-{uuid.uuid4().hex[:8]}"
    for cid in (ana, bea):
        updated = {
            "citizen_id": cid, "link": {"source": "/legacy/padron", "local_id": f"P{cid}", "change": "added"},
            "match": {"method": "new", "score": 1.0, "evidence": []}, "updated_at": datetime.now(UTC).isoformat(),
            "profile": {"birth_date": "1985-05-01", "district": "09"},
        }  # fmt: skip
        m.send("es.madrid.pic.citizen.updated.v1", updated, "/pic/citizen", cid)
    me, her = m.token(ana), m.token(bea)
    m.request("booking", "GET", "/v1/bookings/resources", "/v1/bookings/resources", {})
    slots_rule = "/v1/bookings/resources/<resource_id>/slots"
    slots = m.request("booking", "GET", "/v1/bookings/resources/padel-casa-de-campo/slots", slots_rule, {})
    slot_id = next(s["slot_id"] for s in slots["slots"] if s["free"])
    mine, rule = f"/v1/citizens/{ana}/bookings", "/v1/citizens/<citizen_id>/bookings"
    held = m.request("booking", "POST", mine, rule, {**me, "Idempotency-Key": str(uuid.uuid4())}, {"slot_id": slot_id})
    pay = {"debt_ids": [held["payment"]["debt_id"]], "method": "card"}
    payment = m.request("payment", "POST", "/v1/payments", "/v1/payments", me, body=pay)
    approval = redsys.notification_form(redsys.Merchant.test(), payment["order"], payment["amount_cents"], 0)
    notifications = "/v1/payments/redsys/notifications"
    m.request("payment", "POST", notifications, notifications, {}, form=approval)
    queued = {"slot_id": slot_id, "waitlist": True}
    waiting = m.request("booking", "POST", f"/v1/citizens/{bea}/bookings", rule,
                        {**her, "Idempotency-Key": str(uuid.uuid4())}, queued)  # fmt: skip
    m.request("booking", "GET", mine, rule, me)
    one, one_rule = f"{mine}/{held['booking_id']}", f"{rule}/<booking_id>"
    m.request("booking", "GET", one, one_rule, me)
    m.request("booking", "POST", f"{one}/cancel", f"{one_rule}/cancel", {**me, "Idempotency-Key": str(uuid.uuid4())})
    agent = {**m.token("ag-sc-booking", role="agent", level=2, area="atencion-ciudadania"),
             "Access-Purpose": PURPOSE, "Idempotency-Key": str(uuid.uuid4())}  # fmt: skip
    theirs = f"/v1/citizens/{bea}/bookings/{waiting['booking_id']}"
    m.request("booking", "POST", f"{theirs}/no-show", f"{one_rule}/no-show", agent, expect=409)


def intake(m: Meter) -> None:
    """The legacy adapters (issue 19): Multas submits a file (put in the inbox, its report queued), reads the report
    and the list of reports. Loading the file (the inbox's job) is measured per record by ``python -m bench intake``."""
    os.environ["PIC_INTAKE_INBOX"] = str(Path(os.environ["PIC_DATA_DIR"]) / "inbox")  # read on the inbox's first use
    system = m.token("svc-sc-intake", role="system")
    sample = (ROOT / "functions/intake/samples/multas-2026-12.csv").read_text(encoding="utf-8")
    rule = "/v1/intake/<system>/files"
    queued = m.request("intake", "POST", "/v1/intake/multas/files", rule, system, query={"name": "multas.csv"},
                       text=sample)  # fmt: skip
    m.request("intake", "GET", queued["report"], "/v1/intake/files/<file_id>", system)
    m.request("intake", "GET", "/v1/intake/files", "/v1/intake/files", system, query={"system": "multas"})


def agenda(m: Meter) -> None:
    """GEO: a system ingests a small agenda file (and again: nothing changes); anyone reads the events near a point,
    one event and its iCalendar; a person's home comes from C360 and the location consent from CON; they choose a
    work place, read their zones and the events near them, save an event and export their agenda; the council
    withdraws the event."""
    cid = f"c-geo-{uuid.uuid4().hex[:8]}"
    system, me = m.token("svc-sc-agenda", role="system"), m.token(cid)
    graph = [{"id": f"sc{i}", "title": f"Concierto {i}", "dtstart": "2026-12-01 00:00:00.0",
              "dtend": "2027-12-31 23:59:00.0", "time": "19:00", "free": 1,
              "recurrence": {"days": "FR", "frequency": "WEEKLY", "interval": 1},
              "@type": "https://datos.madrid.es/egob/kos/actividades/Musica",
              "location": {"latitude": 40.4168 + i * 0.001, "longitude": -3.7038}} for i in range(3)]  # fmt: skip
    body = {"source": "store-calls.json", "content": json.dumps({"@graph": graph})}
    m.request("agenda", "POST", "/v1/agenda/ingests", "/v1/agenda/ingests", system, body)
    report = m.request("agenda", "POST", "/v1/agenda/ingests", "/v1/agenda/ingests", system, body)
    m.request("agenda", "GET", f"/v1/agenda/ingests/{report['ingest_id']}", "/v1/agenda/ingests/<ingest_id>", system)
    near = {"lat": "40.4168", "lon": "-3.7038", "radius_m": "1000"}
    m.request("agenda", "GET", "/v1/agenda/events", "/v1/agenda/events", {}, query=near)
    event, rule = "/v1/agenda/events/sc0", "/v1/agenda/events/<event_id>"
    m.request("agenda", "GET", event, rule, {})
    m.request("agenda", "GET", f"{event}/ical", f"{rule}/ical", {})
    updated = {
        "citizen_id": cid, "link": {"source": "/legacy/padron", "local_id": f"P{cid}", "change": "added"},
        "match": {"method": "new", "score": 1.0, "evidence": []}, "updated_at": datetime.now(UTC).isoformat(),
        "profile": {"district": "01", "barrio": "016"},
    }  # fmt: skip
    m.send("es.madrid.pic.citizen.updated.v1", updated, "/pic/citizen", cid)
    consent = {"citizen_id": cid, "purpose": "location", "before": {"granted": False},
               "after": {"granted": True, "text_version": "2026-01"}, "mode": "a", "proof_id": f"p-{cid}",
               "actor": {"kind": "citizen", "id": cid}, "capture_channel": "web", "language": "es",
               "text_sha256": None, "changed_at": datetime.now(UTC).isoformat()}  # fmt: skip
    m.send("es.madrid.pic.consent.changed.v1", consent, "/pic/consent", cid)
    mine = "/v1/citizens/<citizen_id>/agenda"
    zones = m.request("agenda", "GET", f"/v1/citizens/{cid}/agenda/zones", f"{mine}/zones", me)
    work = {"kind": "work", "barrio": "023", "radius_m": 1000}
    m.request("agenda", "PUT", f"/v1/citizens/{cid}/agenda/zones", f"{mine}/zones", me,
              {"revision": zones["revision"], "zones": [work]})  # fmt: skip
    m.request("agenda", "GET", f"/v1/citizens/{cid}/agenda", mine, me)
    m.request("agenda", "PUT", f"/v1/citizens/{cid}/agenda/saved/sc0", f"{mine}/saved/<event_id>", me)
    m.request("agenda", "GET", f"/v1/citizens/{cid}/agenda/saved", f"{mine}/saved", me)
    m.request("agenda", "GET", f"/v1/citizens/{cid}/agenda/saved/ical", f"{mine}/saved/ical", me)
    m.request("agenda", "DELETE", f"/v1/citizens/{cid}/agenda/saved/sc0", f"{mine}/saved/<event_id>", me)
    m.request("agenda", "DELETE", event, rule, m.token("adm-sc-agenda", role="admin"))


def incidents(m: Meter) -> None:
    """Avisos (issue 18): Open311's catalogue and search in JSON and XML, a client registered and its batch report
    (a token), a citizen's report from the app with a photo, a duplicate suggested, "me too", the area's stages,
    the reopening, Madrid's view, the photo and the person's list."""
    import base64
    import io

    from PIL import Image

    o311 = "/open311/v2"
    admin, ana, berta = m.token("adm-sc-avisos", role="admin"), m.token("c-sc-ana"), m.token("c-sc-berta")
    agent = m.token("ag-sc-avisos", role="agent", level=1, area="atencion-ciudadania")
    key = m.request("incident", "POST", "/v1/open311-clients", "/v1/open311-clients", admin, {"name": "sc-client"})
    form = {"api_key": key["api_key"], "service_code": "vehiculo-abandonado", "lat": "40.4301", "long": "-3.7012"}
    made = {}
    for fmt in ("json", "xml"):
        m.request("incident", "GET", f"/open311/discovery.{fmt}", f"/open311/discovery.{fmt}", {})
        m.request("incident", "GET", f"{o311}/services.{fmt}", f"{o311}/services.{fmt}", {})
        m.request("incident", "GET", f"{o311}/services/grafiti.{fmt}", f"{o311}/services/<service_code>.{fmt}", {})
        made[fmt] = m.request("incident", "POST", f"{o311}/requests.{fmt}", f"{o311}/requests.{fmt}", {}, form=form)
    token = made["json"][0]["token"]
    found = m.request("incident", "GET", f"{o311}/tokens/{token}.json", f"{o311}/tokens/<token>.json", {})
    m.request("incident", "GET", f"{o311}/tokens/{token}.xml", f"{o311}/tokens/<token>.xml", {})
    report = {"service_code": "alumbrado-farola-apagada", "lat": 40.4169, "long": -3.7036,
              "attributes": {"tipo-averia": "apagada"}}  # fmt: skip
    mine = m.request("incident", "POST", "/v1/incidents", "/v1/incidents", ana, report)
    rid, rule = mine["service_request_id"], "/v1/incidents/<incident_id>"
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 30, 30)).save(out, "JPEG")
    photo = {"image_base64": base64.b64encode(out.getvalue()).decode()}
    m.request("incident", "POST", f"/v1/incidents/{rid}/photos", f"{rule}/photos", ana, photo)
    m.request("incident", "GET", f"/v1/incidents/{rid}/photos/1", f"{rule}/photos/<n>", {})
    m.request("incident", "GET", "/v1/incidents/suggestions", "/v1/incidents/suggestions", {},
              query={"service_code": "alumbrado-farola-apagada", "lat": "40.41695", "long": "-3.70361"})  # fmt: skip
    m.request("incident", "POST", f"/v1/incidents/{rid}/me-too", f"{rule}/me-too", berta, {})
    m.request("incident", "POST", f"/v1/incidents/{rid}/stage", f"{rule}/stage", agent, {"stage": "resolved"})
    m.request("incident", "POST", f"/v1/incidents/{rid}/reopen", f"{rule}/reopen", ana, {"note": "Sigue apagada"})
    m.request("incident", "GET", f"/v1/incidents/{rid}", rule, {})
    ids = {"service_request_id": f"{rid},{found[0]['service_request_id']}"}
    for fmt in ("json", "xml"):
        m.request("incident", "GET", f"{o311}/requests.{fmt}", f"{o311}/requests.{fmt}", {}, query=ids)
        m.request("incident", "GET", f"{o311}/requests/{rid}.{fmt}", f"{o311}/requests/<service_request_id>.{fmt}", {})
    m.request("incident", "GET", f"{o311}/requests.json", f"{o311}/requests.json", {}, query={"status": "open"})
    m.request("incident", "GET", "/v1/citizens/c-sc-berta/incidents", "/v1/citizens/<citizen_id>/incidents", berta)


def lake(m: Meter) -> None:
    """LAKE (issue 19): the facts staged so far flushed into the tables, the catalogue and a day's partition read."""
    admin = m.token("sc-lake-admin", role="admin")
    m.request("lake", "POST", "/v1/lake/flush", "/v1/lake/flush", admin)
    m.request("lake", "GET", "/v1/lake/catalogue", "/v1/lake/catalogue", admin)
    day = datetime.now(UTC).date().isoformat()
    m.request("lake", "GET", f"/v1/lake/tables/cases/partitions/{day}", "/v1/lake/tables/<table>/partitions/<day>",
              admin, query={"where": "area:hacienda"})  # fmt: skip


def recommend(m: Meter) -> None:
    """REC: a senior in mode b with a car in Centro, a past booking and a zone with a matching agenda event reads
    their suggestions and marks one not useful."""
    cid = f"c-rec-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    consent = {
        "citizen_id": cid, "purpose": "personalisation", "before": {"granted": False}, "after": {"granted": True},
        "mode": "b", "proof_id": "p-sc", "actor": {"kind": "citizen", "id": cid}, "capture_channel": "app",
        "language": "es", "text_sha256": None, "changed_at": now.isoformat(),
    }  # fmt: skip
    m.send("es.madrid.pic.consent.changed.v1", consent, "/pic/consent", cid)
    updated = {
        "citizen_id": cid, "link": {"source": "/legacy/padron", "local_id": f"P{cid}", "change": "added"},
        "match": {"method": "new", "score": 1.0, "evidence": []}, "updated_at": now.isoformat(),
        "profile": {"birth_date": "1950-03-01", "district": "01", "barrio": "011"},
    }  # fmt: skip
    m.send("es.madrid.pic.citizen.updated.v1", updated, "/pic/citizen", cid)
    vehicle = {"plate": "1234KLM", "label": "C", "citizen_id": cid, "district": "01", "as_of": now.isoformat()}
    m.send("es.madrid.pic.vehicle.registered.v1", vehicle, "/legacy/movilidad", cid)
    booked = now - timedelta(days=20)
    booking = {"booking_id": f"bk-{uuid.uuid4().hex[:16]}", "citizen_id": cid, "resource_id": "auditorio-1",
               "slot_id": "auditorio-1.1", "kind": "cultural-activity", "category": "musica", "district": "01",
               "starts_at": booked.isoformat(), "ends_at": (booked + timedelta(hours=2)).isoformat(),
               "centre": "Centro Cultural Conde Duque", "price_cents": 0, "via": "free",
               "confirmed_at": (booked - timedelta(days=2)).isoformat()}  # fmt: skip
    m.send("es.madrid.pic.booking.confirmed.v1", booking, "/pic/booking", cid)
    zones = {"citizen_id": cid, "zones": [{"kind": "home", "label": "Casa", "district": "01", "barrio": "011",
                                           "lat": 40.4125, "lon": -3.7075, "radius_m": 1000}],
             "changed_at": now.isoformat()}  # fmt: skip
    m.send("es.madrid.pic.zones.changed.v1", zones, "/pic/agenda", cid)
    event = {"event_id": f"ag-{cid}", "title": "Concierto", "category": "musica", "district": "01", "barrio": "011",
             "free": True, "next_dates": [(now + timedelta(days=3)).isoformat()]}  # fmt: skip
    m.send("es.madrid.pic.agenda.event.published.v1", event, "/pic/agenda")
    me, mine = m.token(cid), "/v1/citizens/<citizen_id>/suggestions"
    found = m.request("recommend", "GET", f"/v1/citizens/{cid}/suggestions", mine, me)["suggestions"]
    assert {s["rule"] for s in found} == {"ser-resident-card", "madrid-mayor", "agenda-events"}, found
    m.request("recommend", "POST", f"/v1/citizens/{cid}/suggestions/madrid-mayor/feedback",
              f"{mine}/<suggestion_id>/feedback", me, {"feedback": "not-useful"})  # fmt: skip


def wallet(m: Meter) -> None:
    """WAL: a senior projected from C360 reads their cards, asks for an offer of 2 copies; a holder reads the
    metadata, exchanges the code, takes a c_nonce and the credentials; the status list is read; an agent suspends,
    reinstates and grants; the citizen revokes; an admin edits a card type."""
    from functions.core import sdjwt
    from functions.core.jose import LocalSigner

    cid = f"c-wal-{uuid.uuid4().hex[:8]}"
    updated = {
        "citizen_id": cid, "link": {"source": "/legacy/padron", "local_id": f"P{cid}", "change": "added"},
        "match": {"method": "new", "score": 1.0, "evidence": []}, "updated_at": datetime.now(UTC).isoformat(),
        "profile": {"birth_date": "1950-03-01", "district": "02"},
    }  # fmt: skip
    m.send("es.madrid.pic.citizen.updated.v1", updated, "/pic/citizen", cid)
    me, agent = m.token(cid), m.token("ag-sc-wallet", role="agent", level=2, area="atencion-ciudadania")
    mine = "/v1/citizens/<citizen_id>/wallet"
    m.request("wallet", "GET", f"/v1/citizens/{cid}/wallet/cards", f"{mine}/cards", me)
    offer = m.request("wallet", "POST", f"/v1/citizens/{cid}/wallet/offers", f"{mine}/offers", me,
                      {"card_type": "madrid-mayor", "copies": 2})  # fmt: skip
    issuer = ""
    for name in ("openid-credential-issuer", "oauth-authorization-server", "jwt-vc-issuer"):
        path = f"/.well-known/{name}/v1/wallet"
        issuer = issuer or m.request("wallet", "GET", path, path, {})["credential_issuer"]
        if name != "openid-credential-issuer":
            m.request("wallet", "GET", path, path, {})
    grant = offer["credential_offer"]["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "pre-authorized_code": grant["pre-authorized_code"], "tx_code": offer["tx_code"]}  # fmt: skip
    token = m.request("wallet", "POST", "/v1/wallet/oid4vci/token", "/v1/wallet/oid4vci/token", {}, form=form)
    nonce = m.request("wallet", "POST", "/v1/wallet/oid4vci/nonce", "/v1/wallet/oid4vci/nonce", {})["c_nonce"]
    now = datetime.now(UTC)
    proofs = [sdjwt.key_proof(LocalSigner.generate(), audience=issuer, nonce=nonce, iat=now) for _ in range(2)]
    body = {"credential_configuration_id": "madrid-mayor", "proofs": {"jwt": proofs}}
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    m.request("wallet", "POST", "/v1/wallet/oid4vci/credential", "/v1/wallet/oid4vci/credential", bearer, body)
    m.request("wallet", "GET", "/v1/wallet/status/madrid-mayor-1", "/v1/wallet/status/<list_id>", {})
    cards = m.request("wallet", "GET", f"/v1/citizens/{cid}/wallet/cards", f"{mine}/cards", me)["cards"]
    card_id = next(c for c in cards if c["type"] == "madrid-mayor")["held"][0]["card_id"]
    card, rule = f"/v1/citizens/{cid}/wallet/cards/{card_id}", f"{mine}/cards/<card_id>"
    m.request("wallet", "POST", f"{card}/suspend", f"{rule}/suspend", agent, {"reason": "checking"})
    m.request("wallet", "POST", f"{card}/reinstate", f"{rule}/reinstate", agent, {})
    m.request("wallet", "POST", f"{card}/revoke", f"{rule}/revoke", me, {"reason": "citizen-request"})
    m.request("wallet", "POST", f"/v1/citizens/{cid}/wallet/grants", f"{mine}/grants", agent,
              {"card_type": "emprende", "reason": "alta en el registro", "claims": {"sector": "comercio"}})  # fmt: skip
    types = m.request("wallet", "GET", "/v1/wallet/card-types", "/v1/wallet/card-types", {})["card_types"]
    zbe = next(t for t in types if t["type"] == "zbe")
    edit = {k: zbe[k] for k in ("title", "validity_days", "suspendable", "claims", "age_over")} | {"version": 0}
    m.request("wallet", "PUT", "/v1/wallet/card-types/zbe", "/v1/wallet/card-types/<card_type>",
              m.token("adm-sc", role="admin"), edit)  # fmt: skip


def zbe(m: Meter) -> None:
    """ZBE (issue 18): Movilidad registers two vehicles; a resident of Centro applies (granted by the rules: the
    position, the notice, the decision and the wallet's card.granted delivered); a guest applies (review); an agent
    reads the queue and approves; the person reads their applications; the cameras' system reads the plate list."""
    cid, guest = f"c-zbe-{uuid.uuid4().hex[:8]}", f"c-zbe-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC).isoformat()
    for plate, label, holder, district in (("1234BCD", "B", cid, "01"), ("M1234AB", "C", "c-host", "05")):
        data = {"plate": plate, "label": label, "citizen_id": holder, "district": district, "as_of": now}
        m.send("es.madrid.pic.vehicle.registered.v1", data, "/legacy/movilidad", plate)
    rule = "/v1/citizens/<citizen_id>/zbe/applications"
    me, agent = m.token(cid), m.token("ag-sc-zbe", role="agent", level=2, area="movilidad")
    m.request("zbe", "POST", f"/v1/citizens/{cid}/zbe/applications", rule, me,
              {"plate": "1234 BCD", "zone": "distrito-centro", "category": "residente"})  # fmt: skip
    pending = m.request("zbe", "POST", f"/v1/citizens/{guest}/zbe/applications", rule, m.token(guest),
                        {"plate": "M-1234-AB", "zone": "distrito-centro", "category": "invitado"})  # fmt: skip
    m.request("zbe", "GET", "/v1/zbe/review-queue", "/v1/zbe/review-queue", agent)
    approve = {"decision": "approve", "reason": "Invitación comprobada"}
    decide = "/v1/zbe/applications/<application_id>/decision"
    m.request("zbe", "POST", decide.replace("<application_id>", pending["id"]), decide, agent, approve)
    m.request("zbe", "GET", f"/v1/citizens/{cid}/zbe/applications", rule, me)
    m.request("zbe", "GET", "/v1/zbe/plates", "/v1/zbe/plates", m.token("svc-sc-camaras", role="system"))


def surveys(m: Meter, citizen: str) -> None:
    """SURV: an editor creates, edits, opens a survey triggered by a case closing, a payment and an office visit (the
    scenario's later cases, payments and tickets invite through it); an agent invites; the citizen reads the form and
    answers from the link, then edits; the results; another survey closed."""
    from urllib.parse import parse_qs, urlsplit

    from functions.survey.handlers import link

    ed = m.token("ag-sc-survey", role="agent", level=2, area="atencion-ciudadania")
    agent = {**ed, "Access-Purpose": "CAMPAÑA-IBI-2026"}
    rule = "/v1/surveys/<survey_id>"
    text = {"es": "¿Satisfecho?", "en": "Satisfied?"}
    survey = {"title": text, "questions": [{"id": "csat", "kind": "scale", "min": 1, "max": 5, "text": text},
              {"id": "why", "kind": "text", "text": text, "required": False, "show_if": {"question": "csat",
               "one_of": [1, 2]}}],
              "triggers": [{"on": "case.closed"}, {"on": "payment.succeeded"}, {"on": "office.visit"}]}  # fmt: skip
    made = m.request("survey", "POST", "/v1/surveys", "/v1/surveys", ed, {"id": "csat-sc", **survey})
    saved = m.request("survey", "PUT", "/v1/surveys/csat-sc/draft", f"{rule}/draft", ed,
                      {"revision": made["revision"], "survey": survey})  # fmt: skip
    opened = m.request(
        "survey", "POST", "/v1/surveys/csat-sc/open", f"{rule}/open", ed, {"revision": saved["revision"]}
    )
    m.request("survey", "GET", "/v1/surveys", "/v1/surveys", ed)
    m.request("survey", "GET", "/v1/surveys/csat-sc", rule, ed)
    m.request("survey", "POST", "/v1/surveys/csat-sc/invitations", f"{rule}/invitations", agent,
              {"citizen_ids": [citizen, "c-sc-other"]})  # fmt: skip
    from functions.survey.bootstrap import ports

    token = parse_qs(urlsplit(link(ports(), "csat-sc", citizen, "02")).query)["t"][0]
    q = {"t": token}
    m.request("survey", "GET", "/v1/surveys/csat-sc/form", f"{rule}/form", {}, query=q)
    m.request("survey", "PUT", "/v1/surveys/csat-sc/responses", f"{rule}/responses", {}, {"answers": {"csat": 2,
              "why": "la espera"}}, query=q)  # fmt: skip
    m.request("survey", "PUT", "/v1/surveys/csat-sc/responses", f"{rule}/responses", {},
              {"answers": {"csat": 4}, "revision": 1}, query=q)  # fmt: skip
    m.request("survey", "GET", "/v1/surveys/csat-sc/results", f"{rule}/results", ed)
    other = m.request("survey", "POST", "/v1/surveys", "/v1/surveys", ed, {"id": "cerrada-sc", **survey})
    other = m.request(
        "survey", "POST", "/v1/surveys/cerrada-sc/open", f"{rule}/open", ed, {"revision": other["revision"]}
    )
    m.request("survey", "POST", "/v1/surveys/cerrada-sc/close", f"{rule}/close", ed, {"revision": other["revision"]})
    assert opened["state"] == "open"


def cases(m: Meter, citizen: str, me: dict[str, str]) -> None:
    """CASE: an agent comes online; a case opened by the citizen (pushed to them) and one by the assistant's
    hand-over (an event); the agent replies, waits on the citizen, who adds information; escalation, merge, link;
    the level-2 agent pulls, resolves, closes; the citizen rates and reopens; the areas' configuration."""
    ana = m.token("ag-sc-ana", role="agent", level=1, area="linea-madrid")
    hugo = m.token("ag-sc-hugo", role="agent", level=2, area="hacienda")
    admin = m.token("adm-sc", role="admin")
    me_rule, case_rule = "/v1/agents/me", "/v1/cases/<case_id>"
    m.request("case", "PUT", me_rule, me_rule, ana, {"presence": "online", "capacity": 5, "queues": ["hacienda-l1"]})
    m.request("case", "PUT", me_rule, me_rule, hugo, {"presence": "online", "capacity": 0, "queues": ["hacienda-l2"]})
    body = {"citizen_id": citizen, "area": "hacienda", "category": "recibo-ibi", "channel": "web",
            "subject": "No me ha llegado el recibo del IBI"}  # fmt: skip
    case = m.request("case", "POST", "/v1/cases", "/v1/cases", me, body)
    m.send("es.madrid.pic.case.requested.v1", {**body, "channel": "assistant", "request_id": "conv-sc-1"},
           "/legacy/asistente-virtual")  # fmt: skip
    listed = m.request("case", "GET", f"/v1/citizens/{citizen}/cases", "/v1/citizens/<citizen_id>/cases", me)
    other = next(c for c in listed["cases"] if c["id"] != case["id"])
    url = f"/v1/cases/{case['id']}"
    m.request("case", "GET", url, case_rule, ana)
    m.request("case", "GET", "/v1/agents/me/queue", "/v1/agents/me/queue", ana)
    m.request("case", "POST", f"{url}/messages", f"{case_rule}/messages", ana, {"text": "¿Referencia catastral?"})
    m.request("case", "POST", f"{url}/state", f"{case_rule}/state", ana, {"state": "waiting-on-citizen"})
    m.request("case", "POST", f"{url}/messages", f"{case_rule}/messages", me, {"text": "9872023VH5797S0001WX"})
    m.request("case", "POST", f"/v1/cases/{other['id']}/links", f"{case_rule}/links", ana,
              {"case_id": case["id"], "kind": "related"})  # fmt: skip
    m.request("case", "POST", f"/v1/cases/{other['id']}/merge", f"{case_rule}/merge", ana,
              {"into": case["id"], "reason": "duplicado"})  # fmt: skip
    m.request("case", "POST", f"{url}/escalation", f"{case_rule}/escalation", ana, {"level": 2, "reason": "titular"})
    m.request("case", "PUT", me_rule, me_rule, hugo, {"presence": "online", "capacity": 5, "queues": ["hacienda-l2"]})
    m.request("case", "POST", "/v1/agents/me/next", "/v1/agents/me/next", hugo)
    m.request("case", "POST", f"{url}/state", f"{case_rule}/state", hugo, {"state": "resolved", "reason": "Reenviado"})
    m.request("case", "POST", f"{url}/state", f"{case_rule}/state", hugo, {"state": "closed"})
    m.request("case", "POST", f"{url}/rating", f"{case_rule}/rating", me, {"score": 5, "comment": "Bien"})
    m.request("case", "POST", f"{url}/reopen", f"{case_rule}/reopen", me, {"reason": "Sigue sin llegar"})
    report_rule = "/v1/case-reports/sla"
    for fmt in ("json", "csv", "png"):
        m.request("case", "GET", report_rule, report_rule, hugo, query={"by": "agent", "format": fmt})
    config_rule = "/v1/case-areas/<area>/config"
    config = m.request("case", "GET", "/v1/case-areas/hacienda/config", config_rule, admin)
    proposed = {k: v for k, v in config.items() if k not in ("area", "version")}
    m.request("case", "PUT", "/v1/case-areas/hacienda/config", config_rule, admin, proposed)


def knowledge_base(m: Meter) -> None:
    """KB: an editor creates an article, saves its draft, publishes it, schedules a new version and archives it; a
    draft from a solved case; the public searches (twice: the second from the cached index) and reads it, and says
    it was useful; agents search internally and read the list, the article and a version."""
    ed = m.token("ag-sc-kb", role="agent", level=2, area="atencion-ciudadania")
    es = {"title": "Recogida de muebles", "body": "La recogida de muebles y enseres es gratuita."}
    en = {"title": "Furniture collection", "body": "Collecting furniture and junk is free."}
    article = {"areas": ["medio-ambiente"], "audiences": ["public", "assistant"], "translations": {"es": es, "en": en}}
    rule = "/v1/kb/articles/<article_id>"
    url = "/v1/kb/articles/muebles"
    made = m.request("kb", "POST", "/v1/kb/articles", "/v1/kb/articles", ed, {"id": "muebles", **article})
    draft = f"{rule}/draft"
    saved = m.request("kb", "PUT", f"{url}/draft", draft, ed, {"revision": made["revision"], "article": article})
    done = m.request("kb", "POST", f"{url}/publication", f"{rule}/publication", ed, {"revision": saved["revision"]})
    again = m.request("kb", "PUT", f"{url}/draft", draft, ed, {"revision": done["revision"], "article": article})
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    done = m.request("kb", "POST", f"{url}/publication", f"{rule}/publication", ed,
                     {"revision": again["revision"], "at": later})  # fmt: skip
    done = m.request("kb", "POST", f"{url}/unschedule", f"{rule}/unschedule", ed, {"revision": done["revision"]})
    for query in ({"q": "muebles"}, {"q": "recogida de muebles"}):
        m.request("kb", "GET", "/v1/kb/search", "/v1/kb/search", {}, query=query)
    public = "/v1/kb/public/articles/<article_id>"
    m.request("kb", "GET", "/v1/kb/public/articles/muebles", public, {})
    m.request("kb", "POST", "/v1/kb/public/articles/muebles/feedback", f"{public}/feedback", {},
              {"version": 1, "language": "es", "useful": True, "voter": "session-sc-1"})  # fmt: skip
    m.request("kb", "GET", "/v1/kb/internal/search", "/v1/kb/internal/search", ed, query={"q": "muebles"})
    m.request("kb", "GET", "/v1/kb/articles", "/v1/kb/articles", ed)
    m.request("kb", "GET", url, rule, ed)
    m.request("kb", "GET", f"{url}/versions/1", f"{rule}/versions/<version>", ed)
    done = m.request("kb", "POST", f"{url}/archive", f"{rule}/archive", ed, {"revision": done["revision"]})
    m.request("kb", "POST", f"{url}/restore", f"{rule}/restore", ed, {"revision": done["revision"]})
    solved = {
        "case_id": "case-0123456789abcdef01234567",
        "area": "hacienda",
        "category": "recibo-ibi",
        "subject": "Recibo duplicado",
        "resolution": "Se anuló el recibo duplicado y se devolvió el importe.",
    }
    m.request("kb", "POST", "/v1/kb/drafts-from-cases", "/v1/kb/drafts-from-cases", ed, solved)


def routing(m: Meter, citizen: str) -> None:
    """CCAAS: a queue and an IVR flow put and read; a call through the flow to the queue; an agent comes online, is
    offered it, accepts and ends it (the interaction logged); a connector's contact declined and abandoned; the
    queue's day; the offices' queue manager's tickets in every state."""
    admin = m.token("adm-sc", role="admin")
    pbx = m.token("pbx-sc", role="system")
    ana = m.token("ag-sc-rita", role="agent", level=2, area="hacienda")
    queue_rule, flow_rule, contact_rule = (
        "/v1/routing/queues/<queue>",
        "/v1/ivr-flows/<flow>",
        "/v1/contacts/<contact_id>",
    )
    queue = {"area": "hacienda", "level": 2, "skill": "ibi", "steps": [{"min_proficiency": 4, "seconds": 30},
             {"min_proficiency": 2}]}  # fmt: skip
    m.request("routing", "PUT", "/v1/routing/queues/hacienda-ibi", queue_rule, admin, queue)
    m.request("routing", "GET", "/v1/routing/queues/hacienda-ibi", queue_rule, admin)
    flow = {"start": "menu", "nodes": {
        "menu": {"kind": "menu", "prompt": {"es": "Para el IBI pulse 1"}, "options": {"1": "ibi"}, "no_match": "bye"},
        "ibi": {"kind": "queue", "queue": "hacienda-ibi"}, "bye": {"kind": "hangup"}}}  # fmt: skip
    m.request("routing", "PUT", "/v1/ivr-flows/linea-010", flow_rule, admin, flow)
    m.request("routing", "GET", "/v1/ivr-flows/linea-010", flow_rule, admin)
    call = m.request("routing", "POST", "/v1/ivr/calls", "/v1/ivr/calls", pbx,
                     {"flow": "linea-010", "request_id": "pbx-sc-1", "citizen_id": citizen})  # fmt: skip
    pressed = m.request("routing", "POST", f"/v1/ivr/calls/{call['id']}/input", "/v1/ivr/calls/<call_id>/input", pbx,
                        {"input": "1", "seq": 0})  # fmt: skip
    me_rule = "/v1/routing/agents/me"
    profile = {"presence": "online", "skills": {"ibi": 5}, "capacity": {"call": 1}, "queues": ["hacienda-ibi"]}
    m.request("routing", "PUT", me_rule, me_rule, ana, profile)
    m.request("routing", "GET", me_rule, me_rule, ana)
    m.request("routing", "GET", f"{me_rule}/contacts", f"{me_rule}/contacts", ana)
    url = f"/v1/contacts/{pressed['contact']['id']}"
    m.request("routing", "GET", url, contact_rule, pbx)
    m.request("routing", "POST", f"{url}/accept", f"{contact_rule}/accept", ana)
    m.request("routing", "POST", f"{url}/end", f"{contact_rule}/end", ana, {"topic": "Recibo del IBI"})
    chat = m.request("routing", "POST", "/v1/contacts", "/v1/contacts", pbx,
                     {"channel": "call", "queue": "hacienda-ibi", "request_id": "pbx-sc-2"})  # fmt: skip
    m.request("routing", "POST", f"/v1/contacts/{chat['id']}/reject", f"{contact_rule}/reject", ana)
    m.request("routing", "POST", f"/v1/contacts/{chat['id']}/abandon", f"{contact_rule}/abandon", pbx)
    for fmt in ("json", "csv"):
        m.request("routing", "GET", "/v1/routing/stats", "/v1/routing/stats", ana,
                  query={"queue": "hacienda-ibi", "format": fmt})  # fmt: skip
    ticket = {"office": "oac-centro", "issued_at": "2026-12-14T09:00:00+00:00", "queue": "oac-centro-padron",
              "service": "Empadronamiento", "area": "atencion-ciudadania", "citizen_id": citizen}  # fmt: skip
    for number, state, extra in (("A1", "issued", {}), ("A1", "called", {"desk": "3"}), ("A1", "served", {"desk": "3"}),
                                 ("A2", "no-show", {}), ("A3", "cancelled", {}),
                                 ("A4", "transferred", {"to_queue": "oac-centro-hacienda"})):  # fmt: skip
        data = {**ticket, "ticket": number, "at": "2026-12-14T09:10:00+00:00", **extra}
        m.send(f"es.madrid.pic.office.ticket.{state}.v1", data, "/legacy/gestor-colas")


def assistant(m: Meter, citizen: str, me: dict[str, str]) -> None:
    """BOT: an anonymous conversation answered from the KB (the article the KB scenario published reached the
    assistant as kb.article.updated, projected with its vectors), read back with its key; a citizen's conversation
    handed over to a person (case.requested, delivered to CASE); the WhatsApp webhook verified and a signed message
    answered through the Cloud API stand-in."""
    import hashlib
    import hmac

    from functions.core.settings import get_settings

    rule = "/v1/assistant/conversations"
    one = f"{rule}/<conversation_id>"
    opened = m.request("assistant", "POST", rule, rule, {}, {"channel": "web", "language": "es"})
    key = {"X-Conversation-Key": opened["key"]}
    url = f"{rule}/{opened['id']}"
    m.request("assistant", "POST", f"{url}/messages", f"{one}/messages", key, {"text": "¿recogen muebles viejos?"})
    m.request("assistant", "GET", url, one, key)
    mine = m.request("assistant", "POST", rule, rule, me, {"channel": "web", "language": "es"})
    for option in ("talk-to-person", "callback"):  # out of the 010's hours a person is reached by a call back
        m.request("assistant", "POST", f"{rule}/{mine['id']}/messages", f"{one}/messages", me, {"option": option})
    settings, hook = get_settings(), "/v1/assistant/whatsapp/webhook"
    verify = {"hub.mode": "subscribe", "hub.verify_token": settings.whatsapp_verify_token, "hub.challenge": "42"}
    m.request("assistant", "GET", hook, hook, {}, query=verify)
    message = {"from": "34600000001", "id": "wamid.sc1", "timestamp": str(int(datetime.now(UTC).timestamp())),
               "type": "text", "text": {"body": "hola, como tiro unos muebles?"}}  # fmt: skip
    change = {"field": "messages", "value": {"messaging_product": "whatsapp", "messages": [message]}}
    raw = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]})
    signature = hmac.new(settings.whatsapp_app_secret.encode(), raw.encode(), hashlib.sha256).hexdigest()
    signed = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}
    m.request("assistant", "POST", hook, hook, signed, text=raw)


class _InProcessTemplates:
    """NOT's ``GET /v1/templates/{id}`` through its in-process app (the campaign function calls it over HTTP in
    production): its GetItem is NOT's, counted here under the campaign's creation."""

    def __init__(self, m: Meter) -> None:
        self.m = m

    def describe(self, template_id: str, token: str | None, traceparent: str | None) -> Any:
        from functions.campaign.handlers import TemplateInfo

        found = self.m.apps["pic-notification"].get(f"/v1/templates/{template_id}", headers={"Authorization": token})
        if found.status_code != 200:
            return None
        body = found.get_json()
        return TemplateInfo(str(body["purpose"]), tuple(body["fields"]))


def verifier(m: Meter) -> None:
    """WAL verifier: an agent lists the card types, asks for a presentation of "over 65"; the holder answers (a
    credential of a stand-in issuer served over HTTP, trusted through ``PIC_VERIFIER_TRUSTED_ISSUERS``); the agent
    reads the verdict (its read recorded); a second answer is refused (409)."""
    import socket
    from urllib.parse import parse_qs, urlsplit

    from functions.core.clock import SYSTEM_CLOCK
    from tests.verifier_issuer import Holder, StandInIssuer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    issuer = StandInIssuer(f"http://127.0.0.1:{port}/v1/wallet", SYSTEM_CLOCK)
    os.environ["PIC_VERIFIER_TRUSTED_ISSUERS"] = issuer.issuer  # read when the verifier's ports are first built
    holder = Holder()
    credential, _ = issuer.issue(holder.key)
    agent = m.token("ag-sc-verifier", role="agent", level=1, area="atencion-ciudadania")
    with issuer.serve():
        m.request("verifier", "GET", "/v1/verifier/card-types", "/v1/verifier/card-types", agent)
        asked = m.request("verifier", "POST", "/v1/verifier/requests", "/v1/verifier/requests", agent,
                          {"card_type": "madrid-mayor", "claims": [["age_equal_or_over", "65"]]})  # fmt: skip
        uri, form = holder.answer(credential, asked["request_link"], datetime.now(UTC))
        path = urlsplit(uri).path
        response = "/v1/verifier/responses/<request_id>"
        m.request("verifier", "POST", path, response, {}, form=form)
        m.request("verifier", "POST", path, response, {}, form=form, expect=409)
        rid = parse_qs(urlsplit(asked["request_link"]).query)["state"][0]
        m.request("verifier", "GET", f"/v1/verifier/requests/{rid}", "/v1/verifier/requests/<request_id>", agent)


def campaigns(m: Meter) -> None:
    """CAMP: a campaign manager saves a segment, counts it (the export written), gives it a new version, rebuilds it,
    lists and reads it; creates a campaign (its template checked at NOT), approves it as another manager, schedules,
    pauses, resumes and cancels it; lists, reads and reports it (JSON, CSV, PNG)."""
    from functions.campaign.bootstrap import ports

    object.__setattr__(ports(), "templates", _InProcessTemplates(m))
    admin = m.token("svc-sc-cmp", role="system")
    template = {"purpose": "campaigns", "subject": {"es": "Aviso en {{ district_name }}"},
                "body": {"es": "Hay novedades en {{ district_name }}."}}  # fmt: skip
    m.request("notification", "PUT", "/v1/templates/camp-sc", "/v1/templates/<template_id>", admin, template)
    cm = m.token("ag-sc-cm1", role="agent", level=2, area="comunicacion")
    other = m.token("ag-sc-cm2", role="agent", level=2, area="comunicacion")
    tree = {"all": [{"district": ["02"]}, {"age": {"min": 65}}, {"consent": {"purpose": "campaigns"}}]}
    seg = m.request("campaign", "POST", "/v1/segments", "/v1/segments", cm, {"name": "Arganzuela 65+", "filter": tree})
    one = "/v1/segments/<segment_id>"
    url = f"/v1/segments/{seg['id']}"
    m.request("campaign", "POST", f"{url}/count", f"{one}/count", cm, {"purpose": "campaigns"})
    m.request("campaign", "PUT", url, one, cm, {"filter": tree, "name": "Arganzuela 65+ (v2)"})
    m.request("campaign", "POST", f"{url}/rebuild", f"{one}/rebuild", cm)
    m.request("campaign", "GET", "/v1/segments", "/v1/segments", cm)
    m.request("campaign", "GET", url, one, cm)
    made = m.request("campaign", "POST", "/v1/campaigns", "/v1/campaigns", cm,
                     {"name": "Aviso", "segment_id": seg["id"], "template": "camp-sc"})  # fmt: skip
    rule = "/v1/campaigns/<campaign_id>"
    url = f"/v1/campaigns/{made['id']}"
    m.request("campaign", "POST", f"{url}/approve", f"{rule}/approve", other)
    for action in ("schedule", "pause", "resume", "cancel"):
        m.request("campaign", "POST", f"{url}/{action}", f"{rule}/{action}", cm)
    m.request("campaign", "GET", "/v1/campaigns", "/v1/campaigns", cm)
    m.request("campaign", "GET", url, rule, cm)
    for fmt in ("json", "csv", "png"):
        m.request("campaign", "GET", f"{url}/report", f"{rule}/report", cm, query={"format": fmt})


def apidocs(m: Meter) -> None:
    """The published contracts (issue 19): every documentation page and a published file, anonymously and with a
    system's token — served from the image's schemas/, no store call."""
    for path, rule in (("/docs", "/docs"), ("/docs/api", "/docs/api"), ("/docs/api/consent", "/docs/api/<domain>"),
                       ("/docs/events", "/docs/events"),
                       ("/docs/events/es.madrid.pic.consent.changed.v1", "/docs/events/<event_type>"),
                       ("/docs/schemas/openapi.json", "/docs/schemas/<schema_file>")):  # fmt: skip
        m.request("apidocs", "GET", path, rule, {})
    m.request("apidocs", "GET", "/docs/schemas/asyncapi.yaml", "/docs/schemas/<schema_file>",
              m.token("svc-sc-docs", role="system"))  # fmt: skip
    m.request("apidocs", "GET", "/docs/released/RELEASE.json", "/docs/released/<schema_file>", {})
    m.request("apidocs", "GET", "/docs/compat.py", "/docs/compat.py", {})


def uncovered(m: Meter) -> list[str]:
    """Routes and Triggers the scenario did not reach: named in the report, so a gap is never silent."""
    from events.generate import discover_routes

    routes = {f"{r.method} {r.rule}" for rs in discover_routes().values() for r in rs}
    triggers = {f"{t.name} → {t.subscriber}" for t in m.triggers}
    return sorted(routes - m.seen_routes) + sorted(triggers - m.seen_handlers)


def measure() -> tuple[Counts, list[str]]:
    with tempfile.TemporaryDirectory(prefix="pic-store-calls-") as tmp:
        data_dir = Path(tmp)
        with local_store(data_dir):
            meter = Meter.load(data_dir)
            scenario(meter)
            return meter.counts, uncovered(meter)


# ---- entry points -------------------------------------------------------------------------------------------


def measure_in_subprocess() -> tuple[Counts, list[str]]:
    """The measurement in a process of its own: the functions' models bind their store when imported."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [sys.executable, "-m", "bench.store_calls", "--json", out.name],
            cwd=ROOT,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        found = json.loads(Path(out.name).read_text(encoding="utf-8"))
    return found["counts"], found["uncovered"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.store_calls", description=__doc__)
    parser.add_argument("--update-budgets", action="store_true", help="rewrite the budgets from this measurement")
    parser.add_argument("--json", type=Path, help="only write the measurement here (counts and what was not driven)")
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    if args.json:
        counts, missing = measure()
        args.json.write_text(
            json.dumps({"counts": counts, "uncovered": missing}, indent=1, sort_keys=True), encoding="utf-8"
        )
        return 0
    counts, missing = measure_in_subprocess()
    for key, ops in sorted(counts.items()):
        print(f"store calls {key:<95} {sum(ops.values()):>3}  {describe(ops)}", flush=True)
    for gap in missing:
        print(f"store calls: not driven: {gap}", flush=True)
    from bench.stats import record_section

    record_section(TITLE, section(counts, missing, started))
    if args.update_budgets:
        BUDGETS.write_text(json.dumps(counts, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"budgets rewritten: {BUDGETS.relative_to(ROOT)}")
    elif BUDGETS.exists():
        for line in over_budget(counts, json.loads(BUDGETS.read_text(encoding="utf-8"))):
            print(f"OVER BUDGET {line}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
