"""The domain error hierarchy, mapped once to RFC 9457 ``application/problem+json``.

Every problem ``type`` is a URI under ``/problems/`` documented in ``docs/problems.md``.
"""

from __future__ import annotations

from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"


class PicError(Exception):
    """Base of every error PIC answers on purpose; anything else is a 500."""

    status = 500
    slug = "internal"
    title = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = {**self.default_headers(), **(headers or {})}
        self.extra = extra

    def default_headers(self) -> dict[str, str]:
        """HTTP headers the status requires (RFC 9110), added to the problem response."""
        return {}

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """The RFC 9457 body of this error."""
        body: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class MalformedRequestError(PicError):
    status, slug, title = 400, "malformed-request", "The request could not be parsed"


class InvalidEventError(PicError):
    status, slug, title = 400, "invalid-event", "The CloudEvent is not valid"


class UnauthenticatedError(PicError):
    status, slug, title = 401, "unauthenticated", "A valid bearer token is required"

    def default_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="pic"'}  # RFC 9110 §15.5.2, RFC 6750 §3


class ForbiddenError(PicError):
    status, slug, title = 403, "forbidden", "The policy does not allow this"


class SenderNotAllowedError(ForbiddenError):
    """The broker's EventPolicies admit no such event from this sender (docs/decisions/0011)."""

    status, slug, title = 403, "sender-not-allowed", "This sender may not send this event"


class NotFoundError(PicError):
    status, slug, title = 404, "not-found", "No such resource"


class MicroAppOffError(NotFoundError):
    """A citizen called a route of a micro-app switched off for them (``functions/core/flags.py``)."""

    slug, title = "micro-app-off", "This micro-app is switched off"


class MethodNotAllowedError(PicError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed on this resource"


class ConflictError(PicError):
    status, slug, title = 409, "conflict", "The resource changed meanwhile"


class PayloadTooLargeError(PicError):
    status, slug, title = 413, "payload-too-large", "The request is too large"


class UriTooLongError(PicError):
    """Answered by the HTTP server itself (``functions.core.server_errors``): the request line is too long."""

    status, slug, title = 414, "uri-too-long", "The URI is too long"


class HeaderFieldsTooLargeError(PicError):
    """Answered by the HTTP server itself: too many header fields, or one too large."""

    status, slug, title = 431, "header-fields-too-large", "The request's header fields are too large"


class ExpectationFailedError(PicError):
    """Answered by the HTTP server itself: an ``Expect`` header it does not meet (only ``100-continue`` is)."""

    status, slug, title = 417, "expectation-failed", "The Expect header cannot be met"


class TransferCodingNotImplementedError(PicError):
    """Answered by the HTTP server itself: a ``Transfer-Encoding`` other than ``chunked``."""

    status, slug, title = 501, "transfer-coding-not-implemented", "The transfer coding is not implemented"


class LostRaceError(ConflictError):
    """A commit's condition failed because a concurrent change won (a version, an absence): nothing was
    written, and deciding again on what the winner wrote is the cure (``functions.core.retry``). A plain
    ``ConflictError`` raised by a handler ("not projected yet") is for the caller to retry later instead."""


class UnsupportedMediaTypeError(PicError):
    status, slug, title = 415, "unsupported-media-type", "Send application/json"


class ValidationError(PicError):
    status, slug, title = 422, "validation", "The request is not valid"


class IdempotencyKeyReusedError(PicError):
    status, slug, title = 422, "idempotency-key-reused", "Idempotency-Key reused with another body"


class PolicyUnavailableError(PicError):
    status, slug, title = 503, "policy-unavailable", "The policy engine did not answer"


class StoreUnsupportedError(PicError):
    """The configured DynamoDB-compatible store lacks an operation PIC needs (ADR 0005: Alternator has no
    ``TransactWriteItems``). Nothing was written; an operator must point PIC at a store that has it."""

    status, slug, title = 503, "store-unsupported", "The data store lacks an operation PIC needs"


def pydantic_errors(exc: Any) -> list[dict[str, Any]]:
    """Field errors of a pydantic ``ValidationError`` in the problem's ``errors`` member."""
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "message": err["msg"], "code": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def each_error(exc: Any) -> list[dict[str, Any]]:
    """``pydantic_errors``, with a model validator's problems (joined by "; ") one entry each: configuration as
    data (an area's cases, an IVR flow) is refused with every error named and where it is."""
    found = []
    for error in pydantic_errors(exc):
        message = str(error["message"]).removeprefix("Value error, ")
        found += [{**error, "message": part} for part in message.split("; ")]
    return found


CREDENTIAL_REFUSAL_REASONS = (
    "malformed",
    "alg-not-allowed",
    "unknown-key",
    "bad-signature",
    "wrong-type",
    "expired",
    "not-yet-valid",
    "disclosure-tampered",
    "key-binding-missing",
    "key-binding-invalid",
    "nonce-mismatch",
    "audience-mismatch",
    "revoked",
    "suspended",
    "status-unavailable",
    "wrong-card-type",
)


class CredentialRefusedError(PicError):
    """A verifiable credential (SD-JWT VC, its key binding, its status list) was refused
    (``functions.core.sdjwt``, ``jose``, ``statuslist``). ``reason`` is one slug of
    ``CREDENTIAL_REFUSAL_REASONS`` so a verifier can show and count refusals without parsing the detail."""

    status, slug, title = 422, "credential-refused", "The credential was refused"

    def __init__(self, reason: str, detail: str) -> None:
        if reason not in CREDENTIAL_REFUSAL_REASONS:
            raise ValueError(f"unknown credential refusal reason {reason!r}")
        super().__init__(detail, reason=reason)
        self.reason = reason
