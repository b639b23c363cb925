"""The platform's background parts, each in a process of its own as each is a Deployment of its own in the
cluster: ``python -m local.parts broker|relay|notification-release`` (started by ``python -m local``).

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

REPO_ROOT = Path(__file__).resolve().parents[1]
PARTS = ("broker", "relay", "notification-release")


def run_broker(stop: threading.Event) -> None:
    """The Knative Broker's dispatcher: Triggers from ``infra/k8s``, state in the data directory."""
    from local.broker import BrokerStore, Dispatcher
    from local.manifests import load

    store = BrokerStore(Path(os.environ["PIC_DATA_DIR"]) / "broker.sqlite")
    store.release_claims()  # deliveries claimed by a dispatcher that died are due again (at-least-once)
    manifests = load(REPO_ROOT / "infra/k8s/overlays/local")
    Dispatcher(store, manifests.triggers, os.environ["PIC_BASE_URL"]).run(stop)


def run_relay(stop: threading.Event) -> None:
    """The outbox relay (``pic-outbox-relay``), with a heartbeat per pass for ``/healthz``."""
    from functions.core.relay import Relay
    from functions.core.settings import get_settings
    from local.broker import BrokerStore

    store = BrokerStore(Path(os.environ["PIC_DATA_DIR"]) / "broker.sqlite")
    relay = Relay(os.environ["K_SINK"], get_settings().outbox_shards, idle_sleep=0.02)
    relay.run_forever(stop, on_pass=lambda: store.beat("relay"))


def run_release(stop: threading.Event) -> None:
    """Releases notifications deferred by quiet hours when they end (``pic-notification-release``)."""
    from functions.notification.release import run_forever

    run_forever(stop, every=2.0)


RUNNERS = {"broker": run_broker, "relay": run_relay, "notification-release": run_release}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in RUNNERS:
        raise SystemExit(f"usage: python -m local.parts {{{'|'.join(PARTS)}}}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    RUNNERS[args[0]](stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
