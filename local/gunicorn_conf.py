"""gunicorn settings of the local gateway: threads for I/O-bound functions, workers for the cores.

Process life (``local.lifeline``): the master runs under the lifeline wrapper (it dies with the supervisor);
each worker asks to die with the master (``post_fork``); and the master watches the supervisor too, a
second line that stops it gracefully should its parent change without the signal (``when_ready``).
"""

from __future__ import annotations

import os
import signal
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


def when_ready(server: Any) -> None:
    supervisor = int(os.environ.get("PIC_SUPERVISOR_PID", "0"))
    if supervisor:
        from local.lifeline import watch_parent

        watch_parent(supervisor, lambda: os.kill(server.pid, signal.SIGTERM))


def post_fork(server: Any, worker: Any) -> None:
    from local.lifeline import die_with_parent

    die_with_parent(server.pid)


def post_worker_init(worker: Any) -> None:
    from local.gateway import warm

    warm()
