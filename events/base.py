"""What every event's data model shares, and the field types the channel API's bodies share with them."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict

WEB_URL_SCHEMES = ("http", "https")


class EventData(BaseModel):
    """Base of every event's ``data``: strict about unknown fields, so a typo is a schema error."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def check_web_url(value: str) -> str:
    """An absolute http(s) URL whose host and port parse, with no spaces or control characters.

    ``urlsplit`` raises on some hosts (``https://[x``: an unclosed IPv6 literal) and ``.port`` on a port out
    of range; checked once here, every later reader of the field (the allow-list, the HTTP client) can
    trust it. A ``ValueError`` here is a field error: 422 naming the field, or an invalid event.
    """
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ValueError("a URL has no spaces or control characters")
    try:
        parts = urlsplit(value)
        host, _ = parts.hostname, parts.port
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from None
    if parts.scheme.lower() not in WEB_URL_SCHEMES or not host:
        raise ValueError("an absolute http:// or https:// URL with a host")
    return value


WebUrl = Annotated[str, AfterValidator(check_web_url)]
