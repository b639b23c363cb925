"""The one Policy port and its two adapters: the embedded Rego engine and OPA's REST API.

Every decision is logged (decision log) with the policy path, the outcome, the reasons, the bundle
version and a hash of the input, never the input itself: inputs carry personal data.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import regorus

from functions.core.errors import ForbiddenError, PolicyUnavailableError
from functions.core.logging import get_logger
from functions.core.settings import get_settings

DECISION_RULE = "decision"
MEMO_SIZE = 20_000


@dataclass(frozen=True)
class Decision:
    """A policy answer: allowed or not, and why."""

    allow: bool
    reasons: list[str]
    result: dict[str, Any] = field(default_factory=dict)


class Policy(Protocol):
    def decide(self, package: str, input_: dict[str, Any]) -> Decision: ...


def input_hash(input_: dict[str, Any]) -> str:
    """A stable hash of a policy input, for the decision log."""
    canonical = json.dumps(input_, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _to_decision(package: str, result: Any) -> Decision:
    if not isinstance(result, dict) or "allow" not in result:
        raise PolicyUnavailableError(f"policy {package} has no decision for this input")
    return Decision(allow=bool(result["allow"]), reasons=list(result.get("reasons", [])), result=result)


def log_decision(package: str, decision: Decision, input_: dict[str, Any], version: str) -> None:
    get_logger().info(
        "policy decision",
        extra={
            "decision_log": {
                "policy": package,
                "allow": decision.allow,
                "reasons": decision.reasons,
                "input_sha256": input_hash(input_),
                "bundle": version,
            }
        },
    )


@dataclass(frozen=True)
class PolicyBundle:
    """Rego modules and data under ``policies/``, in OPA's layout (data.json at its folder's path)."""

    modules: list[tuple[str, str]]
    data: dict[str, Any]
    packages: list[str]
    version: str

    @classmethod
    def load(cls, root: Path) -> PolicyBundle:
        modules = [
            (str(path.relative_to(root)), path.read_text(encoding="utf-8"))
            for path in sorted(root.rglob("*.rego"))
            if not path.name.endswith("_test.rego")
        ]
        data: dict[str, Any] = {}
        for path in sorted(root.rglob("data.json")):
            node = data
            for part in path.parent.relative_to(root).parts:
                node = node.setdefault(part, {})
            node.update(json.loads(path.read_text(encoding="utf-8")))
        packages = sorted({_package_of(text) for _, text in modules})
        digest = hashlib.sha256()
        for name, text in modules:
            digest.update(name.encode() + b"\0" + text.encode())
        digest.update(json.dumps(data, sort_keys=True).encode())
        return cls(modules=modules, data=data, packages=packages, version=digest.hexdigest()[:12])


def _package_of(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("package "):
            return line.split()[1]
    raise ValueError("a Rego module without a package line")


class EmbeddedPolicy:
    """Regorus in-process, compiled to an RVM program.

    Regorus' ``Program`` and ``Rvm`` are bound to the thread that made them (pyo3 "unsendable"), so
    each thread compiles its own once and keeps it for its life.
    """

    def __init__(self, bundle: PolicyBundle) -> None:
        self.bundle = bundle
        self._entry_points = [f"data.{pkg}.{DECISION_RULE}" for pkg in bundle.packages]
        self._data_json = json.dumps(bundle.data)
        self._local = threading.local()
        self._memo: dict[str, Any] = {}
        self._vm()  # compile now: a broken policy fails at start, not on the first request

    def _vm(self) -> Any:
        vm = getattr(self._local, "vm", None)
        if vm is None:
            program = regorus.Program.compile_from_modules(self._data_json, self.bundle.modules, self._entry_points)
            vm = regorus.Rvm()
            vm.load_program(program)
            vm.set_data_json(self._data_json)  # the compiled program does not carry the data
            self._local.program, self._local.vm = program, vm
        return vm

    def evaluate(self, package: str, input_: dict[str, Any]) -> Any:
        """The raw result of ``data.<package>.decision`` (also what the OPA Data API serves).

        Decisions are memoised per input: the bundle never changes within a process, so a decision is a
        pure function of its input. Fan-outs (one alert, many citizens alike) ask the same question often.
        """
        key = f"{package}\0{json.dumps(input_)}"  # key order as built: a different order only misses
        cached = self._memo.get(key)
        if cached is None:
            cached = self._memo[key] = self.evaluate_uncached(package, input_)
            if len(self._memo) > MEMO_SIZE:
                self._memo.clear()  # crude but bounded: a fresh start costs one evaluation per input
        return cached  # shared: callers treat decisions as read-only

    def evaluate_uncached(self, package: str, input_: dict[str, Any]) -> Any:
        """Always run the engine (benchmarks; the memo's first evaluation)."""
        if package not in self.bundle.packages:
            raise PolicyUnavailableError(f"no policy package {package!r}")
        vm = self._vm()
        vm.set_input_json(json.dumps(input_))
        return json.loads(vm.execute_entry_point(f"data.{package}.{DECISION_RULE}"))

    def decide(self, package: str, input_: dict[str, Any]) -> Decision:
        decision = _to_decision(package, self.evaluate(package, input_))
        log_decision(package, decision, input_, self.bundle.version)
        return decision


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
    """The adapter chosen by ``PIC_POLICY_ENGINE`` (``embedded`` or ``opa``), built once per process."""
    settings = get_settings()
    if settings.policy_engine == "opa":
        return OpaRestPolicy(settings.opa_url)
    return EmbeddedPolicy(PolicyBundle.load(settings.policies_dir))
