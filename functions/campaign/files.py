"""The campaign domain's object store: the columnar export and the snapshots, as files DuckDB reads.

Locally (``make run``, the tests) a directory, ``$PIC_DATA_DIR/campaign`` (``.pic-data/campaign``); deployed, an
S3 bucket (``PIC_CAMPAIGN_BUCKET``) mirrored in the pod's scratch directory: ``publish`` uploads a file written
locally, ``local`` downloads an object not yet here. Writes are atomic (``columnar.write_rows`` writes a temporary
file and renames it), so a reader never sees half a file.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _check(key: str) -> str:
    if key.startswith("/") or ".." in key.split("/"):
        raise ValueError(f"{key!r} is not an object key")
    return key


class LocalFiles:
    """A directory as the object store."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def local(self, key: str) -> Path:
        path = self.root / _check(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def publish(self, key: str, path: Any) -> None:
        target = self.local(key)
        if Path(path).resolve() != target.resolve():
            os.replace(path, target)

    def modified(self, key: str) -> datetime | None:
        path = self.root / _check(key)
        return datetime.fromtimestamp(path.stat().st_mtime, UTC) if path.exists() else None


class S3Files(LocalFiles):
    """An S3 bucket, with the pod's scratch directory as its cache (boto3, the function's own IAM role)."""

    def __init__(self, bucket: str, cache: Path) -> None:
        import boto3  # only deployed functions pay for it

        super().__init__(cache)
        self.bucket = bucket
        self.s3 = boto3.client("s3")

    def local(self, key: str) -> Path:
        path = super().local(key)
        remote = self.modified(key)
        here = datetime.fromtimestamp(path.stat().st_mtime, UTC) if path.exists() else None
        if remote is not None and (here is None or here < remote):
            self.s3.download_file(self.bucket, key, str(path))
        return path

    def publish(self, key: str, path: Any) -> None:
        self.s3.upload_file(str(path), self.bucket, _check(key))

    def modified(self, key: str) -> datetime | None:
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=_check(key))
        except self.s3.exceptions.ClientError:
            return None
        when: datetime = head["LastModified"]
        return when


def files_from_environment() -> LocalFiles:
    bucket = os.environ.get("PIC_CAMPAIGN_BUCKET")
    data = Path(os.environ.get("PIC_DATA_DIR", ".pic-data"))
    if bucket:
        return S3Files(bucket, Path(tempfile.gettempdir()) / "pic-campaign")
    return LocalFiles(data / "campaign")
