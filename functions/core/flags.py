"""Micro-apps switched by flags, evaluated in process: the kernel's OpenFeature provider (FLAG, issue 13).

The ``flags`` domain owns the flags and serves their snapshot at ``GET /v1/flags`` (with an ETag); every
function polls it with ``If-None-Match`` (``PIC_FLAGS_URL``, every ``PIC_FLAGS_POLL_SECONDS``: the shape of
the policy bundle's poll, ``functions.core.poller``) and evaluates flags in memory through the OpenFeature
SDK with ``SnapshotProvider``: a dictionary read and, for a partial rollout, one SHA-256 — microseconds
(``bench/flags.py``). Without ``PIC_FLAGS_URL`` (unit tests, a function run alone) the flags domain's
catalogue of defaults is served as is (``PIC_FLAGS_CATALOGUE``).

The rules, in order (``decide``): a disabled flag is off; a flag that names districts is off for a citizen
of another district (a context that names no district is not restricted by it: the API's kernel does not
know where the caller lives, the web channel does); a share below 100 % is on for the citizens whose stable
bucket (SHA-256 of ``flag/citizen id``, 0-9,999) falls below it, as flagd's fractional rollout does, and off
when no citizen is named (fail closed: a partial rollout reaches only the citizens it picked).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider import AbstractProvider, Metadata

from functions.core.errors import MicroAppOffError
from functions.core.logging import get_logger
from functions.core.madrid import find_zone
from functions.core.poller import ConditionalGet, Watcher
from functions.core.settings import get_settings

OPENFEATURE_DOMAIN = "pic"
MAX_SNAPSHOT_BYTES = 256 * 1024
BUCKETS = 10_000  # a share is decided to 0.01 %


@dataclass(frozen=True)
class Rule:
    """One flag as evaluated: ``FlagRules`` made cheap to read, and the version it came from."""

    enabled: bool
    districts: frozenset[str]
    percentage: int
    version: int = 0


@dataclass(frozen=True)
class CitizenContext:
    """Whom a flag is evaluated for: the citizen (the rollout's key) and, where known, their district."""

    citizen_id: str | None = None
    district: str | None = None

    def evaluation_context(self) -> EvaluationContext:
        attributes = {"district": self.district} if self.district else {}
        return EvaluationContext(targeting_key=self.citizen_id, attributes=attributes)


def bucket(flag: str, key: str) -> int:
    """The citizen's stable bucket for this flag, 0 to 9,999: the same on every process and every day, and
    independent between flags (a citizen early in one rollout is not early in all)."""
    digest = hashlib.sha256(f"{flag}/{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def decide(flag: str, rule: Rule, citizen_id: str | None, district: str | None) -> tuple[bool, Reason]:
    """On or off for this citizen, and the OpenFeature reason (the module's docstring gives the rules)."""
    if not rule.enabled:
        return False, Reason.DISABLED
    if rule.districts and district is not None and district not in rule.districts:
        return False, Reason.TARGETING_MATCH
    if rule.percentage >= 100:
        return True, Reason.TARGETING_MATCH if rule.districts and district else Reason.STATIC
    if rule.percentage <= 0 or not citizen_id:
        return False, Reason.SPLIT
    return bucket(flag, citizen_id) < rule.percentage * (BUCKETS // 100), Reason.SPLIT


# ---- the snapshot: what GET /v1/flags serves ----------------------------------------------------------


def rule_of(entry: Any, version: int = 0) -> Rule:
    """A flag's rules as served (``enabled``, ``districts``, ``percentage``; ``events.flags.FlagRules`` is
    their model in the API), checked without pydantic: ``ValueError`` if they are not rules."""
    if not isinstance(entry, dict):
        raise ValueError("a flag's rules are an object")
    enabled, districts, percentage = entry.get("enabled"), entry.get("districts", []), entry.get("percentage", 100)
    if not isinstance(enabled, bool):
        raise ValueError("enabled is true or false")
    if not isinstance(districts, list) or not all(_is_district(d) for d in districts):
        raise ValueError("districts are Madrid's district codes (01-21)")
    if isinstance(percentage, bool) or not isinstance(percentage, int) or not 0 <= percentage <= 100:
        raise ValueError("percentage is an integer 0-100")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError("version is a non-negative integer")
    return Rule(enabled, frozenset(districts), percentage, version)


def _is_district(code: Any) -> bool:
    zone = find_zone(code) if isinstance(code, str) else None
    return zone is not None and zone.kind == "district"


def snapshot_body(catalogue: dict[str, Any], changed: dict[str, tuple[dict[str, Any], int]]) -> dict[str, Any]:
    """The snapshot every function evaluates: each catalogued app's rules (``changed``'s stored rules and
    version where an administrator changed them, else the catalogue's default, version 0) and a revision that
    moves with any of them (the ETag)."""
    flags: dict[str, Any] = {}
    for app, entry in sorted(catalogue["apps"].items()):
        rules, version = changed.get(app, (entry["rules"], 0))
        rule = rule_of(rules, version)
        served = {"enabled": rule.enabled, "districts": sorted(rule.districts), "percentage": rule.percentage}
        flags[app] = {**served, "version": version, "title": entry["title"]}
    canonical = json.dumps(flags, sort_keys=True, separators=(",", ":"))
    return {"revision": hashlib.sha256(canonical.encode()).hexdigest()[:20], "flags": flags}


@lru_cache(maxsize=4)
def load_catalogue(path: Path) -> dict[str, Any]:
    """The flags domain's catalogue of micro-apps and their default rules (a data file)."""
    catalogue: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return catalogue


@dataclass(frozen=True)
class Snapshot:
    revision: str
    rules: dict[str, Rule]

    @classmethod
    def from_body(cls, body: Any) -> Snapshot:
        """A snapshot as served, validated (``ValueError`` if not one: the serving snapshot stays)."""
        if not isinstance(body, dict) or not isinstance(body.get("flags"), dict) or not body.get("revision"):
            raise ValueError("a flag snapshot has a revision and flags")
        flags = body["flags"].items()
        rules = {
            str(name): rule_of(entry, entry.get("version", 0) if isinstance(entry, dict) else 0)
            for name, entry in flags
        }
        return cls(str(body["revision"]), rules)


class Snapshots:
    """The serving snapshot, replaced whole when a poll brings a new one (one attribute read per evaluation,
    so an evaluation never mixes two revisions). A bad or unreachable snapshot changes nothing (logged)."""

    def __init__(self, initial: Snapshot, source: ConditionalGet | None = None, poll_seconds: float = 0) -> None:
        self.current = initial
        self._source = source
        self._lock = threading.Lock()
        self._watcher = Watcher("flag-snapshot", poll_seconds if source else 0, lambda: self.refresh(), self._failed)

    def refresh(self) -> bool:
        """Fetch once; True when the serving revision changed."""
        if self._source is None:
            return False
        with self._lock:
            try:
                raw = self._source.fetch()
                if raw is None:
                    return False
                candidate = Snapshot.from_body(json.loads(raw))
            except (OSError, ValueError) as exc:
                self._failed(exc)
                return False
            if candidate.revision == self.current.revision:
                return False
            previous, self.current = self.current.revision, candidate
        get_logger().info(
            "flag snapshot activated", extra={"flags": {"revision": candidate.revision, "previous": previous}}
        )
        return True

    def start(self) -> None:
        self._watcher.start()

    def stop(self) -> None:
        self._watcher.stop()

    def _failed(self, exc: Exception) -> None:
        get_logger().warning(
            "flag snapshot not refreshed", extra={"flags": {"revision": self.current.revision, "reason": repr(exc)}}
        )


# ---- the OpenFeature provider ---------------------------------------------------------------------------


class SnapshotProvider(AbstractProvider):
    """OpenFeature's provider over the serving snapshot: boolean flags (a micro-app on or off) only."""

    def __init__(self, snapshots: Snapshots) -> None:
        super().__init__()
        self.snapshots = snapshots

    def get_metadata(self) -> Metadata:
        return Metadata(name="pic-flag-snapshot")

    def shutdown(self) -> None:
        self.snapshots.stop()

    def resolve_boolean_details(
        self, flag_key: str, default_value: bool, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[bool]:
        snapshot = self.snapshots.current
        rule = snapshot.rules.get(flag_key)
        if rule is None:
            return FlagResolutionDetails(default_value, ErrorCode.FLAG_NOT_FOUND, f"no flag {flag_key!r}", Reason.ERROR)
        citizen_id = evaluation_context.targeting_key if evaluation_context else None
        district = evaluation_context.attributes.get("district") if evaluation_context else None
        value, reason = decide(flag_key, rule, citizen_id, district if isinstance(district, str) else None)
        metadata: dict[str, int | str] = {"version": rule.version, "revision": snapshot.revision}
        return FlagResolutionDetails(value, reason=reason, variant="on" if value else "off", flag_metadata=metadata)

    def _not_boolean(self, flag_key: str, default_value: Any) -> FlagResolutionDetails[Any]:
        return FlagResolutionDetails(
            default_value, ErrorCode.TYPE_MISMATCH, f"{flag_key} is a boolean flag", Reason.ERROR
        )

    def resolve_string_details(
        self, flag_key: str, default_value: str, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[str]:
        return self._not_boolean(flag_key, default_value)

    def resolve_integer_details(
        self, flag_key: str, default_value: int, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[int]:
        return self._not_boolean(flag_key, default_value)

    def resolve_float_details(
        self, flag_key: str, default_value: float, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[float]:
        return self._not_boolean(flag_key, default_value)

    def resolve_object_details(  # type: ignore[override]
        self, flag_key: str, default_value: Any, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[Any]:
        return self._not_boolean(flag_key, default_value)


# ---- the process's flags --------------------------------------------------------------------------------


def build_snapshots() -> Snapshots:
    """The snapshots this process serves: polled from ``PIC_FLAGS_URL`` where set (a first fetch that fails
    serves the catalogue's defaults until a poll succeeds), else the catalogue's defaults."""
    settings = get_settings()
    defaults = Snapshot.from_body(snapshot_body(load_catalogue(settings.flags_catalogue), {}))
    if not settings.flags_url:
        return Snapshots(defaults)
    source = ConditionalGet(settings.flags_url, MAX_SNAPSHOT_BYTES, timeout=3.0, what="flag snapshot")
    snapshots = Snapshots(defaults, source, settings.flags_poll_seconds)
    snapshots.refresh()
    snapshots.start()
    return snapshots


_CLIENT: list[OpenFeatureClient] = []
_CLIENT_LOCK = threading.Lock()


def client() -> OpenFeatureClient:
    """The OpenFeature client of PIC's flags, its provider registered once per process (the first of several
    concurrent first requests builds it; the others wait for it)."""
    if not _CLIENT:
        with _CLIENT_LOCK:
            if not _CLIENT:
                api.set_provider(SnapshotProvider(build_snapshots()), domain=OPENFEATURE_DOMAIN)
                _CLIENT.append(api.get_client(domain=OPENFEATURE_DOMAIN))
    return _CLIENT[0]


def enabled(app: str, context: CitizenContext | None = None) -> bool:
    """Whether micro-app ``app`` is on for this citizen (an unknown app is off)."""
    evaluation = context.evaluation_context() if context else None
    return client().get_boolean_value(app, False, evaluation)


def require_app(app: str, context: CitizenContext) -> None:
    """``MicroAppOffError`` (404 ``micro-app-off``, naming the app) unless ``app`` is on for this citizen."""
    if not enabled(app, context):
        raise MicroAppOffError(f"the micro-app {app!r} is switched off", app=app)
