"""The verifier's HTTP reads (``trust.Fetch``): issuers' metadata and status lists, with ``requests``, bounded in
time and size, never following a redirect (a list is read at the URI the credential names, nowhere else)."""

from __future__ import annotations

import requests

from functions.verifier.trust import FetchError

TIMEOUT = (3.05, 5.0)  # seconds to connect, to read: a slow issuer makes a refusal, not a hung request
MAX_BYTES = 4 * 1024 * 1024  # a status list of 131,072 entries of 2 bits is 32 KiB before compression


class HttpFetch:
    """``trust.Fetch`` over one ``requests.Session`` (connections kept alive between verifications)."""

    def __init__(self, session: requests.Session | None = None) -> None:
        self._session = session or requests.Session()

    def __call__(self, url: str, accept: str) -> bytes:
        if not url.startswith(("https://", "http://")):
            raise FetchError(f"{url[:100]!r} is not an HTTP URL")
        try:
            with self._session.get(url, headers={"Accept": accept}, timeout=TIMEOUT, allow_redirects=False,
                                   stream=True) as answer:  # fmt: skip
                if answer.status_code != 200:
                    raise FetchError(f"GET {url} answered {answer.status_code}")
                body = answer.raw.read(MAX_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            raise FetchError(f"GET {url} failed: {type(exc).__name__}") from exc
        if len(body) > MAX_BYTES:
            raise FetchError(f"GET {url}: the answer is larger than {MAX_BYTES} bytes")
        return bytes(body)
