"""A local PostgreSQL standing in for the Licencias system's database: ``make run``'s change-data-capture example.

Debian's PostgreSQL server binaries (``postgres``, ``initdb``: package ``postgresql-15``, which
``scripts/bootstrap.sh`` installs) run a cluster under the data directory (``<data>/postgres``) on a free port,
TCP on 127.0.0.1 only (no Unix socket), ``wal_level=logical``, password (SCRAM) authentication. It dies with
the supervisor like every part (ADR 0014). Without the binaries ``make run`` says so and runs without it.

PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` account (or ``nobody``), and when
that account cannot reach the data directory (a test's private temporary directory) the cluster lives in a
directory of its own under the system's temporary directory, removed when the platform stops.

The sample (``SCHEMA``) is what Licencias' DBA would set up for PIC (functions/cdc/README.md, "What the source's
DBA grants"): the application's role ``licencias`` owns the tables and the publication ``pic_cdc``; PIC's role
``pic_cdc`` may log in, has ``REPLICATION`` and reads the two tables, nothing else. Credentials are generated per
data directory into ``<data>/cdc/postgres.json`` (0600); ``GET /dev/cdc`` shows the application's connection
string, so a walk-through can write to "Licencias" with psql.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from local import lifeline

DATABASE = "licencias"
APP_ROLE = "licencias"
CDC_ROLE = "pic_cdc"
PUBLICATION = "pic_cdc"
SLOT = "pic_licencias"
STATE = "cdc"  # <data>/cdc: credentials, port, the capture's status

SCHEMA = f"""
CREATE SCHEMA IF NOT EXISTS licencias AUTHORIZATION {APP_ROLE};
SET ROLE {APP_ROLE};
CREATE TABLE IF NOT EXISTS licencias.titulares (
    id text PRIMARY KEY,
    tipo_documento text,
    numero_documento text,
    nombre text, apellido1 text, apellido2 text,
    fecha_nacimiento date,
    email text, telefono text,
    via text, numero text, codigo_postal text, distrito text,
    modificado timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS licencias.expedientes (
    id text PRIMARY KEY,
    titular_id text NOT NULL REFERENCES licencias.titulares (id),
    tipo text NOT NULL,
    descripcion text NOT NULL,
    estado text NOT NULL,
    emplazamiento text,
    fecha_solicitud date,
    vigencia date,
    tasa_eur numeric(12, 2),
    modificado timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE licencias.expedientes REPLICA IDENTITY FULL;
RESET ROLE;
"""
GRANTS = f"""
GRANT USAGE ON SCHEMA licencias TO {CDC_ROLE};
GRANT SELECT ON licencias.titulares, licencias.expedientes TO {CDC_ROLE};
"""
PUBLISH = f"""
SET ROLE {APP_ROLE};
CREATE PUBLICATION {PUBLICATION} FOR TABLE licencias.titulares, licencias.expedientes;
RESET ROLE;
"""
# A few holders and files (names invented; documents with valid check letters; one company, whose CIF is no
# person's document: its record fails citizen.record.upserted and is dead-lettered with the reason)
SAMPLE = """
INSERT INTO licencias.titulares (id, tipo_documento, numero_documento, nombre, apellido1, apellido2,
    fecha_nacimiento, email, via, numero, codigo_postal, distrito) VALUES
 ('LT-000001', 'DNI', '51234567W', 'Carmen', 'Ruiz', 'Gallego', '1971-04-12', 'carmen.ruiz@example.org',
  'Calle de Toledo', '41', '28005', '01'),
 ('LT-000002', 'NIE', 'X1234567L', 'Andrei', 'Popescu', NULL, '1985-09-30', NULL, 'Calle de Alcalá', '210',
  '28028', '04'),
 ('LT-000003', 'CIF', 'B12345674', 'Cafetería La Esquina SL', NULL, NULL, NULL, NULL, 'Calle Mayor', '3',
  '28013', '01');
INSERT INTO licencias.expedientes (id, titular_id, tipo, descripcion, estado, emplazamiento, fecha_solicitud,
    vigencia, tasa_eur) VALUES
 ('711/2026/00101', 'LT-000001', 'obra-menor', 'Reforma de cocina y baño', 'concedida', 'Calle de Toledo 41, 3º B',
  '2026-02-03', '2027-02-03', 187.40),
 ('711/2026/00117', 'LT-000002', 'declaracion-responsable', 'Sustitución de ventanas', 'en-tramite',
  'Calle de Alcalá 210, 1º A', '2026-03-10', NULL, 96.00),
 ('500/2026/00042', 'LT-000003', 'actividad', 'Cafetería con terraza', 'en-tramite', 'Calle Mayor 3',
  '2026-01-20', NULL, 1250.00);
"""


def binaries() -> Path | None:
    """The directory of ``postgres`` and ``initdb``: on the PATH, or Debian's newest /usr/lib/postgresql/<v>/bin."""
    found = shutil.which("postgres")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    return versions[-1].parent if versions and (versions[-1].parent / "initdb").exists() else None


def missing_reason() -> str | None:
    if binaries() is None:
        return ("PostgreSQL's server is not installed (no postgres/initdb on the PATH or in /usr/lib/postgresql):"
                " run scripts/bootstrap.sh (apt package postgresql-15)")  # fmt: skip
    return None


def _run_as() -> pwd.struct_passwd | None:
    """The account the server runs as: ourselves, unless we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise SystemExit("PostgreSQL cannot run as root and there is no postgres or nobody account to run it as")


def _reachable(path: Path, account: pwd.struct_passwd) -> bool:
    """Whether ``account`` (not root) can reach ``path``: every directory above it searchable by others."""
    return all(not parent.exists() or parent.stat().st_mode & 0o001 for parent in [path, *path.parents])


def state_dir(data_dir: Path) -> Path:
    return data_dir / STATE


def credentials(data_dir: Path) -> dict[str, Any]:
    path = state_dir(data_dir) / "postgres.json"
    if path.exists():
        return dict(json.loads(path.read_text(encoding="utf-8")))
    creds = {role: secrets.token_urlsafe(18) for role in ("postgres", APP_ROLE, CDC_ROLE)}
    _write_private(path, creds)
    return creds


def _write_private(path: Path, content: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(content, handle)
    path.with_suffix(".tmp").replace(path)


def cluster_dir(data_dir: Path) -> tuple[Path, bool]:
    """Where the cluster lives, and whether it is a temporary directory of its own (removed at stop)."""
    account = _run_as()
    wanted = data_dir.resolve() / "postgres"
    if account is None or _reachable(data_dir.resolve(), account):
        return wanted, False
    digest = hashlib.sha256(str(wanted).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"pic-postgres-{digest}", True


def prepare(data_dir: Path) -> Path:
    """``initdb`` the cluster once (a superuser ``postgres`` with a generated password)."""
    bindir = binaries()
    if bindir is None:
        raise SystemExit(missing_reason())
    cluster, _ = cluster_dir(data_dir)
    if (cluster / "PG_VERSION").exists():
        return cluster
    account = _run_as()
    cluster.mkdir(parents=True, exist_ok=True, mode=0o700)
    pwfile = cluster.parent / f".{cluster.name}.pw"
    pwfile.write_text(credentials(data_dir)["postgres"], encoding="utf-8")
    if account is not None:
        os.chown(cluster, account.pw_uid, account.pw_gid)
        os.chown(pwfile, account.pw_uid, account.pw_gid)
    try:
        initdb = [str(bindir / "initdb"), "-D", str(cluster), "-U", "postgres", "--pwfile", str(pwfile),
                  "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync"]  # fmt: skip
        as_account: dict[str, Any] = (
            {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []} if account else {}
        )
        subprocess.run(initdb, check=True, capture_output=True, **as_account)
    finally:
        pwfile.unlink(missing_ok=True)
    return cluster


def start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """Start the server on ``port`` (it dies with this process, whatever kills it)."""
    bindir = binaries()
    assert bindir is not None
    cluster = prepare(data_dir)
    account = _run_as()
    log = (state_dir(data_dir) / "postgres.log").open("ab")
    settings = {
        "listen_addresses": "127.0.0.1", "port": str(port), "unix_socket_directories": "", "wal_level": "logical",
        "max_replication_slots": "4", "max_wal_senders": "4", "fsync": "off",
        "full_page_writes": "off", "shared_buffers": "32MB", "max_connections": "30", "log_min_messages": "fatal",
    }  # fmt: skip
    argv = [str(bindir / "postgres"), "-D", str(cluster), *(f"-c{k}={v}" for k, v in settings.items())]
    lifeline.require_main_thread()
    if account is None:
        process = subprocess.Popen(lifeline.command(argv), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    else:  # as the server's account: the death signal is asked for after the switch (a switch would clear it), and
        # the lifeline wrapper cannot be used (that account may not read this Python)
        parent = os.getpid()
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, user=account.pw_uid,
            group=account.pw_gid, extra_groups=[], preexec_fn=lambda: lifeline.die_with_parent(parent),
        )  # fmt: skip
    creds = credentials(data_dir)
    _write_private(state_dir(data_dir) / "postgres.json", {**creds, "port": port, "cluster": str(cluster)})
    return process


def dsn(data_dir: Path, role: str, database: str = DATABASE) -> str:
    creds = credentials(data_dir)
    return f"postgresql://{role}:{creds[role]}@127.0.0.1:{creds['port']}/{database}"


def wait_ready(data_dir: Path, timeout: float = 30.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(dsn(data_dir, "postgres", "postgres"), connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def load_sample(data_dir: Path) -> None:
    """Licencias' database as its DBA would leave it for PIC, once: roles, schema, grants, publication, rows."""
    import psycopg

    creds = credentials(data_dir)
    with psycopg.connect(dsn(data_dir, "postgres", "postgres"), autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            return
        admin.execute(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{creds[APP_ROLE]}'")  # generated, url-safe
        admin.execute(f"CREATE ROLE {CDC_ROLE} LOGIN REPLICATION PASSWORD '{creds[CDC_ROLE]}'")
        admin.execute(f"CREATE DATABASE {DATABASE} OWNER {APP_ROLE}")
    with psycopg.connect(dsn(data_dir, "postgres"), autocommit=True) as db:
        db.execute(SCHEMA)
        db.execute(GRANTS)
        db.execute(PUBLISH)
    with psycopg.connect(dsn(data_dir, APP_ROLE), autocommit=True) as app:
        app.execute(SAMPLE)


def stop(process: subprocess.Popen[bytes], data_dir: Path) -> None:
    """A fast shutdown (SIGINT: sessions ended, not waited for), then the cluster's temporary directory if any."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    remove_if_temporary(data_dir)


def remove_if_temporary(data_dir: Path) -> None:
    """After the server stopped: the cluster's own temporary directory (as root, in a test) goes with it."""
    cluster, temporary = cluster_dir(data_dir)
    if temporary:
        shutil.rmtree(cluster, ignore_errors=True)


def status(data_dir: Path) -> dict[str, Any]:
    """``GET /dev/cdc``: where Licencias' database answers (its application's connection string) and the capture's
    state, counters and lag; or why the example is not running."""
    state = state_dir(data_dir)
    if not (state / "postgres.json").exists():
        return {"state": "off", "reason": missing_reason() or "make run started without the capture (--no-cdc)"}
    found: dict[str, Any] = {"state": "starting"}
    with contextlib.suppress(OSError, ValueError):
        found = json.loads((state / "status.json").read_text(encoding="utf-8"))
    return {**found, "database": dsn(data_dir, APP_ROLE), "slot": SLOT, "publication": PUBLICATION}
