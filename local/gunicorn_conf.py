"""gunicorn settings of the local gateway: threads for I/O-bound functions, workers for the cores."""

from __future__ import annotations

import os
from typing import Any

bind = f"127.0.0.1:{os.environ.get('PIC_PORT', '8080')}"
workers = int(os.environ.get("PIC_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("PIC_THREADS", "16"))
timeout = 60
graceful_timeout = 5
keepalive = 30
accesslog = os.environ.get("PIC_ACCESS_LOG") or None
errorlog = "-"
loglevel = "warning"


def post_worker_init(worker: Any) -> None:
    from local.gateway import warm

    warm()
