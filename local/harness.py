"""Start a local platform in a subprocess and talk to it over HTTP: used by the functional tests and
the benchmarks (the same way ``make run`` starts it, on free ports and a given data directory)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3
import requests
from boto3.dynamodb.types import TypeDeserializer

from events.catalog import DEADLETTER_REPLAY
from local import lifeline
from local.senders import SenderTokens

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Platform:
    """A running local platform and helpers to talk to it over HTTP."""

    def __init__(self, base: str, data_dir: Path, process: subprocess.Popen[bytes], args: list[str]) -> None:
        self.base = base
        self.data_dir = data_dir
        self.process = process
        self.args = args
        self.http = requests.Session()

    def url(self, path: str) -> str:
        return self.base + path

    def wake_relays(self) -> None:
        """Wake every domain's outbox relay (the datagram a commit sends, ADR 0017): each makes a pass at once
        instead of at the end of its idle wait, the safety net a test would otherwise sleep through."""
        from events.catalog import DOMAINS
        from functions.core.wake import ping
        from local.running import running_platform

        template = running_platform(self.data_dir).get("relay_wake")
        if isinstance(template, str) and template:
            for domain in DOMAINS:
                ping(template, domain)

    def token(self, sub: str, role: str = "citizen", level: int = 0, area: str | None = None, ttl: int = 3600) -> str:
        body: dict[str, Any] = {"sub": sub, "role": role, "level": level, "ttl_seconds": ttl}
        if area:
            body["area"] = area
        response = self.http.post(self.url("/dev/token"), json=body, timeout=10)
        response.raise_for_status()
        return str(response.json()["access_token"])

    def as_(self, sub: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, **claims)}"}

    @cached_property
    def senders(self) -> SenderTokens:
        """Sender tokens for the broker from the dev IdP (``POST /dev/sender-token``), one per ServiceAccount."""
        return SenderTokens(self.base, self.http)

    def sender(self, source: str, account: str | None = None) -> dict[str, str]:
        """``Authorization`` for sending to the broker with ``source``: as ``account``, else as its owner."""
        return self.senders.headers_for(source, account)

    def send_event(
        self,
        type_: str,
        data: Any,
        *,
        source: str,
        event_id: str | None = None,
        subject: str | None = None,
        mode: str = "binary",
        account: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """POST one CloudEvent to the broker ingress (binary or structured mode) as an authorised sender: the
        system that owns ``source`` unless ``account`` names another ServiceAccount."""
        attributes = {"specversion": "1.0", "id": event_id or str(uuid.uuid4()), "source": source, "type": type_}
        if subject is not None:
            attributes["subject"] = subject
        auth = self.sender(source, account)
        if mode == "structured":
            envelope = {**attributes, "datacontenttype": "application/json", "data": data}
            head = {"content-type": "application/cloudevents+json", **auth, **(headers or {})}
            return self.http.post(self.url("/events"), data=json.dumps(envelope), headers=head, timeout=15)
        head = {**{f"ce-{k}": v for k, v in attributes.items()}, "content-type": "application/json", **auth}
        head.update(headers or {})
        return self.http.post(self.url("/events"), data=json.dumps(data), headers=head, timeout=15)

    def replay(self, deadletter_id: int) -> requests.Response:
        """Replay a dead letter as the replay tool's identity (an operator's)."""
        auth = {"Authorization": f"Bearer {self.senders.token(DEADLETTER_REPLAY.account)}"}
        return self.http.post(self.url(f"/dev/deadletters/{deadletter_id}/replay"), headers=auth, timeout=15)

    def delivery_headers(self, service: str) -> dict[str, str]:
        """The broker dispatcher's token for one event function (benchmarks that call it directly): minted
        with the dev IdP's key in the data directory, as the dispatcher does; never served over HTTP."""
        from local.idp import DevIdp
        from local.senders import TokenCache

        idp = DevIdp(self.data_dir, issuer=self.base, audience="pic")
        return {"Authorization": f"Bearer {TokenCache(idp).delivery_token(service)}"}

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")

    def events(self, type_: str, subject: str | None = None) -> list[dict[str, Any]]:
        """Events the broker ingress accepted (newest first), optionally for one subject."""
        params: dict[str, str | int] = {"type": type_, "limit": 1000}
        found = self.http.get(self.url("/dev/events"), params=params, timeout=10).json()
        return [e for e in found["events"] if subject is None or e.get("subject") == subject]

    def received(self, type_: str, subject: str | None = None) -> list[dict[str, Any]]:
        """Events the event-display subscriber received through a Trigger."""
        params: dict[str, str | int] = {"type": type_, "limit": 100000}
        found = self.http.get(self.url("/dev/received"), params=params, timeout=10).json()
        return [e for e in found["events"] if subject is None or e.get("subject") == subject]

    def deadletters(self) -> list[dict[str, Any]]:
        return list(self.http.get(self.url("/dev/deadletters"), timeout=10).json()["deadletters"])

    def pending(self, *mentions: str) -> list[dict[str, Any]]:
        """Events the platform has not finished with: broker deliveries not done and outbox rows not yet
        published; only those whose event mentions one of ``mentions`` (anywhere in it) when any are given."""
        found = self.http.get(self.url("/dev/pending"), timeout=10).json()
        events = [d["event"] for d in found["deliveries"]] + list(found["outbox"])
        return [e for e in events if not mentions or any(m in json.dumps(e) for m in mentions)]

    def settle(self, *mentions: str, timeout: float = 60.0) -> None:
        """Wait until nothing is pending about ``mentions`` (or at all), on two reads in a row: one read looks
        at the broker and then at the outbox, so an event moving from one to the other between the two looks
        could hide; it cannot hide from two consecutive reads unless it moved twice within them."""
        self.wait_for(
            lambda: not self.pending(*mentions) and not self.pending(*mentions),
            timeout=timeout,
            what=f"nothing pending about {', '.join(mentions) or 'anything'}",
        )

    def dynamodb_endpoint(self) -> str:
        """The DynamoDB Local this platform stores in (whatever endpoint the functions go through)."""
        return f"http://127.0.0.1:{self.args[self.args.index('--dynamodb-port') + 1]}"

    def scan_tables(self) -> dict[str, list[dict[str, Any]]]:
        """Every item of every table in DynamoDB Local (``ListTables`` + ``Scan``, over HTTP), as plain values."""
        client = boto3.client(
            "dynamodb",
            endpoint_url=self.dynamodb_endpoint(),
            region_name=os.environ.get("AWS_REGION", "eu-south-2"),
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - DynamoDB Local takes any credentials
        )
        plain = TypeDeserializer()
        tables: dict[str, list[dict[str, Any]]] = {}
        for page in client.get_paginator("list_tables").paginate():
            for name in page["TableNames"]:
                items = [
                    {k: plain.deserialize(v) for k, v in item.items()}
                    for scanned in client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True)
                    for item in scanned["Items"]
                ]
                tables[name] = items
        return tables

    def processes(self) -> list[int]:
        """The pids of every process the platform runs (DynamoDB Local, gunicorn and its workers, the parts)."""
        return lifeline.descendants(self.process.pid)

    def health(self) -> requests.Response:
        return self.http.get(self.url("/healthz"), timeout=5)

    def healthy(self) -> bool:
        try:
            return self.http.get(self.url("/healthz"), timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def settled(self) -> bool:
        """Nothing pending: every broker delivery done and every outbox row published (``/dev/pending``)."""
        try:
            pending = self.http.get(self.url("/dev/pending"), params={"limit": "1"}, timeout=10).json()
        except (requests.RequestException, ValueError):
            return False
        return not pending["deliveries"] and not pending["outbox"]

    def stop(self) -> int:
        self.http.close()  # an idle kept-alive connection would hold a gateway worker for its graceful timeout
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return -9


PORT_RACE = "already in use"  # another process took a port between free_port() and its bind (errno 98, or the check)
START_ATTEMPTS = 3


def start_platform(
    data_dir: Path,
    port: int | None = None,
    dynamodb_port: int | None = None,
    store: str | None = None,
    new_session: bool = False,
    cdc: bool = False,
) -> Platform:
    """Start `python -m local` on free ports (unless given) and wait until `/healthz` is 200.

    ``store`` picks the local store (``--store``); by default ``$PIC_TEST_STORE``, else DynamoDB Local.
    ``cdc`` also runs Licencias' PostgreSQL and the change data capture (off by default: it costs a PostgreSQL).
    ``new_session`` starts it in a process group of its own (which a test may then kill whole). A port picked free
    can be taken by another platform starting at the same moment (xdist workers start theirs together): a start
    that fails on a port already in use is tried again on new ports, when the caller did not fix them.
    """
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            return _start_once(data_dir, port, dynamodb_port, store, new_session, cdc)
        except PortRaceError:
            if port is not None or dynamodb_port is not None or attempt == START_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


class PortRaceError(RuntimeError):
    """The platform did not start because a port it was given was taken meanwhile."""


def _start_once(
    data_dir: Path, port: int | None, dynamodb_port: int | None, store: str | None, new_session: bool, cdc: bool = False
) -> Platform:
    store = store or os.environ.get("PIC_TEST_STORE")
    port = port or free_port()
    args = [
        sys.executable,
        "-m",
        "local",
        "--quiet",
        "--port",
        str(port),
        "--dynamodb-port",
        str(dynamodb_port or free_port()),
        "--data-dir",
        str(data_dir),
        "--workers",
        "2",
        "--seed-people",
        "0",
        "--cdc" if cdc else "--no-cdc",  # INTG: Licencias' PostgreSQL only where a test reads from it
    ]
    if store:
        args += ["--store", store]
    log_path = data_dir.parent / f"platform-{port}.log"
    log = log_path.open("ab")
    started_at = log.tell()
    lifeline.require_main_thread()
    process = subprocess.Popen(
        lifeline.command(args),  # the platform dies with whoever started it (a killed pytest leaves no orphans)
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        # JSON logs: tests and benchmarks read the platform's log as the log pipeline would
        env={**os.environ, "PYTHONPATH": str(ROOT), "PIC_LOG_FORMAT": os.environ.get("PIC_LOG_FORMAT", "json")},
        start_new_session=new_session,
    )
    platform = Platform(f"http://127.0.0.1:{port}", data_dir, process, args)
    deadline = time.monotonic() + 120
    while not platform.healthy():
        if process.poll() is not None or time.monotonic() > deadline:
            platform.stop()
            with log_path.open("rb") as written:
                written.seek(started_at)
                raced = PORT_RACE.encode() in written.read()
            raise (PortRaceError if raced else RuntimeError)(f"the local platform did not start; see {log.name}")
        time.sleep(0.2)
    # what the platform does by itself at start (the knowledge base's shipped articles published, the assistant
    # projecting them) is done before anyone uses it: a test's first events never queue behind it
    deadline = time.monotonic() + 180
    while not platform.settled():
        if process.poll() is not None or time.monotonic() > deadline:
            platform.stop()
            raise RuntimeError(f"the local platform did not settle after starting; see {log.name}")
        time.sleep(0.2)
    return platform
