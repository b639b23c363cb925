"""The lake's pseudonymisation key and where its tables live.

- Deployed: the key is a Secrets Manager secret (``PIC_LAKE_KEY_SECRET``, its ARN; encrypted under the lake's
  KMS key, read by the lake's IAM roles only), 32 random bytes base64-encoded; the tables are in the S3 bucket
  ``PIC_LAKE_BUCKET`` under ``lake/``.
- Locally (``make run``, the tests): ``$PIC_DATA_DIR/lake/pseudonym.key``, made on first use (32 bytes from the
  OS's CSPRNG, mode 0600); the tables under ``$PIC_DATA_DIR/lake``.

Rotating the key changes every pseudonym: the tables written before no longer join with those after. A rotation
is therefore a new export (the old tables archived or deleted), never a silent change (ADR 0036).
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import tempfile
from pathlib import Path

KEY_BYTES = 32


def data_dir() -> Path:
    return Path(os.environ.get("PIC_DATA_DIR", ".pic-data")).resolve()


def location() -> str:
    bucket = os.environ.get("PIC_LAKE_BUCKET")
    return f"s3://{bucket}/lake" if bucket else str(data_dir() / "lake")


def storage_options() -> dict[str, str] | None:
    """S3's conditional writes (If-None-Match) make each Delta commit atomic without a lock table."""
    if os.environ.get("PIC_LAKE_BUCKET"):
        return {"conditional_put": "etag", "AWS_REGION": os.environ.get("AWS_REGION", "eu-south-2")}
    return None


def pseudonym_key() -> bytes:
    secret = os.environ.get("PIC_LAKE_KEY_SECRET")
    if secret:
        import boto3  # only deployed functions pay for it

        value = boto3.client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"]
        return base64.b64decode(value)
    return local_key(data_dir() / "lake" / "pseudonym.key")


def local_key(path: Path) -> bytes:
    """The key in ``path``, made once: written to a temporary file and linked into place, so two processes
    starting together agree on one key (the second link fails and reads the first's)."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        os.write(fd, secrets.token_bytes(KEY_BYTES))
        os.close(fd)
        os.chmod(temp, 0o600)
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        os.unlink(temp)
    return path.read_bytes()
