"""Citizen 360 (C360) events: area systems upsert the records they hold about a person; PIC resolves each
record to one golden citizen record and announces the link it made or changed, with the match decision."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from events.base import EventData

LOCAL_ID_PATTERN = r"^[^\s#][^#]{0,127}$"
SOURCE_PATTERN = r"^/[^\s#]{1,127}$"


class SourceRecord(EventData):
    """An area system's record of a person: the system's URI and its own key for them (C360 links it to a golden
    record and announces the link: ``citizen.updated``)."""

    source: str = Field(pattern=SOURCE_PATTERN, examples=["/legacy/padron"])
    local_id: str = Field(pattern=LOCAL_ID_PATTERN, examples=["PAD0097742"])


class RecordDocument(EventData):
    """An identity document as the source system holds it; PIC validates it (a bad one is a finding)."""

    type: Literal["DNI", "NIE", "PASSPORT"]
    number: str = Field(min_length=1, max_length=32, examples=["12345678Z"])


class RecordAddress(EventData):
    street: str | None = Field(None, max_length=200)
    number: str | None = Field(None, max_length=20)
    postal_code: str | None = Field(None, max_length=10)
    district: str | None = Field(None, max_length=3, description="official district code of Madrid (01-21)")
    # optional, additive (issue 18): the Padrón's barrio, which C360 announces in citizen.updated's profile (GEO's home)
    barrio: str | None = Field(None, pattern=r"^\d{3}$", description="official barrio code of Madrid (district + 1)")


class CitizenRecordUpserted(EventData):
    """One person as an area system holds them. The system is the CloudEvent ``source`` (``/legacy/padron``);
    ``local_id`` is its own key for the person. Sending the same (source, local_id) again updates that record."""

    local_id: str = Field(pattern=LOCAL_ID_PATTERN, examples=["PAD0097742"])
    document: RecordDocument | None = None
    given_name: str | None = Field(None, max_length=100)
    first_surname: str | None = Field(None, max_length=100)
    second_surname: str | None = Field(None, max_length=100)
    birth_date: date | None = None
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    address: RecordAddress | None = None


class SourceLinkChange(EventData):
    """The link between a source record and its golden record, as it stands after the change."""

    source: str
    local_id: str
    change: Literal["added", "changed"]
    document_type: Literal["DNI", "NIE", "PASSPORT"] | None = None
    document_valid: bool | None = Field(None, description="None when the record carries no document")
    findings: list[str] = Field(default_factory=list, description="data-quality findings kinds, e.g. document")


class ComparisonEvidence(EventData):
    """One comparison of a probabilistic decision: the level the pair reached and its match weight log2(m/u)."""

    comparison: str = Field(examples=["surnames"])
    level: str = Field(examples=["swapped"])
    weight: float


class MatchDecision(EventData):
    """Why the record belongs to this golden record: a valid document (``document``), a probabilistic match
    (``probabilistic``, Fellegi-Sunter: ``score`` is the match probability, ``match_weight`` its log2 odds,
    ``comparisons`` the evidence), none (``new``), a merge / un-merge of golden records that moved it, or the
    person's own rectification of their contact data (``data-subject``, RGPD art. 16: the record is theirs)."""

    method: Literal["document", "new", "probabilistic", "merge", "unmerge", "data-subject"]
    score: float = Field(ge=0.0, le=1.0)
    evidence: list[str]
    match_weight: float | None = None
    comparisons: list[ComparisonEvidence] = Field(default_factory=list)
    review_id: str | None = Field(None, description="the clerical review opened (or resolved) for this record")


class ContactPoints(EventData):
    """A golden record's contact points (survived e-mail and phone, normalised) as they stand after a change:
    what the notification domain projects to reach the person (it reads no other domain's tables)."""

    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)


class Profile(EventData):
    """The golden record's survived Padrón facts a campaign segments on (issue 16): minimal data, no name and no
    address, only the birth date and where the person is registered."""

    birth_date: date | None = None
    district: str | None = Field(None, max_length=3, description="official district code of Madrid (01-21)")
    barrio: str | None = Field(None, max_length=3, description="official barrio code (district + barrio)")


class CitizenUpdated(EventData):
    """A golden citizen record gained or changed a source link (and its survived attributes may have changed).

    ``contact`` (optional, additive) is the golden record's contact points after the change; ``null`` from
    producers that predate it."""

    citizen_id: str
    link: SourceLinkChange
    match: MatchDecision
    updated_at: datetime
    contact: ContactPoints | None = None
    profile: Profile | None = None  # optional, additive (issue 16): what campaigns segment on


class MovedLink(EventData):
    source: str
    local_id: str


class CitizenMerged(EventData):
    """Two golden records were found to be one person: ``merged_citizen_id`` was absorbed into ``citizen_id``
    (its source links moved; each move is also a ``citizen.updated``). Undone by ``citizen.unmerged``."""

    citizen_id: str
    merged_citizen_id: str
    links: list[MovedLink]
    reason: Literal["auto", "review"]
    score: float = Field(ge=0.0, le=1.0)
    evidence: list[str]
    review_id: str | None = None
    by: str = Field(description="the agent who decided the review, or pic-citizen for an automatic merge")
    merged_at: datetime


class CitizenUnmerged(EventData):
    """A source record was split out of ``citizen_id``: the golden record it came with (``restored_citizen_id``)
    is back with all of its links (each move is also a ``citizen.updated``)."""

    citizen_id: str
    restored_citizen_id: str
    links: list[MovedLink]
    by: str
    unmerged_at: datetime
    contact: ContactPoints | None = Field(
        None, description="citizen_id's contact points after the split (the restored record's: its citizen.updated)"
    )
