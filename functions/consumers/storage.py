"""The consumers' usage, read from the kernel's table ``consumers`` (``functions.core.quota.UsageItem``), which
every function writes when a consumer calls it: this domain only reads it, as ``pic-audit`` serves the kernel's
access log."""

from __future__ import annotations

from datetime import datetime

from functions.core import quota
from functions.core.consumers import HourUsage


class DynamoUsageReader:
    def hours(self, client_id: str, since: datetime, until: datetime) -> list[HourUsage]:
        return quota.usage(client_id, since, until)
