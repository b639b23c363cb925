"""``make run``: the whole platform on one machine, on embedded defaults.

Starts DynamoDB Local (data directory), creates the tables from the models, starts the gateway
(gunicorn) on one port, and the broker's dispatcher, the outbox relays (one per producing domain, each
sending with its domain's token from the dev IdP, rotated as kubelet would) and the notification release as
processes of their own (``local.parts``). This process supervises them: Ctrl-C (or SIGTERM) stops
everything cleanly, in order; if a part dies, the platform stops (saying which) rather than run without
it; and if this process is killed outright, every child dies with it (``local.lifeline``). The data
directory keeps state across restarts.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests
from rich.console import Console

from local import lifeline
from local.parts import PARTS
from local.running import PLATFORM_FILE, forget_platform, write_platform
from seed.city import LOCAL_PEOPLE

REPO_ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PIC_PORT", "8080")))
    parser.add_argument("--dynamodb-port", type=int, default=int(os.environ.get("PIC_DYNAMODB_PORT", "8000")))
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("PIC_DATA_DIR", REPO_ROOT / ".pic-data")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("PIC_WORKERS", "2")))
    parser.add_argument("--quiet", action="store_true", help="do not print the table of parts")
    parser.add_argument(
        "--seed-people",
        type=int,
        default=int(os.environ.get("PIC_SEED_PEOPLE", str(LOCAL_PEOPLE))),
        help="on a new data directory, load a synthetic city of this many people (0: none)",
    )
    parser.add_argument(
        "--dynamodb-in-memory",
        action="store_true",
        default=os.environ.get("PIC_DYNAMODB_IN_MEMORY") == "1",
        help="keep DynamoDB Local's data in memory (faster; lost on restart)",
    )
    parser.add_argument(
        "--store",
        choices=("dynamodb-local", "alternator-like"),
        default=os.environ.get("PIC_LOCAL_STORE", "dynamodb-local"),
        help="alternator-like: DynamoDB Local behind an endpoint without transactions, as ScyllaDB Alternator "
        "(the private cloud's store); PIC then commits with emulated transactions (docs/decisions/0005)",
    )
    parser.add_argument(  # INTG: Licencias' PostgreSQL and its change data capture (functions/cdc); tests start without
        "--cdc",
        action=argparse.BooleanOptionalAction,
        default=os.environ.get("PIC_CDC", "1") == "1",
        help="run a local PostgreSQL as Licencias' database and the change data capture from it (needs PostgreSQL)",
    )
    parser.add_argument(  # NOT: where the SMTP capture listens (0: a free port)
        "--smtp-port", type=int, default=int(os.environ.get("PIC_SMTP_PORT", "0"))
    )
    args = parser.parse_args(argv)
    if not args.smtp_port:
        args.smtp_port = _free_port()
    args.store_port = _free_port() if args.store == "alternator-like" else args.dynamodb_port
    args.relay_wake_port = _free_port()  # UDP: the commits wake the outbox relays there (ADR 0017)
    args.broker_wake_port = _free_port()  # UDP: the ingress wakes the broker's dispatcher there
    return args


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def local_environment(args: argparse.Namespace) -> dict[str, str]:
    """What every local process sees: the same variables Kubernetes sets in the cluster."""
    base = f"http://127.0.0.1:{args.port}"
    wakes = os.environ.get("PIC_RELAY_WAKE", "unset") != ""  # an empty PIC_RELAY_WAKE turns the wakes off
    return {
        "PIC_PORT": str(args.port),
        "PIC_WORKERS": str(args.workers),
        "PIC_DATA_DIR": str(args.data_dir.resolve()),
        "PIC_BASE_URL": base,
        "PIC_DYNAMODB_ENDPOINT": f"http://127.0.0.1:{args.store_port}",
        "PIC_STORE_TRANSACTIONS": "emulated" if args.store == "alternator-like" else "native",
        "AWS_REGION": os.environ.get("AWS_REGION", "eu-south-2"),
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "PIC_JWKS_URL": f"{base}/.well-known/jwks.json",
        "PIC_JWT_ISSUER": base,
        "PIC_JWT_AUDIENCE": "pic",
        "K_SINK": f"{base}/events",
        # the legacy adapters' inbox (issue 19): <data dir>/inbox/<system>/, and the systems' sender token files
        "PIC_INTAKE_INBOX": str(args.data_dir.resolve() / "inbox"),
        "PIC_INTAKE_TOKEN_DIR": str(args.data_dir.resolve() / "sender-tokens"),
        # the citizen app (pic-web): the gateway is the API host and the dev IdP its OpenID Connect issuer
        "PIC_API_URL": base,
        "PIC_OIDC_ISSUER": base,
        "PIC_OIDC_REDIRECT_URI": f"{base}/app/auth/callback",
        # an empty PIC_RELAY_WAKE / PIC_BROKER_WAKE turns a wake off (they only poll: the "before" of ADR 0017)
        "PIC_RELAY_WAKE": os.environ.get("PIC_RELAY_WAKE", f"udp://127.0.0.1:{args.relay_wake_port}"),
        "PIC_BROKER_WAKE": os.environ.get("PIC_BROKER_WAKE", f"udp://127.0.0.1:{args.broker_wake_port}"),
        # wakes over loopback are not lost: the relays' safety-net poll can idle at 3 queries a second instead of
        # 15, which on DynamoDB Local is most of an idle platform's CPU (docs/benchmarks.md, "Idle platform")
        "PIC_RELAY_IDLE_QPS": os.environ.get("PIC_RELAY_IDLE_QPS", "3" if wakes else "15"),
        "PIC_POLICY_ENGINE": os.environ.get("PIC_POLICY_ENGINE", "embedded"),
        "PIC_SERVER_TIMING": os.environ.get("PIC_SERVER_TIMING", "1"),  # phases and store calls per request
        # the verifier reads a card's status list for every verification (deployed: at most every 60 s, the
        # default), so a revocation shows at the next verification of a walk-through or a demo
        "PIC_VERIFIER_STATUS_MAX_AGE": os.environ.get("PIC_VERIFIER_STATUS_MAX_AGE", "0"),
        # a person reads this console: one readable line per log entry (JSON where deployed, or when asked)
        "PIC_LOG_FORMAT": os.environ.get("PIC_LOG_FORMAT", "human"),
        "PIC_OPA_URL": base,
        # FLAG: every function polls the micro-apps' flag snapshot from the API host, as in the cluster
        "PIC_FLAGS_URL": f"{base}/v1/flags",
        "PIC_FLAGS_POLL_SECONDS": os.environ.get("PIC_FLAGS_POLL_SECONDS", "2"),
        # NOT: the local notification providers (SMTP capture in this process; SMS/push sinks on the gateway)
        "PIC_SMTP_HOST": "127.0.0.1",
        "PIC_SMTP_PORT": str(args.smtp_port),
        "PIC_SMS_URL": f"{base}/dev/sms/messages",
        "PIC_PUSH_URL": f"{base}/dev/push/messages",
        # BOT: the WhatsApp Business Cloud API stand-in on the gateway (what the assistant sent, at /dev/whatsapp)
        "PIC_WHATSAPP_API_URL": f"{base}/dev/whatsapp",
        # PAY: the local Redsys (Redsys's public test merchant); citizens come back to the app's payments
        "PIC_REDSYS_URL": os.environ.get("PIC_REDSYS_URL", f"{base}/dev/redsys/realizarPago"),
        "PIC_REDSYS_REST_URL": os.environ.get("PIC_REDSYS_REST_URL", f"{base}/dev/redsys/rest/trataPeticionREST"),
        "PIC_PAYMENT_RETURN_URL": os.environ.get("PIC_PAYMENT_RETURN_URL", f"{base}/app/payments"),
        "PIC_PAYMENT_DESK_RETURN_URL": os.environ.get("PIC_PAYMENT_DESK_RETURN_URL", f"{base}/desk/payments"),
        # PAY tells the issuing area system a debt was paid: make run's stand-ins capture it at /dev/webhooks
        "PIC_PAYMENT_WEBHOOKS": os.environ.get("PIC_PAYMENT_WEBHOOKS", _local_webhooks(base)),
        # the supervisor: its children die with it, and the gateway's /healthz checks it and every part
        "PIC_SUPERVISOR_PID": str(os.getpid()),
    }


def _local_webhooks(base: str) -> str:
    """PIC_PAYMENT_WEBHOOKS for make run: each issuing system's webhook is the gateway's capture."""
    systems = ("multas", "movilidad", "tributos")
    return json.dumps({f"/legacy/{system}": f"{base}/dev/webhooks?system={system}" for system in systems})


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def hint(base: str) -> list[str]:
    """Two commands that answer 200 on a fresh platform: a citizen's token from the dev IdP, then a call."""
    read_json = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"
    return [
        f'TOKEN=$(curl -s -X POST {base}/dev/token -d \'{{"sub": "c-ana"}}\' | {read_json})',
        f'curl -s {base}/v1/citizens/c-ana/consents -H "Authorization: Bearer $TOKEN"',
    ]


def parts_table(env: dict[str, str], routes: list[tuple[str, str]]) -> str:
    """Every part of the running platform and where it answers, the same list as README's "What runs where"."""
    base = env["PIC_BASE_URL"]
    lines = [
        f"PIC is running on {base}  (data: {env['PIC_DATA_DIR']}; Ctrl-C stops)",
        f"  channel API        {base}/v1/...        (functions-framework apps, routes from infra/k8s)",
    ]
    lines += [f"      {pattern:<58} -> {service}" for pattern, service in routes]
    lines += [
        f"  citizen app        {base}/app/  (sign in through the dev IdP's page, standing in for Cl@ve)",
        f"  agent desk         {base}/desk/  (sign in as an agent with a level and an area on the same page)",
        f"  API and events     {base}/docs  (documentation pages: /docs/api, /docs/events; the raw specifications:"
        " /docs/schemas/openapi.json, asyncapi.yaml)",
        f"  health             {base}/healthz",
        f"  broker ingress     POST {base}/events  (CloudEvents binary/structured; Triggers from infra/k8s)",
        f"  dead letters       {base}/dev/deadletters  (replay: POST /dev/deadletters/<id>/replay;"
        " make deadletters, make replay ID=<id>)",
        f"  events seen        {base}/dev/events  ·  received by event-display: {base}/dev/received",
        f"  pending work       {base}/dev/pending  (broker deliveries and outbox rows not done yet; make seed-status)",
        f"  dev IdP            {base}/.well-known/jwks.json  ·  POST {base}/dev/token"
        f"  ·  sender tokens: POST {base}/dev/sender-token",
        f"  OPA Data API       POST {base}/v1/data/<package>/decision  (embedded Rego engine)",
        f"  DynamoDB Local     {env['PIC_DYNAMODB_ENDPOINT']}  (tables from the pynamodb models)"
        + (
            "\n                     behind an Alternator-like endpoint: no TransactWriteItems, units of work emulated"
            if env["PIC_STORE_TRANSACTIONS"] == "emulated"
            else ""
        ),
        "  outbox relays      their own process (python -m local.parts relay): one per domain, each as its"
        " domain's sender, to K_SINK=" + env["K_SINK"],
        f"  notification sinks e-mail: SMTP capture on 127.0.0.1:{env['PIC_SMTP_PORT']}, read at {base}/dev/mail",
        f"                     SMS provider: POST {env['PIC_SMS_URL']}, read at {base}/dev/sms",
        f"                     push provider: POST {env['PIC_PUSH_URL']}, read at {base}/dev/push  (?to= filters)",
        f"  WhatsApp (local)   Cloud API stand-in: POST {env['PIC_WHATSAPP_API_URL']}/<phone number id>/messages,"
        f" read at {base}/dev/whatsapp  (?to= filters)",
        f"  Redsys (local)     POST {env['PIC_REDSYS_URL']}: its payment page; orders at {base}/dev/redsys/orders",
        "  notification release  its own process (python -m local.parts notification-release): sends what quiet"
        " hours deferred, when they end",
        "  case SLA sweep     its own process (python -m local.parts case-sweep): raises cases' SLA warnings and"
        " breaches",
        "  routing sweep      its own process (python -m local.parts routing-sweep): times out contacts' offers (the"
        " agent set away) and expires their routing steps",
        "  survey release     its own process (python -m local.parts survey-release): sends the survey invitations a"
        " trigger delayed (a CSAT survey a day after a case closed)",
        "  campaign dispatch  its own process (python -m local.parts campaign-dispatch): starts campaigns' runs and"
        " hands their pages to NOT, paced, each second",
        "  booking sweep      its own process (python -m local.parts booking-sweep): releases bookings' payment holds"
        " that expired (the place to the waiting list)",
        "  intake inbox       its own process (python -m local.parts intake-inbox): loads the area systems' files"
        f" dropped in {Path(env['PIC_INTAKE_INBOX'])}/<system>/ (or POST /v1/intake/<system>/files)",
        "  lake flusher       its own process (python -m local.parts lake-flusher): commits the data platform's"
        f" pseudonymised rows to Delta tables under {Path(env['PIC_DATA_DIR']) / 'lake'} every 10 s",
        "  change data capture its own process (python -m local.parts cdc), with make run's PostgreSQL as Licencias'"
        f" database: its rows to events as legacy-licencias; state and psql address at {base}/dev/cdc",
        f"  this platform's addresses, for the local tools: {Path(env['PIC_DATA_DIR']) / PLATFORM_FILE}",
        "",
        "Try it (a citizen's token from the dev IdP, then their consents: 200):",
        *(f"  {line}" for line in hint(base)),
        "Walk-throughs: README.md  ·  tools: make help (deadletters, replay, load-records, seed-status)",
    ]
    return "\n".join(lines)


class Platform:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.env = local_environment(args)
        self.stop = threading.Event()
        self.children: dict[str, subprocess.Popen[bytes]] = {}  # started in order, stopped in reverse

    def _spawn(self, name: str, argv: list[str]) -> None:
        """Start a part in a session of its own (Ctrl-C reaches the supervisor only; it stops the parts in
        order), through the lifeline wrapper so that it dies with the supervisor whatever kills it."""
        lifeline.require_main_thread()
        self.children[name] = subprocess.Popen(
            lifeline.command(argv), cwd=REPO_ROOT, env={**os.environ, **self.env}, start_new_session=True
        )

    def start(self) -> None:
        for port in (self.args.port, self.args.dynamodb_port):
            if not port_free(port):
                raise SystemExit(
                    f"port {port} is already in use: stop what uses it or set PIC_PORT / PIC_DYNAMODB_PORT"
                )
        self.args.data_dir.mkdir(parents=True, exist_ok=True)
        lifeline.forget_parts(self.args.data_dir)  # a previous run's processes are not this run's parts
        os.environ.update(self.env)
        # Imported after the environment is set: settings are read once per process.
        from local import dynamodb
        from local.idp import ensure_key

        ensure_key(self.args.data_dir)
        from local.notify_sinks import start_smtp  # NOT: the SMTP capture, browsable at /dev/mail

        self.smtp = start_smtp(self.args.data_dir, self.args.smtp_port)
        lifeline.require_main_thread()
        self.children["dynamodb"] = dynamodb.start(
            self.args.data_dir / "dynamodb", self.args.dynamodb_port, self.args.dynamodb_in_memory
        )
        if self.args.store == "alternator-like":
            from local.alternator_like import AlternatorLike

            self.alternator = AlternatorLike(
                self.args.store_port, f"http://127.0.0.1:{self.args.dynamodb_port}"
            ).start()
        # the gateway's workers load every function while Java starts (they reach the store only per request)
        conf = str(REPO_ROOT / "local/gunicorn_conf.py")
        self._spawn("gateway", [sys.executable, "-m", "gunicorn", "-c", conf, "local.gateway:app"])
        self._start_postgres()  # INTG: while Java starts
        dynamodb.wait_ready(self.env["PIC_DYNAMODB_ENDPOINT"], self.env["AWS_REGION"])
        from functions.core.tables import create_tables

        create_tables()
        for part in PARTS:  # the broker's dispatcher, the outbox relay, the notification release: they poll the tables
            self._spawn(part, [sys.executable, "-m", "local.parts", part])
        self._start_cdc()
        # the knowledge base's shipped articles, published once (an editor's later changes stand): the public search,
        # the desk and the assistant answer from the first minute; the Job pic-kb-seed does the same in the cluster.
        # After the parts are spawned: they start (imports, first poll) while the seed commits, not after it.
        subprocess.run([sys.executable, "-m", "functions.kb.seed"], env={**os.environ, **self.env}, check=True)
        # the council's agenda (GEO): the shipped sample file in the open-data format, ingested in the background
        # (a file already ingested changes nothing: its content hash); in the cluster a system posts the day's file to
        # POST /v1/agenda/ingests
        threading.Thread(target=self._ingest_agenda, name="agenda-ingest", daemon=True).start()
        pids = {name: child.pid for name, child in self.children.items()}
        lifeline.record_parts(self.args.data_dir, {"supervisor": os.getpid(), **pids})

    def _start_postgres(self) -> None:
        """INTG: Licencias' database (local PostgreSQL, a free port, data under the data directory), if asked and
        installed; without PostgreSQL the platform runs without the change-data-capture example, saying why."""
        if not self.args.cdc:
            return
        from local import postgres

        missing = postgres.missing_reason()
        if missing:
            print(f"change data capture skipped: {missing}", flush=True)
            return
        lifeline.require_main_thread()
        self.children["postgres"] = postgres.start(self.args.data_dir, _free_port())

    def _start_cdc(self) -> None:
        """INTG: once PostgreSQL answers, the sample Licencias schema (once) and the capture part ``cdc``."""
        if "postgres" not in self.children:
            return
        from local import postgres

        postgres.wait_ready(self.args.data_dir)
        postgres.load_sample(self.args.data_dir)
        self._spawn("cdc", [sys.executable, "-m", "local.parts", "cdc"])

    def _ingest_agenda(self) -> None:
        done = subprocess.run([sys.executable, "-m", "functions.agenda.job"], env={**os.environ, **self.env},
                              capture_output=True, text=True, check=False)  # fmt: skip
        print((done.stdout.splitlines() or [done.stderr.strip()[-300:]])[0], flush=True)

    def wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.env['PIC_BASE_URL']}/healthz"
        while time.monotonic() < deadline:
            self._check_children()
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SystemExit(f"the platform did not become healthy in {timeout:.0f}s (see {url})")

    def _check_children(self) -> None:
        for name, child in self.children.items():
            if child.poll() is not None:
                raise SystemExit(
                    f"the {name} part exited with {child.returncode}: stopping PIC; see {self.args.data_dir}"
                )

    def seed_city(self, people: int) -> None:
        """Once per data directory: generate a small synthetic city and load it through the broker, in the
        background (the area systems' records become golden records while you explore)."""
        marker = self.args.data_dir / "seed-city" / "loaded"
        if people <= 0 or marker.exists():
            return
        from local.load_records import load
        from seed.city import local_city, write_city

        out = marker.parent
        write_city(local_city(people), out)
        print(
            f"seeding a synthetic city: {people} people across 8 area systems ({out}), in the background; until its"
            " backlog drains (a minute or two), events you send wait behind it: `make seed-status` says where it is",
            flush=True,
        )

        def run() -> None:
            report = load(out, self.env["PIC_BASE_URL"], Console(stderr=True, quiet=True))
            if not self.stop.is_set():
                marker.write_text(f"accepted {report.accepted}, malformed {len(report.malformed)}\n", encoding="utf-8")
                print(f"seed city sent: {report.accepted} records accepted by the broker", flush=True)

        threading.Thread(target=run, name="seed-city", daemon=True).start()

    # ---- global position (POS) and interactions (INTX): seed data -----------------------------------

    def seed_position(self, people: int, when_settled: Callable[[], None] = lambda: None) -> None:
        """Once per data directory, after the city is loaded: the area systems' facts and the channels'
        interactions for its people (``seed.position``), in the background; ``when_settled`` once the broker
        has delivered the whole backlog (the console prints its table again: the last thing on the screen)."""
        city = self.args.data_dir / "seed-city" / "loaded"
        marker = self.args.data_dir / "seed-city" / "position-loaded"
        if people <= 0 or marker.exists():
            return

        def run() -> None:
            while not city.exists():
                if self.stop.wait(1.0):
                    return
            from seed.city import local_city
            from seed.position import seed

            accepted, refused, showcase = seed(self.env["PIC_BASE_URL"], local_city(people))
            if not self.stop.is_set():
                marker.write_text(
                    f"accepted {accepted}, refused {len(refused)}; data in every section: {' '.join(showcase)}\n",
                    encoding="utf-8",
                )
                print(
                    f"seeded the global position; people with data in every section: {', '.join(showcase)}",
                    flush=True,
                )
            if self._settle():
                when_settled()

        threading.Thread(target=run, name="seed-position", daemon=True).start()

    def _settle(self) -> bool:
        """Wait until the broker has nothing pending (the seed's backlog delivered); False if stopped first."""
        url = f"{self.env['PIC_BASE_URL']}/dev/seed"
        while not self.stop.wait(2.0):
            try:
                if requests.get(url, timeout=10).json().get("settled"):
                    return True
            except (requests.RequestException, ValueError):
                continue
        return False

    def record(self) -> Path:
        """Write ``platform.json`` (addresses, ports, the supervisor's pid): how the local tools find it."""
        env = self.env
        return write_platform(
            self.args.data_dir,
            {
                "base_url": env["PIC_BASE_URL"],
                "port": self.args.port,
                "data_dir": env["PIC_DATA_DIR"],
                "dynamodb_endpoint": env["PIC_DYNAMODB_ENDPOINT"],
                "smtp": f"127.0.0.1:{env['PIC_SMTP_PORT']}",
                "sms_url": env["PIC_SMS_URL"],
                "push_url": env["PIC_PUSH_URL"],
                "store": self.args.store,
                "relay_wake": env["PIC_RELAY_WAKE"],
                "supervisor_pid": os.getpid(),
                "supervisor_started": lifeline.start_time(os.getpid()),
            },
        )

    def shutdown(self) -> None:
        """Stop in the reverse order of starting: parts (the relay drains), the gateway, then DynamoDB."""
        self.stop.set()
        forget_platform(self.args.data_dir, os.getpid())
        if getattr(self, "smtp", None) is not None:  # NOT: the SMTP capture
            self.smtp.stop()
        for name, child in reversed(self.children.items()):
            if name == "postgres":  # INTG: a fast shutdown (SIGTERM would wait for every session to end)
                from local import postgres

                postgres.stop(child, self.args.data_dir)
                continue
            if child.poll() is None:
                child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    platform = Platform(args)
    signal.signal(signal.SIGTERM, lambda *_: platform.stop.set())
    signal.signal(signal.SIGINT, lambda *_: platform.stop.set())
    try:
        platform.start()
        platform.wait_healthy()
        platform.record()
        routes = requests.get(f"{platform.env['PIC_BASE_URL']}/dev/routes", timeout=5).json()["routes"]
        table = parts_table(platform.env, routes)

        def settled() -> None:  # the seed's backlog scrolled the table away: the table again, last
            if not args.quiet:
                print(f"\nthe seed city is in and the broker has nothing pending.\n{table}", flush=True)

        platform.seed_city(args.seed_people)
        platform.seed_position(args.seed_people, settled)  # global position and interactions, after the city
        if not args.quiet:  # last, after the parts' start-up lines, so that it is what a person sees
            print(table, flush=True)
        while not platform.stop.is_set():
            platform._check_children()
            platform.stop.wait(0.5)
        print("stopping PIC ...", flush=True)
        return 0
    finally:
        platform.shutdown()


if __name__ == "__main__":
    sys.exit(main())
