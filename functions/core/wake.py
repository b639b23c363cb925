"""Wake the outbox relay when a unit of work that staged events commits (docs/decisions/0017).

The relay polls its domain's pending rows, backing off while idle to spare the store; at light load that
back-off is what a citizen waits for (a consent change took ~180 ms p50 from PUT to subscriber). So after a
commit with outbox rows, the function sends one UDP datagram naming the producing domain to
``PIC_RELAY_WAKE`` (``udp://host:port``; ``{domain}`` in it is replaced by the domain, for a relay Service
per domain). Fire and forget: no answer is awaited, every error is swallowed, a lost datagram only means the
relay finds the row on its next poll (the safety net that stays).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from functions.core.settings import get_settings

SCHEME = "udp"


def parse(address: str) -> tuple[str, int]:
    """``udp://host:port`` as ``(host, port)``; ``ValueError`` for anything else."""
    parts = urlsplit(address)
    if parts.scheme != SCHEME or not parts.hostname or not parts.port:
        raise ValueError(f"a relay wake address is udp://host:port, not {address!r}")
    return parts.hostname, parts.port


@lru_cache(maxsize=1)
def _socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)  # never wait on a full buffer: the poll is the safety net
    return sock


@lru_cache(maxsize=64)
def _target(template: str, domain: str) -> tuple[str, int] | None:
    """Resolved once per domain (a name lookup per commit would cost more than the datagram)."""
    try:
        host, port = parse(template.replace("{domain}", domain))
        return socket.gethostbyname(host), port
    except (ValueError, OSError):
        return None


def wake(domains: Iterable[str]) -> None:
    """Tell each domain's relay it has rows to publish. Never raises, never blocks."""
    template = get_settings().relay_wake
    if not template:
        return
    for domain in set(domains):
        ping(template, domain)


def ping(template: str, name: str) -> None:
    """One datagram naming ``name`` to ``template`` (``{domain}`` replaced by it); errors swallowed."""
    target = _target(template, name)
    if target is None:
        return
    try:
        _socket().sendto(name.encode(), target)
    except OSError:
        return


class WakeListener:
    """The relay's side: a UDP socket whose datagrams name domains; ``on_wake(domain)`` runs for each."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(0.5)

    @classmethod
    def on(cls, address: str, all_interfaces: bool = False) -> WakeListener:
        """Listening on the port of ``address`` (``udp://host:port``): on its host locally, on every
        interface in a pod (where the address names the relay's Service)."""
        host, port = parse(address.replace("{domain}", "relay"))
        return cls(port, "0.0.0.0" if all_interfaces else host)  # noqa: S104 - a pod's wake port

    def serve(self, on_wake: Callable[[str], None], stopped: Callable[[], bool]) -> None:
        """Until ``stopped()``: hand every datagram's domain to ``on_wake``."""
        while not stopped():
            try:
                data = self.sock.recv(256)
            except TimeoutError:
                continue
            except OSError:
                if stopped():
                    return
                continue
            on_wake(data.decode("ascii", "replace").strip())
        self.sock.close()
