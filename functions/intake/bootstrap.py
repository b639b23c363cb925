"""The intake's real adapters, built once per process: DynamoDB (``storage.DynamoIntakeStore``), the broker at
``K_SINK`` with the sender tokens (``PIC_SENDER_TOKEN_FILE``: the one system a pod runs as; else the directory
``PIC_INTAKE_TOKEN_DIR`` of ``<account>.token`` files) and the system clock; the inbox (``PIC_INTAKE_INBOX``, a
directory, or ``PIC_INTAKE_BUCKET``, an S3 bucket). Tests build ``job.IntakePorts`` with fakes instead."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from functions.core.clock import SYSTEM_CLOCK
from functions.intake.inbox import Inbox, LocalInbox, S3Inbox
from functions.intake.job import IntakePorts
from functions.intake.publish import BrokerPublisher, TokenDirectory
from functions.intake.storage import DynamoIntakeStore


@lru_cache(maxsize=1)
def ports() -> IntakePorts:
    single = os.environ.get("PIC_SENDER_TOKEN_FILE")
    tokens = TokenDirectory(Path(os.environ.get("PIC_INTAKE_TOKEN_DIR", ".")), Path(single) if single else None)
    publisher = BrokerPublisher(os.environ.get("K_SINK", "http://127.0.0.1:8080/events"), tokens)
    return IntakePorts(store=DynamoIntakeStore(), publisher=publisher, clock=SYSTEM_CLOCK)


@lru_cache(maxsize=1)
def inbox() -> Inbox:
    bucket = os.environ.get("PIC_INTAKE_BUCKET")
    if bucket:
        return S3Inbox(bucket)
    return LocalInbox(Path(os.environ.get("PIC_INTAKE_INBOX", ".pic-data/inbox")))
