"""Internal systems as API consumers: the registry of OAuth 2.0 clients, their quotas, and the usage counters.

Each internal system that calls the API is one client of the client-credentials grant (RFC 6749 §4.4), declared
as data in ``functions/core/data/consumers.json`` (id, system, owner, scopes, quota; never a secret). Its tokens
carry ``client_id`` and ``scope``: ``functions.core.auth`` reads them into the ``Subject``, ``policies/authz``
refuses an action its scopes do not list, and this module counts its requests.

The quota is a fixed window (``window_seconds``, a divisor of an hour) enforced across every process and function
by ONE conditional ``UpdateItem`` per request on table ``consumers``: the item of the client's hour holds one
counter per window (``w<n>``) and the hour's totals, so the same write that admits a request records its usage.
The condition ``attribute_not_exists(w<n>) OR w<n> < limit`` is decided by the store, item by item, so N requests
racing at the limit admit exactly the quota, whatever the number of processes. Over it: 429 ``quota-exceeded``
with ``Retry-After`` (RFC 6585 §4, RFC 9110 §10.2.3) and the ``RateLimit``/``RateLimit-Policy`` fields of
draft-ietf-httpapi-ratelimit-headers-10; the refusal is counted (one more ``UpdateItem``). A caller without a
client id (a person, a workload token minted by ``/dev/token``) costs nothing here.
docs/decisions/0035-api-consumers-client-credentials-quotas.md.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from functions.core.consumers import HOUR, Consumer, HourUsage, Quota, registry
from functions.core.errors import PicError
from functions.core.store import StoreModel, defines_table, model_meta

USAGE_DAYS = 90  # the hourly rows expire after this (TTL): usage, not evidence; no person's data in them
Counter = Literal["forbidden", "over_quota"]


class QuotaExceededError(PicError):
    """The consumer used its quota for this window: 429 with ``Retry-After`` (RFC 6585 §4)."""

    status, slug, title = 429, "quota-exceeded", "The consumer is over its quota"


class QuotaUnavailableError(PicError):
    """The quota's counter could not be written: nothing was done (never admitted without counting)."""

    status, slug, title = 503, "quota-unavailable", "The quota could not be checked"

    def default_headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


@defines_table
class UsageItem(StoreModel):
    """A consumer's hour: ``client_id`` + ``YYYY-MM-DDTHH`` (UTC). ``admitted``, ``over_quota`` (429) and
    ``forbidden`` (403: a scope or the policy) are the hour's totals; ``w<n>`` (not declared: one per window
    of the hour) counts what window ``n`` admitted, the quota's condition. Expires after ``USAGE_DAYS``."""

    Meta = model_meta("consumers")

    client_id = UnicodeAttribute(hash_key=True)
    hour = UnicodeAttribute(range_key=True)
    admitted = NumberAttribute(default=0)
    over_quota = NumberAttribute(default=0)
    forbidden = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


@dataclass(frozen=True)
class Window:
    """Where an instant falls: the client's hour item, the window's counter, and when the window ends."""

    hour: str
    counter: str
    ends_at: float

    @classmethod
    def at(cls, now: float, window_seconds: int) -> Window:
        start_of_hour = now - now % HOUR
        index = int(now % HOUR) // window_seconds
        hour = datetime.fromtimestamp(start_of_hour, UTC).strftime("%Y-%m-%dT%H")
        return cls(hour, f"w{index}", start_of_hour + (index + 1) * window_seconds)

    def seconds_left(self, now: float) -> int:
        """Whole seconds until the next window (at least 1): the ``Retry-After`` and the ``t`` of ``RateLimit``."""
        return max(1, math.ceil(self.ends_at - now))


@dataclass(frozen=True)
class Admitted:
    """What the quota says of an admitted request: the ``RateLimit`` fields of the response."""

    quota: Quota
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return rate_headers(self.quota, self.remaining, self.reset_seconds)


def rate_headers(quota: Quota, remaining: int, reset_seconds: int) -> dict[str, str]:
    """draft-ietf-httpapi-ratelimit-headers-10: the policy (quota ``q`` per window ``w``) and what is left
    (``r`` requests for ``t`` seconds)."""
    return {
        "RateLimit-Policy": f'"quota";q={quota.requests};w={quota.window_seconds}',
        "RateLimit": f'"quota";r={max(0, remaining)};t={reset_seconds}',
    }


class QuotaCounter:
    """The conditional counter on table ``consumers``; ``client`` is a botocore DynamoDB client."""

    def __init__(
        self,
        client: Any,
        table: str,
        consumers: Callable[[], dict[str, Consumer]] = registry,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._table = table
        self._consumers = consumers
        self._now = now

    def consumer(self, client_id: str) -> Consumer | None:
        return self._consumers().get(client_id)

    def admit(self, consumer: Consumer) -> Admitted:
        """Count one request of ``consumer`` in its window, or raise ``QuotaExceededError`` (the refusal counted)."""
        now = self._now()
        window = Window.at(now, consumer.quota.window_seconds)
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key=self._key(consumer.client_id, window.hour),
                UpdateExpression="ADD #w :one, admitted :one SET expires_at = if_not_exists(expires_at, :exp)",
                ConditionExpression="attribute_not_exists(#w) OR #w < :limit",
                ExpressionAttributeNames={"#w": window.counter},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(consumer.quota.requests)},
                    ":exp": {"N": str(self._expiry(now))},
                },
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise QuotaUnavailableError(f"the usage counter could not be written ({_code(exc)})") from exc
            self.record(consumer.client_id, "over_quota")
            left = window.seconds_left(now)
            raise QuotaExceededError(
                f"client {consumer.client_id} used its {consumer.quota.requests} requests of this "
                f"{consumer.quota.window_seconds}-second window; retry after {left} s",
                headers={"Retry-After": str(left), **rate_headers(consumer.quota, 0, left)},
                client_id=consumer.client_id,
                quota={"requests": consumer.quota.requests, "window_seconds": consumer.quota.window_seconds},
                retry_after=left,
            ) from exc
        except BotoCoreError as exc:
            raise QuotaUnavailableError(f"the usage counter could not be written ({type(exc).__name__})") from exc
        used = int(answer.get("Attributes", {}).get(window.counter, {}).get("N", consumer.quota.requests))
        return Admitted(consumer.quota, consumer.quota.requests - used, window.seconds_left(now))

    def record(self, client_id: str, counter: Counter) -> None:
        """Count a refusal in the client's hour (best effort: a refusal is answered even if it cannot be counted)."""
        now = self._now()
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(client_id, Window.at(now, HOUR).hour),
                UpdateExpression="ADD #c :one SET expires_at = if_not_exists(expires_at, :exp)",
                ExpressionAttributeNames={"#c": counter},
                ExpressionAttributeValues={":one": {"N": "1"}, ":exp": {"N": str(self._expiry(now))}},
            )
        except (ClientError, BotoCoreError):
            from functions.core.logging import get_logger

            get_logger().warning("a consumer's refusal was not counted", extra={"client_id": client_id})

    @staticmethod
    def _key(client_id: str, hour: str) -> dict[str, Any]:
        return {"client_id": {"S": client_id}, "hour": {"S": hour}}

    @staticmethod
    def _expiry(now: float) -> int:
        return int(now) + USAGE_DAYS * 86400


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "error"))


@lru_cache(maxsize=1)
def counter() -> QuotaCounter:
    """The process's counter, on the models' shared botocore client (counted as a store call)."""
    connection = UsageItem._get_connection()
    return QuotaCounter(connection.connection.client, str(UsageItem.Meta.table_name))


def usage(client_id: str, since: datetime, until: datetime) -> list[HourUsage]:
    """The client's hours from ``since`` to ``until`` (UTC), oldest first: one Query."""
    first, last = since.strftime("%Y-%m-%dT%H"), until.strftime("%Y-%m-%dT%H")
    return [
        HourUsage(item.hour, int(item.admitted or 0), int(item.over_quota or 0), int(item.forbidden or 0))
        for item in UsageItem.query(client_id, UsageItem.hour.between(first, last))
    ]


def hours_back(until: datetime, days: int) -> datetime:
    """The first hour of a span of ``days`` days ending at ``until``'s hour."""
    return until.replace(minute=0, second=0, microsecond=0) - timedelta(hours=24 * days - 1)
