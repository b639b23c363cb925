"""Contract: the one container image (Dockerfile) can run every workload the manifests declare.

Checked statically, since no container engine runs here (``make image`` builds where one does):
multi-stage with no build tools in the final stage, a pinned base, the non-root UID/GID the manifests
run as, and every ``FUNCTION_SOURCE`` and the relay module inside what the image copies. Then the
image's ``/app`` is laid out in a scratch directory from the Dockerfile's own COPY lines, and every
function is loaded from there alone, as functions-framework does in the container.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from tests.contract.test_manifests import _build as build_kustomization

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
K8S_DIR = REPO_ROOT / "infra" / "k8s"
IMAGE_NAME = "pic-functions"  # ghcr.io/madrid-pic/pic-functions, localhost:5001/pic-functions, ...
APP_DIR = PurePosixPath("/app")
KUSTOMIZATIONS = [
    "base",
    *sorted(f"overlays/{path.parent.name}" for path in (K8S_DIR / "overlays").glob("*/kustomization.yaml")),
]
BUILD_TOOLS = re.compile(
    r"\b(gcc|g\+\+|clang|cc|make|cmake|build-essential|python3?-dev|libc6?-dev|rustc|cargo)\b"
    r"|\b(apt-get|apt|apk|yum|dnf|microdnf)\b[^&;|]*\binstall\b"
    r"|\bpip3?\b[^&;|]*\binstall\b|\b-m\s+pip\b"
)


# --------------------------------------------------------------------------------------------------
# The Dockerfile, parsed
# --------------------------------------------------------------------------------------------------
@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def of(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def _logical_lines(text: str) -> list[str]:
    """Instructions with their continuation lines joined; comments and blank lines dropped."""
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # also inside a continuation, as Docker does
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        lines.append(current + line)
        current = ""
    if current:
        lines.append(current)
    return lines


@cache
def _stages() -> tuple[Stage, ...]:
    stages: list[Stage] = []
    for line in _logical_lines(DOCKERFILE.read_text(encoding="utf-8")):
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = [w for w in args.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif keyword == "ARG" and not stages:
            continue
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append((keyword, args))
    return tuple(stages)


def _final() -> Stage:
    return _stages()[-1]


def _exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def _env(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in stage.of("ENV"):
        for word in shlex.split(args):
            key, sep, value = word.partition("=")
            assert sep, f"use ENV key=value: {args}"
            env[key] = value
    return env


@dataclass(frozen=True)
class Copy:
    source: str  # relative to the build context
    dest: PurePosixPath


def _copies_from_context() -> list[Copy]:
    """COPY/ADD lines that take files from the build context (not --from another stage)."""
    copies = []
    for stage in _stages():
        for keyword, args in stage.instructions:
            if keyword not in ("COPY", "ADD"):
                continue
            words = shlex.split(args)
            if any(w.startswith("--from") for w in words):
                continue
            paths = [w for w in words if not w.startswith("--")]
            dest = PurePosixPath(paths[-1])
            for source in paths[:-1]:
                name = source.rstrip("/")
                target = (
                    dest / PurePosixPath(name).name if paths[-1].endswith("/") and not source.endswith("/") else dest
                )
                copies.append(Copy(name, target))
    return copies


def _in_image(relative: str) -> PurePosixPath | None:
    """Where repository file ``relative`` lands in the image, if the Dockerfile copies it."""
    for copy in _copies_from_context():
        if relative == copy.source:
            return copy.dest
        if relative.startswith(copy.source + "/"):
            return copy.dest / relative[len(copy.source) + 1 :]
    return None


# --------------------------------------------------------------------------------------------------
# The manifests, as kustomize renders them
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Workload:
    kustomization: str
    resource: str
    container: dict[str, Any]
    pod_security: dict[str, Any]

    @property
    def env(self) -> dict[str, str]:
        return {e["name"]: e["value"] for e in self.container.get("env", []) if "value" in e}

    def security(self, key: str) -> Any:
        return self.container.get("securityContext", {}).get(key, self.pod_security.get(key))


def _pod_spec(resource: dict[str, Any]) -> dict[str, Any] | None:
    spec = resource.get("spec") or {}
    if resource.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "Job") or (
        resource.get("kind") == "Service" and resource.get("apiVersion", "").startswith("serving.knative.dev/")
    ):
        return (spec.get("template") or {}).get("spec")
    return None


def _workloads() -> list[Workload]:
    """Every container that runs the functions image, in the base and every overlay."""
    found = []
    for kustomization in KUSTOMIZATIONS:
        for resource in build_kustomization(kustomization):
            pod = _pod_spec(resource)
            if not pod:
                continue
            for container in pod.get("containers", []):
                image = container.get("image", "")
                if image.rsplit("/", 1)[-1].split(":")[0].split("@")[0] == IMAGE_NAME:
                    name = f"{resource['kind']} {resource['metadata']['name']}"
                    found.append(Workload(kustomization, name, container, pod.get("securityContext") or {}))
    assert found, f"no container runs the {IMAGE_NAME} image in {KUSTOMIZATIONS}"
    return found


def _function_workloads() -> list[Workload]:
    return [w for w in _workloads() if "FUNCTION_SOURCE" in w.env]


def _module_workloads() -> list[tuple[Workload, str]]:
    """Workloads started with ``python -m <module>`` (the outbox relay)."""
    found = []
    for workload in _workloads():
        argv = [*workload.container.get("command", []), *workload.container.get("args", [])]
        if len(argv) >= 3 and PurePosixPath(argv[0]).name.startswith("python") and argv[1] == "-m":
            found.append((workload, argv[2]))
    return found


# --------------------------------------------------------------------------------------------------
# Build shape
# --------------------------------------------------------------------------------------------------
def test_multi_stage_with_a_builder_and_a_final_stage() -> None:
    stages = _stages()
    assert len(stages) >= 2, "build in one stage, run from another that only copies the result"
    assert _final().of("COPY"), "the final stage copies the build result"
    for args in _final().of("COPY"):
        assert "--from=" in args, f"the final stage copies only from the build stage, not the context: COPY {args}"


def test_base_images_are_pinned_and_the_same_python() -> None:
    stage_names = {s.name for s in _stages() if s.name}
    bases = [s.base for s in _stages() if s.base not in stage_names]
    assert bases
    for base in bases:
        assert "$" not in base, f"{base}: no build-arg in FROM, the pin must be visible"
        repository, _, tag = base.split("@")[0].rpartition(":")
        assert repository and tag and tag != "latest", f"{base}: pin a tag (and a digest), never latest"
        digest = base.partition("@")[2]
        assert re.fullmatch(r"\d+\.\d+\.\d+[\w.-]*", tag), f"{base}: pin the exact version (x.y.z)"
        assert not digest or re.fullmatch(r"sha256:[0-9a-f]{64}", digest), f"{base}: malformed digest"
    assert len(set(bases)) == 1, f"the venv is built and run on the same interpreter: {bases}"
    version = re.match(r"(\d+\.\d+)", bases[0].split(":")[1])
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert version and f'python_version = "{version.group(1)}"' in pyproject, "base Python = the tested Python"


def test_no_build_tools_and_no_installs_in_the_final_stage() -> None:
    for command in _final().of("RUN"):
        assert not BUILD_TOOLS.search(command), f"the final stage installs or builds: RUN {command}"


def test_builder_installs_the_runtime_requirements_as_wheels_and_precompiles() -> None:
    builder_runs = " ".join(run for stage in _stages()[:-1] for run in stage.of("RUN"))
    assert any(c.source == "requirements.txt" for c in _copies_from_context())
    assert re.search(r"pip\b.*install\b.*-r\s+\S*requirements\.txt", builder_runs), "venv from requirements.txt"
    assert "requirements-dev.txt" not in DOCKERFILE.read_text(encoding="utf-8"), "runtime dependencies only"
    assert "--only-binary=:all:" in builder_runs, "wheels only: nothing to compile, no compiler needed"
    assert "compileall" in builder_runs, "bytecode is compiled at build time (read-only root at run time)"


def test_runs_as_the_uid_and_gid_of_the_manifests() -> None:
    users = _final().of("USER")
    assert users, "the final stage sets USER"
    user = users[-1]
    assert re.fullmatch(r"\d+(:\d+)?", user), f"USER {user}: numeric, so runAsNonRoot can verify it"
    uid, _, gid = user.partition(":")
    assert int(uid) != 0 and (not gid or int(gid) != 0)
    for workload in _workloads():
        where = f"{workload.kustomization}: {workload.resource}"
        assert workload.security("runAsNonRoot") is True, f"{where}: runAsNonRoot"
        assert str(workload.security("runAsUser")) == uid, f"{where}: runAsUser != image USER {uid}"
        assert str(workload.security("runAsGroup")) == (gid or uid), f"{where}: runAsGroup != image group"


def test_environment_and_command_let_the_manifests_choose_the_function() -> None:
    env = _env(_final())
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1" and env.get("PYTHONUNBUFFERED") == "1"
    assert env.get("PORT") == "8080"
    assert env.get("PYTHONPATH") == str(APP_DIR), "FUNCTION_SOURCE modules import functions.*, events.*"
    assert "/opt/venv/bin" in env.get("PATH", "").split(":")[0], "the venv comes first on PATH"
    assert _final().of("WORKDIR")[-1] == str(APP_DIR), "relative FUNCTION_SOURCE paths resolve from /app"
    cmd = _exec_form(_final().of("CMD")[-1])
    assert PurePosixPath(cmd[0]).name == "functions-framework", cmd
    # flags would override FUNCTION_TARGET / FUNCTION_SOURCE / FUNCTION_SIGNATURE_TYPE / PORT
    assert not {"--target", "--source", "--signature-type", "--port"} & set(cmd), cmd
    assert not _final().of("ENTRYPOINT"), "an ENTRYPOINT would swallow the relay's `command`"
    requirements = (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^functions-framework==", requirements, re.MULTILINE)


def test_dockerignore_lets_every_copied_path_in() -> None:
    rules = [r.strip() for r in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()]
    rules = [r for r in rules if r and not r.startswith("#")]
    for copy in _copies_from_context():
        included = True
        for rule in rules:
            negated, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(copy.source, pattern) or copy.source.startswith(pattern + "/"):
                included = negated
        assert included, f".dockerignore excludes {copy.source}, which the Dockerfile copies"


# --------------------------------------------------------------------------------------------------
# Every workload of the manifests is in the image
# --------------------------------------------------------------------------------------------------
def test_every_function_source_is_copied_into_the_image() -> None:
    for workload in _function_workloads():
        source = workload.env["FUNCTION_SOURCE"]
        where = f"{workload.kustomization}: {workload.resource}"
        assert not source.startswith("/"), f"{where}: FUNCTION_SOURCE relative to /app, got {source}"
        assert (REPO_ROOT / source).is_file(), f"{where}: {source} is not in the repository"
        assert _in_image(source) == APP_DIR / source, f"{where}: the Dockerfile does not copy {source} to /app"


def test_the_relay_module_is_copied_into_the_image() -> None:
    modules = _module_workloads()
    assert any(module == "functions.core.relay" for _, module in modules), "the relay Deployment runs the image"
    for workload, module in modules:
        path = module.replace(".", "/") + ".py"
        assert (REPO_ROOT / path).is_file(), f"{workload.resource}: no {path}"
        assert _in_image(path) == APP_DIR / path, f"{workload.resource}: the Dockerfile does not copy {path}"


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The image's /app, laid out from the Dockerfile's COPY lines (and .dockerignore's exclusions)."""
    root = tmp_path_factory.mktemp("image") / "app"
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc", "*_test.rego", ".pytest_cache", ".mypy_cache")
    for copy in _copies_from_context():
        if not copy.dest.is_relative_to(APP_DIR):
            continue
        target = root / copy.dest.relative_to(APP_DIR)
        source = REPO_ROOT / copy.source
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignored)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return root


def _run_in_image_layout(app_dir: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIC_", "FUNCTION_"))}
    env.update(PYTHONPATH=str(app_dir), PYTHONDONTWRITEBYTECODE="1", AWS_REGION="eu-south-2")
    env.setdefault("AWS_ACCESS_KEY_ID", "test")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    # -P: the repository must not leak onto sys.path; only /app (PYTHONPATH) and the venv's packages
    return subprocess.run(
        [sys.executable, "-P", "-c", code], cwd=app_dir, env=env, capture_output=True, text=True, timeout=120
    )


def test_every_function_loads_from_the_image_contents_alone(app_dir: Path) -> None:
    # one interpreter loads them all, as many times faster as there are functions: every module comes from
    # the same /app, so one function's imports cannot make up for another's missing file
    keys = sorted(
        {
            (w.env["FUNCTION_SOURCE"], w.env["FUNCTION_TARGET"], w.env.get("FUNCTION_SIGNATURE_TYPE", "http"))
            for w in _function_workloads()
        }
    )
    code = (
        "import json, sys, traceback, functions_framework\n"
        f"assert not any(p.rstrip('/') == {str(REPO_ROOT)!r} for p in sys.path), sys.path\n"
        "failed, path = {}, list(sys.path)\n"
        f"for source, target, signature in {keys!r}:\n"
        "    sys.path[:] = path  # functions-framework appends each source's directory\n"
        "    try:\n"
        "        functions_framework.create_app(source=source, target=target, signature_type=signature)\n"
        "    except BaseException:\n"
        "        failed[f'{source}:{target}'] = traceback.format_exc()\n"
        "print(json.dumps(failed))\n"
    )
    result = _run_in_image_layout(app_dir, code)
    assert result.returncode == 0, f"the functions could not be loaded from the image:\n{result.stderr}"
    failed = json.loads(result.stdout.strip().splitlines()[-1])
    report = "\n".join(f"{key}:\n{trace}" for key, trace in failed.items())
    assert not failed, f"these functions do not load from the image:\n{report}"
    assert len(keys) > 1


def test_the_relay_imports_from_the_image_contents_alone(app_dir: Path) -> None:
    for module in sorted({module for _, module in _module_workloads()}):
        result = _run_in_image_layout(app_dir, f"import importlib; importlib.import_module({module!r})")
        assert result.returncode == 0, f"{module} does not import from the image:\n{result.stderr}"
