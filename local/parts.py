"""The platform's background parts, each in a process of its own as each is a Deployment of its own in the
cluster: ``python -m local.parts broker|relay|notification-release|case-sweep|routing-sweep|survey-release|
campaign-dispatch|booking-sweep|intake-inbox|lake-flusher|cdc`` (started by ``python -m local``; ``cdc``
only with PostgreSQL).

A part that dies is seen at once by ``/healthz`` (``local.lifeline``), and the supervisor stops the
platform rather than run on without it (writes would be accepted and never published or delivered).
SIGTERM or SIGINT stops a part cleanly: the broker finishes its deliveries in flight, the relay drains.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local.senders import TokenCache

REPO_ROOT = Path(__file__).resolve().parents[1]
PARTS = (
    "broker", "relay", "notification-release", "case-sweep", "routing-sweep", "survey-release", "campaign-dispatch",
    "booking-sweep", "intake-inbox", "lake-flusher",
)  # fmt: skip


def _data_dir() -> Path:
    return Path(os.environ["PIC_DATA_DIR"])


def _tokens() -> TokenCache:
    """The dev IdP's tokens for the platform's own identities (delivery, relays): local only."""
    from local.idp import DevIdp
    from local.senders import TokenCache

    return TokenCache(DevIdp(_data_dir(), issuer=os.environ["PIC_JWT_ISSUER"], audience="pic"))


def run_broker(stop: threading.Event) -> None:
    """The Knative Broker's dispatcher: Triggers from ``infra/k8s``, state in the data directory; it delivers
    with its own token (the event functions take no other) and admits replies only as EventPolicies say."""
    from local.broker import INGRESS_BROKER, BrokerStore, Dispatcher
    from local.manifests import load
    from local.senders import SenderPolicies

    store = BrokerStore(_data_dir() / "broker.sqlite")
    store.release_claims()  # deliveries claimed by a dispatcher that died are due again (at-least-once)
    manifests = load(REPO_ROOT / "infra/k8s/overlays/local")
    dispatcher = Dispatcher(
        store,
        manifests.triggers,
        os.environ["PIC_BASE_URL"],
        delivery_token=_tokens().delivery_token,
        reply_policies=SenderPolicies.of(INGRESS_BROKER, manifests.event_policies),
    )
    if os.environ.get("PIC_BROKER_WAKE"):  # the ingress wakes the dispatcher (ADR 0017)
        dispatcher.listen_for_wakes(os.environ["PIC_BROKER_WAKE"], stop)
    dispatcher.run(stop)


def run_relay(stop: threading.Event) -> None:
    """One outbox relay per producing domain (``pic-<domain>-relay``), each sending with its domain's token
    file, which this process re-mints before it expires (kubelet's projected token, in the cluster); a
    heartbeat per pass for ``/healthz``."""
    from events.catalog import DOMAINS
    from functions.core.relay import Relay, TokenFile, serve_wakes
    from local.broker import BrokerStore
    from local.senders import write_token_file

    store = BrokerStore(_data_dir() / "broker.sqlite")
    tokens, token_dir = _tokens(), _data_dir() / "sender-tokens"

    def refresh() -> None:
        for sender in DOMAINS.values():
            write_token_file(tokens, sender, token_dir)

    def rotate() -> None:
        while not stop.wait(60.0):
            refresh()

    refresh()
    threads = [threading.Thread(target=rotate, name="sender-tokens", daemon=True)]
    relays = {
        domain: Relay(os.environ["K_SINK"], domain, TokenFile(token_dir / f"{sender.account}.token"), idle_sleep=0.02)
        for domain, sender in sorted(DOMAINS.items())
    }
    if os.environ.get("PIC_RELAY_WAKE"):  # the functions' commits wake their domain's relay (ADR 0017)
        serve_wakes(relays, os.environ["PIC_RELAY_WAKE"], stop)
    for domain, relay in relays.items():
        threads.append(
            threading.Thread(
                target=relay.run_forever,
                args=(stop,),
                kwargs={"on_pass": lambda: store.beat("relay")},
                name=f"relay-{domain}",
            )
        )
    for thread in threads:
        thread.start()
    for thread in threads[1:]:
        thread.join()


def run_release(stop: threading.Event) -> None:
    """Releases notifications deferred by quiet hours when they end (``pic-notification-release``)."""
    from functions.notification.release import run_forever

    run_forever(stop, every=2.0)


def run_case_sweep(stop: threading.Event) -> None:
    """Raises the SLA warnings and breaches of cases as their clocks pass them (``pic-case-sweep``)."""
    from functions.case.sweep import run_forever

    run_forever(stop, every=float(os.environ.get("PIC_CASE_SWEEP_SECONDS", "2")))


def run_routing_sweep(stop: threading.Event) -> None:
    """Times out offers not accepted in time and expires contacts' routing steps (``pic-routing-sweep``)."""
    from functions.routing.sweep import run_forever

    run_forever(stop, every=float(os.environ.get("PIC_ROUTING_SWEEP_SECONDS", "1")))


def run_survey_release(stop: threading.Event) -> None:
    """Sends the survey invitations a trigger delayed, when they are due (``pic-survey-release``)."""
    from functions.survey.release import run_forever

    run_forever(stop)


def run_campaign_dispatch(stop: threading.Event) -> None:
    """Starts campaigns' runs and hands their pages to NOT, paced (``pic-campaign-dispatch``)."""
    from functions.campaign.dispatch import run_forever

    run_forever(stop, every=float(os.environ.get("PIC_CAMPAIGN_DISPATCH_SECONDS", "1")))


def run_booking_sweep(stop: threading.Event) -> None:
    """Releases the bookings' payment holds that expired on slots nobody writes again (``pic-booking-sweep``)."""
    from functions.booking.sweep import run_forever

    run_forever(stop, every=float(os.environ.get("PIC_BOOKING_SWEEP_SECONDS", "5")))


def run_intake_inbox(stop: threading.Event) -> None:
    """The legacy adapters' inbox (in the cluster the Deployments ``legacy-<system>``, each as its system's
    ServiceAccount): loads the files dropped in ``<data dir>/inbox/<system>/``, posting as each system with its token
    file, which this process writes from the dev IdP as kubelet projects a ServiceAccount's token (issue 19, ADR
    0032)."""
    from events.catalog import AREA_SYSTEMS
    from functions.intake.inbox import run_forever
    from functions.intake.layouts import layouts
    from local.senders import write_token_file

    senders = {s.account: s for s in AREA_SYSTEMS}
    tokens, token_dir = _tokens(), Path(os.environ["PIC_INTAKE_TOKEN_DIR"])

    def refresh() -> None:
        for layout in layouts().values():
            write_token_file(tokens, senders[layout.sender], token_dir)

    def rotate() -> None:
        while not stop.wait(60.0):
            refresh()

    refresh()
    threading.Thread(target=rotate, name="intake-sender-tokens", daemon=True).start()
    run_forever(stop, every=float(os.environ.get("PIC_INTAKE_SECONDS", "1")))


def run_lake_flusher(stop: threading.Event) -> None:
    """Commits the data platform's staged rows to their Delta tables under the data dir (``pic-lake-flusher``)."""
    from functions.lake.flusher import run_forever

    run_forever(stop, every=float(os.environ.get("PIC_LAKE_FLUSH_SECONDS", "10")))


def run_cdc(stop: threading.Event) -> None:
    """Licencias' change data capture (``pic-cdc-licencias``, functions/cdc) against ``make run``'s PostgreSQL, as
    ``legacy-licencias`` with a token file this process re-mints (kubelet's projected token, in the cluster). A
    change a person must look at (a table changed under the mapping) halts it, saying why in ``/dev/cdc`` and here;
    the platform goes on (the slot keeps the changes until the capture is started again)."""
    import logging

    from events.catalog import LICENCIAS
    from functions.cdc.__main__ import Status, run
    from functions.cdc.changes import CaptureError
    from local import postgres
    from local.senders import write_token_file

    tokens, token_dir = _tokens(), _data_dir() / "sender-tokens"
    os.environ.update(
        PIC_CDC_DSN=postgres.dsn(_data_dir(), postgres.CDC_ROLE), PIC_CDC_SLOT=postgres.SLOT,
        PIC_CDC_PUBLICATION=postgres.PUBLICATION, PIC_SENDER_TOKEN_FILE=str(token_dir / f"{LICENCIAS.account}.token"),
    )  # fmt: skip
    write_token_file(tokens, LICENCIAS, token_dir)

    def rotate() -> None:
        while not stop.wait(60.0):
            write_token_file(tokens, LICENCIAS, token_dir)

    threading.Thread(target=rotate, name="sender-token", daemon=True).start()
    logging.basicConfig(level=logging.INFO, format="cdc: %(message)s")
    status = Status(str(postgres.state_dir(_data_dir()) / "status.json"))
    try:
        run(stop, status)
    except CaptureError as exc:
        status.write("halted", reason=str(exc), force=True)
        print(f"cdc: halted: {exc}", file=sys.stderr, flush=True)
        stop.wait()


RUNNERS = {"broker": run_broker, "relay": run_relay, "notification-release": run_release, "case-sweep": run_case_sweep,
           "routing-sweep": run_routing_sweep, "survey-release": run_survey_release,
           "campaign-dispatch": run_campaign_dispatch, "booking-sweep": run_booking_sweep,
           "intake-inbox": run_intake_inbox, "lake-flusher": run_lake_flusher,
           "cdc": run_cdc}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in RUNNERS:
        raise SystemExit(f"usage: python -m local.parts {{{'|'.join(RUNNERS)}}}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    RUNNERS[args[0]](stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
