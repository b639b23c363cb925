"""An in-memory ``IncidentStore`` (``functions.incident.service``) and ``Locator``: the incidents' handler tests run
on them. Reports are versioned as their DynamoDB items are (a unit that read an older revision loses the race at
commit); photos, tokens and follower markers must be absent. ``near`` mirrors the sparse ``by-near`` index: only
open reports are in it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from functions.core.store import UnitOfWork
from functions.incident.service import Incident, Photo, Place, cell_of
from tests.unit.fakes import Ledger

SOL = (40.41694, -3.70361)  # Puerta del Sol, km 0
CENTRO = Place("01", "Centro", "011", "Palacio")


@dataclass
class FakeLocator:
    """Madrid as a box (tests choose the point): inside, the place of Sol; outside, None."""

    place: Place = CENTRO

    def locate(self, lat: float, lon: float) -> Place | None:
        return self.place if 40.31 <= lat <= 40.65 and -3.89 <= lon <= -3.51 else None


@dataclass
class FakeIncidentStore:
    ledger: Ledger = field(default_factory=Ledger)
    incidents: dict[str, Incident] = field(default_factory=dict)
    photos: dict[tuple[str, int], Photo] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    clients: dict[str, str] = field(default_factory=dict)
    followers: set[tuple[str, str]] = field(default_factory=set)
    near_reads: int = 0

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def fetch_incident(self, incident_id: str) -> Incident | None:
        return self.incidents.get(incident_id)

    def fetch_incidents(self, incident_ids: list[str]) -> list[Incident]:
        found = [self.incidents[i] for i in set(incident_ids) if i in self.incidents]
        return sorted(found, key=lambda i: i.requested_at, reverse=True)

    def fetch_near(self, service_code: str, cells: list[str]) -> list[Incident]:
        self.near_reads += len(cells)
        return [i for i in self.incidents.values()
                if i.is_open and i.service_code == service_code and cell_of(i.lat, i.lon) in cells]  # fmt: skip

    def fetch_between(self, start: datetime, end: datetime, limit: int) -> list[Incident]:
        found = [i for i in self.incidents.values() if start <= i.requested_at <= end]
        return sorted(found, key=lambda i: i.requested_at, reverse=True)[:limit]

    def fetch_of_citizen(self, citizen_id: str) -> list[Incident]:
        ids = {i.id for i in self.incidents.values() if i.citizen_id == citizen_id}
        ids |= {i for i, c in self.followers if c == citizen_id}
        return self.fetch_incidents(sorted(ids))

    def fetch_token(self, token: str) -> str | None:
        return self.tokens.get(token)

    def fetch_client(self, key_hash: str) -> str | None:
        return self.clients.get(key_hash)

    def fetch_photo(self, incident_id: str, n: int) -> Photo | None:
        return self.photos.get((incident_id, n))

    def stage_incident(self, uow: UnitOfWork, incident: Incident, read_revision: int | None) -> None:
        stored = replace(incident, revision=incident.revision + 1)

        def apply() -> None:
            self.incidents[incident.id] = stored

        self.ledger.stage(uow, f"inc#{incident.id}", read_revision, apply)
        if read_revision is None and incident.token:
            token = incident.token
            self.ledger.stage(uow, f"tok#{token}", None, lambda: self.tokens.__setitem__(token, incident.id))

    def stage_photo(self, uow: UnitOfWork, incident_id: str, n: int, photo: Photo) -> None:
        self.ledger.stage(
            uow, f"photo#{incident_id}#{n}", None, lambda: self.photos.__setitem__((incident_id, n), photo)
        )

    def stage_client(self, uow: UnitOfWork, key_hash: str, name: str) -> None:
        self.ledger.stage(uow, f"key#{key_hash}", None, lambda: self.clients.__setitem__(key_hash, name),
                          any_version=True)  # fmt: skip

    def stage_follower(self, uow: UnitOfWork, incident_id: str, citizen_id: str) -> None:
        self.ledger.stage(uow, f"fol#{incident_id}#{citizen_id}", None,
                          lambda: self.followers.add((incident_id, citizen_id)))  # fmt: skip

    def stage_erase(self, uow: UnitOfWork, incident: Incident, citizen_id: str) -> None:
        reporter = incident.citizen_id == citizen_id
        anonymous = replace(
            incident,
            citizen_id=None if reporter else incident.citizen_id,
            contact={} if reporter else incident.contact,
            followers=incident.followers - {citizen_id},
        )
        self.stage_incident(uow, anonymous, incident.revision)
        if not reporter:
            self.ledger.stage(uow, f"fol#{incident.id}#{citizen_id}", 1,
                              lambda: self.followers.discard((incident.id, citizen_id)), deletes=True)  # fmt: skip
