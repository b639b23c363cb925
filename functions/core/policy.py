"""The one Policy port and its adapters: the embedded Rego engine and OPA's REST API.

Where deployed, the embedded engine serves a signed OPA bundle polled from a URL or file
(``BundlePolicy``, docs/decisions/0016): a new revision is verified, compiled and smoke-tested before it is
swapped in; a bad one is refused and the good one keeps serving. Every decision is logged (decision log)
with the policy path, the outcome, the reasons, the policy revision and a hash of the input, never the
input itself: inputs carry personal data.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import orjson
import regorus

from functions.core import bundle as bundles
from functions.core.bundle import BundleError
from functions.core.bundle import PolicyBundle as PolicyBundle  # re-exported: the domains and tools import it here
from functions.core.errors import ForbiddenError, PolicyUnavailableError
from functions.core.logging import get_logger, log_hot
from functions.core.poller import ConditionalGet, Watcher
from functions.core.settings import get_settings

DECISION_RULE = "decision"
MEMO_SIZE = 20_000
VMS_PER_THREAD = 4  # compiled policies a thread keeps: the serving one and a few it served before
_THREAD_VMS = threading.local()
_TOKENS = itertools.count()


@dataclass(frozen=True)
class Decision:
    """A policy answer: allowed or not, and why."""

    allow: bool
    reasons: list[str]
    result: dict[str, Any] = field(default_factory=dict)


class Policy(Protocol):
    def decide(self, package: str, input_: dict[str, Any]) -> Decision: ...


_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_CANONICAL |= orjson.OPT_PASSTHROUGH_DATACLASS  # with ``default=str``: what json.dumps(default=str) wrote


def canonical_input(input_: dict[str, Any]) -> str:
    """The input as canonical JSON (keys sorted, no spaces, UTF-8 unescaped): the memo's key, the engine's
    input and what the decision log hashes, serialised once per decision. orjson: ~1–2 µs for a request's
    input where ``json.dumps(sort_keys=True)`` took ~12–20 µs (docs/benchmarks.md, "Policies on the
    deployed path"). What orjson cannot write (an integer beyond 64 bits) is written by the standard library
    the same canonical way."""
    try:
        return orjson.dumps(input_, default=str, option=_CANONICAL).decode()
    except orjson.JSONEncodeError:
        return json.dumps(input_, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def input_hash(input_: dict[str, Any], canonical: str | None = None) -> str:
    """A stable hash of a policy input, for the decision log."""
    return hashlib.sha256((canonical or canonical_input(input_)).encode()).hexdigest()


def _to_decision(package: str, result: Any) -> Decision:
    if not isinstance(result, dict) or "allow" not in result:
        raise PolicyUnavailableError(f"policy {package} has no decision for this input")
    return Decision(allow=bool(result["allow"]), reasons=list(result.get("reasons", [])), result=result)


def log_decision(
    package: str, decision: Decision, input_: dict[str, Any], revision: str, digest: str | None = None
) -> None:
    """One decision log line; ``revision`` is the policy bundle's (``opa`` when OPA decided); ``digest`` is
    the input's hash when the caller already has it."""
    log_hot(
        "policy decision",
        decision_log={
            "policy": package,
            "allow": decision.allow,
            "reasons": decision.reasons,
            "input_sha256": digest or input_hash(input_),
            "revision": revision,
        },
    )


class EmbeddedPolicy:
    """Regorus in-process, compiled to an RVM program.

    Regorus' ``Program`` and ``Rvm`` are bound to the thread that made them (pyo3 "unsendable"): each
    thread keeps its own in its own ``_THREAD_VMS``, never on this object, so that when a bundle is swapped
    out the old VMs are dropped by the threads that made them, not by whichever thread collects the old
    policy (pyo3 refuses a drop on another thread). The policies are compiled once, here, and kept as the
    program's binary form (plain bytes, shared by every thread); a thread's first decision loads that
    (~1 ms) instead of compiling again (12–60 ms: the first request on each of gunicorn's threads was the
    light-load p99 of a consent change, docs/benchmarks.md "Latency at light load").
    """

    def __init__(self, bundle: PolicyBundle) -> None:
        self.bundle = bundle
        self._entry_points = [f"data.{pkg}.{DECISION_RULE}" for pkg in bundle.packages]
        self._data_json = json.dumps(bundle.data)
        self._token = next(_TOKENS)
        self._memo: dict[str, Any] = {}
        self._decided: dict[str, tuple[Decision, str]] = {}  # decide()'s memo: the decision and its input hash
        program = self._compile()  # now: a broken policy fails at start, not on the first request
        self._binary: bytes = program.serialize_binary()
        self._vm()  # and loaded back here: the process's first load pays regorus' one-off set-up, not a request

    @property
    def revision(self) -> str:
        return self.bundle.version

    def _vm(self) -> Any:
        vms: dict[int, tuple[Any, Any]] | None = getattr(_THREAD_VMS, "vms", None)
        if vms is None:
            vms = _THREAD_VMS.vms = {}
        compiled = vms.get(self._token)
        if compiled is None:
            program, partial = regorus.Program.deserialize_binary(self._binary)
            if partial:  # the binary form kept only the sources (another regorus build): compile them
                program = self._compile()
            vm = regorus.Rvm()
            vm.load_program(program)
            vm.set_data_json(self._data_json)  # the compiled program does not carry the data
            while len(vms) >= VMS_PER_THREAD:  # swapped-out revisions: dropped here, by their own thread
                del vms[min(vms)]
            compiled = vms[self._token] = (program, vm)
        return compiled[1]

    def _compile(self) -> Any:
        try:
            return regorus.Program.compile_from_modules(self._data_json, self.bundle.modules, self._entry_points)
        except RuntimeError as exc:  # regorus' parse and compile errors, with a Rust backtrace appended
            raise BundleError(f"policies do not compile: {str(exc).split('Stack backtrace')[0].strip()}") from exc

    def evaluate(self, package: str, input_: dict[str, Any]) -> Any:
        """The raw result of ``data.<package>.decision`` (also what the OPA Data API serves).

        Decisions are memoised per input: the bundle never changes within a process, so a decision is a
        pure function of its input. Fan-outs (one alert, many citizens alike) ask the same question often.
        """
        return self._evaluate(package, canonical_input(input_))

    def _evaluate(self, package: str, text: str) -> Any:
        key = f"{package}\0{text}"
        cached = self._memo.get(key)
        if cached is None:
            cached = self._memo[key] = self._run(package, text)
            if len(self._memo) > MEMO_SIZE:
                self._memo.clear()  # crude but bounded: a fresh start costs one evaluation per input
        return cached  # shared: callers treat decisions as read-only

    def evaluate_uncached(self, package: str, input_: dict[str, Any]) -> Any:
        """Always run the engine (benchmarks; the memo's first evaluation)."""
        return self._run(package, canonical_input(input_))

    def _run(self, package: str, text: str) -> Any:
        if package not in self.bundle.packages:
            raise PolicyUnavailableError(f"no policy package {package!r}")
        vm = self._vm()
        vm.set_input_json(text)
        return orjson.loads(vm.execute_entry_point(f"data.{package}.{DECISION_RULE}"))

    def decide(self, package: str, input_: dict[str, Any]) -> Decision:
        """The decision, logged with this bundle's revision; an input seen before costs the log line only."""
        text = canonical_input(input_)
        key = f"{package}\0{text}"
        known = self._decided.get(key)
        if known is None:
            known = self._decided[key] = (
                _to_decision(package, self._evaluate(package, text)),
                input_hash(input_, text),
            )
            if len(self._decided) > MEMO_SIZE:
                self._decided.clear()
        log_decision(package, known[0], input_, self.bundle.version, known[1])
        return known[0]


class BundleSource:
    """Where the signed bundle is published: an ``http(s)://`` URL or a file (``file://`` or a plain path).

    ``fetch`` answers the archive only when it changed since the last fetch: HTTP asks with
    ``If-None-Match`` (a 304 costs no download), a file is re-read when its size or mtime moves.
    """

    def __init__(self, location: str, timeout: float = 10.0) -> None:
        parsed = urlparse(location)
        self.location = location
        http = parsed.scheme in ("http", "https")
        self._http = ConditionalGet(location, bundles.MAX_BUNDLE_BYTES, timeout, "bundle") if http else None
        self._path = None if http else Path(parsed.path if parsed.scheme == "file" else location)
        self._seen: str | None = None  # size:mtime of the file
        self._digest: str | None = None  # SHA-256 of the last archive fetched

    def fetch(self) -> bytes | None:
        """The archive if it changed since the last call, else ``None``; ``OSError`` if unreachable.

        The same bytes again (a server without ETags, a file touched but not changed) count as unchanged.
        """
        archive = self._fetch_http() if self._http else self._fetch_file()
        if archive is None:
            return None
        digest = hashlib.sha256(archive).hexdigest()
        if digest == self._digest:
            return None
        self._digest = digest
        return archive

    def _fetch_file(self) -> bytes | None:
        assert self._path is not None
        stat = self._path.stat()
        seen = f"{stat.st_size}:{stat.st_mtime_ns}"
        if seen == self._seen:
            return None
        archive = self._path.read_bytes()
        self._seen = seen
        return archive

    def _fetch_http(self) -> bytes | None:
        assert self._http is not None
        return self._http.fetch()


class BundlePolicy:
    """The embedded engine serving the newest good revision of a signed bundle, swapped atomically.

    Requests read ``self._serving`` once per decision (one attribute read: a swap between two decisions
    is atomic, a decision never mixes two revisions). The watcher thread polls the source; a new revision
    is verified (signature, hashes), compiled and smoke-tested (every package answers a decision for an
    empty input) before it replaces the serving one. A refused bundle is logged and changes nothing.
    """

    def __init__(self, source: BundleSource, public_key_pem: bytes, poll_seconds: float = 30.0) -> None:
        self.source = source
        self._public_key = public_key_pem
        self._watcher = Watcher("policy-bundle", poll_seconds, lambda: self.refresh(), self._poll_failed)
        archive = source.fetch()
        if archive is None:
            raise BundleError(f"no bundle at {source.location}")
        self._serving = self._prepare(archive, required=[])  # no good bundle to fall back on: fail at start
        _log_bundle("policy bundle activated", self._serving.revision)

    @property
    def revision(self) -> str:
        return self._serving.revision

    @property
    def bundle(self) -> PolicyBundle:
        return self._serving.bundle

    def decide(self, package: str, input_: dict[str, Any]) -> Decision:
        return self._serving.decide(package, input_)

    def evaluate(self, package: str, input_: dict[str, Any]) -> Any:
        return self._serving.evaluate(package, input_)

    def evaluate_uncached(self, package: str, input_: dict[str, Any]) -> Any:
        return self._serving.evaluate_uncached(package, input_)

    def refresh(self) -> bool:
        """Fetch once; swap in a new good revision. True when the serving revision changed."""
        try:
            archive = self.source.fetch()
        except OSError as exc:
            _log_bundle("policy bundle source unreachable", self.revision, reason=str(exc), warn=True)
            return False
        if archive is None:
            return False
        try:
            candidate = self._prepare(archive, required=self._serving.bundle.packages)
        except BundleError as exc:
            _log_bundle("policy bundle refused", self.revision, reason=str(exc), warn=True)
            return False
        if candidate.revision == self.revision:
            return False
        previous, self._serving = self.revision, candidate
        _log_bundle("policy bundle activated", candidate.revision, previous=previous)
        return True

    def _prepare(self, archive: bytes, required: list[str]) -> EmbeddedPolicy:
        bundle = bundles.read(archive, self._public_key)
        if missing := sorted(set(required) - set(bundle.packages)):
            raise BundleError(f"revision {bundle.version} drops packages in use: {missing}")
        candidate = EmbeddedPolicy(bundle)  # compiles: BundleError if it does not
        for package in bundle.packages:
            try:
                result = candidate.evaluate_uncached(package, {})
            except (RuntimeError, ValueError) as exc:
                raise BundleError(f"revision {bundle.version}: {package} fails on an empty input: {exc}") from exc
            if not isinstance(result, dict) or "allow" not in result:
                raise BundleError(f"revision {bundle.version}: {package} gives no decision for an empty input")
        return candidate

    def start(self) -> None:
        """Poll the source every ``poll_seconds`` in a daemon thread (started per process, after any fork)."""
        self._watcher.start()

    def stop(self) -> None:
        self._watcher.stop()

    def _poll_failed(self, exc: Exception) -> None:
        _log_bundle("policy bundle poll failed", self.revision, reason=repr(exc), warn=True)


def _log_bundle(message: str, revision: str, *, warn: bool = False, **extra: str) -> None:
    log = get_logger().warning if warn else get_logger().info
    log(message, extra={"policy_bundle": {"revision": revision, **extra}})


class OpaRestPolicy:
    """A central or sidecar OPA, asked through ``opa-python-client`` (OPA's Data API)."""

    def __init__(self, url: str, timeout: float = 2.0) -> None:
        from opa_client import OpaClient

        parsed = urlparse(url)
        self._client = OpaClient(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or (443 if parsed.scheme == "https" else 8181),
            ssl=parsed.scheme == "https",
            timeout=timeout,
        )

    def decide(self, package: str, input_: dict[str, Any]) -> Decision:
        try:
            answer = self._client.query_rule(input_data=input_, package_path=package, rule_name=DECISION_RULE)
        except Exception as exc:  # the client raises its own hierarchy plus requests' errors
            raise PolicyUnavailableError(f"OPA did not answer for {package}: {exc}") from exc
        decision = _to_decision(package, answer.get("result"))
        log_decision(package, decision, input_, "opa")
        return decision


def authorize(policy: Policy, subject: dict[str, Any], action: str, citizen_id: str) -> Decision:
    """``policies/authz``: may ``subject`` do ``action`` on this citizen's record? ``ForbiddenError`` if not."""
    decision = policy.decide("authz", {"subject": subject, "action": action, "resource": {"citizen_id": citizen_id}})
    if not decision.allow:
        raise ForbiddenError("; ".join(decision.reasons) or f"{action} is not allowed")
    return decision


@lru_cache(maxsize=1)
def get_policy() -> Policy:
    """The adapter chosen by ``PIC_POLICY_ENGINE`` (``embedded`` or ``opa``), built once per process.

    Embedded with ``PIC_POLICY_BUNDLE_URL`` set (where deployed): the signed bundle, watched. Without it
    (``make run``, tests): the policies/ folder of this checkout.
    """
    settings = get_settings()
    if settings.policy_engine == "opa":
        return OpaRestPolicy(settings.opa_url)
    if settings.policy_bundle_url:
        assert settings.policy_bundle_public_key is not None  # the settings refuse a URL without it
        policy = BundlePolicy(
            BundleSource(settings.policy_bundle_url),
            settings.policy_bundle_public_key.encode(),
            settings.policy_bundle_poll_seconds,
        )
        policy.start()
        return policy
    return EmbeddedPolicy(PolicyBundle.load(settings.policies_dir))
