"""Errors are data: each domain error maps to one RFC 9457 problem."""

from __future__ import annotations

import pydantic
import pytest
from pydantic import BaseModel, Field

from functions.consent.service import ConsentError, SubscriptionNotFoundError
from functions.core import errors
from functions.core.errors import PicError, pydantic_errors

EXPECTED = [
    (errors.MalformedRequestError, 400, "malformed-request"),
    (errors.InvalidEventError, 400, "invalid-event"),
    (errors.UnauthenticatedError, 401, "unauthenticated"),
    (errors.ForbiddenError, 403, "forbidden"),
    (errors.NotFoundError, 404, "not-found"),
    (errors.MethodNotAllowedError, 405, "method-not-allowed"),
    (errors.ConflictError, 409, "conflict"),
    (errors.PayloadTooLargeError, 413, "payload-too-large"),
    (errors.UnsupportedMediaTypeError, 415, "unsupported-media-type"),
    (errors.ValidationError, 422, "validation"),
    (errors.IdempotencyKeyReusedError, 422, "idempotency-key-reused"),
    (errors.PolicyUnavailableError, 503, "policy-unavailable"),
    (errors.StoreUnsupportedError, 503, "store-unsupported"),
    (PicError, 500, "internal"),
    (ConsentError, 422, "consent-invalid"),
    (SubscriptionNotFoundError, 404, "subscription-not-found"),
]


@pytest.mark.parametrize(("cls", "status", "slug"), EXPECTED, ids=[c.__name__ for c, _, _ in EXPECTED])
def test_each_error_class_is_one_problem_type_with_its_status(cls: type[PicError], status: int, slug: str) -> None:
    # WHEN the error is raised with a detail THEN its problem has the type, title, status and detail
    problem = cls("what went wrong").to_problem()
    assert problem == {"type": f"/problems/{slug}", "title": cls.title, "status": status, "detail": "what went wrong"}


def test_problem_types_are_unique() -> None:
    slugs = [slug for _, _, slug in EXPECTED]
    assert len(slugs) == len(set(slugs))


def test_a_problem_carries_the_instance_the_field_errors_and_extra_members() -> None:
    # GIVEN a validation error with field errors and an extension member
    err = errors.ValidationError("bad body", errors=[{"field": "purpose", "message": "unknown"}], retry_after=3)
    # WHEN it becomes a problem for an instance
    problem = err.to_problem("/v1/citizens/c-1/consents/x")
    # THEN every member is there
    assert problem["instance"] == "/v1/citizens/c-1/consents/x"
    assert problem["errors"] == [{"field": "purpose", "message": "unknown"}]
    assert problem["retry_after"] == 3
    assert str(err) == "bad body" and err.detail == "bad body"


def test_empty_members_are_left_out() -> None:
    problem = errors.NotFoundError("nothing", errors=[]).to_problem(instance=None)
    assert "instance" not in problem and "errors" not in problem


def test_every_pic_error_is_an_exception_a_handler_can_catch_at_the_base() -> None:
    for cls, _, _ in EXPECTED:
        assert issubclass(cls, PicError) and issubclass(cls, Exception)


class _Body(BaseModel):
    purpose: str
    channels: list[int] = Field(default_factory=list)


def test_pydantic_errors_name_the_field_the_message_and_the_code() -> None:
    # GIVEN a body missing a field and with a bad list item
    with pytest.raises(pydantic.ValidationError) as exc:
        _Body.model_validate({"channels": [1, "x"]})
    # THEN each error names its dotted field path, pydantic's message and its code, and no input
    found = pydantic_errors(exc.value)
    assert {e["field"] for e in found} == {"purpose", "channels.1"}
    for entry in found:
        assert set(entry) == {"field", "message", "code"}
    assert {e["code"] for e in found} == {"missing", "int_parsing"}


def test_a_pydantic_error_on_the_whole_body_names_the_body() -> None:
    with pytest.raises(pydantic.ValidationError) as exc:
        pydantic.TypeAdapter(int).validate_python("not a number")
    assert pydantic_errors(exc.value)[0]["field"] == "(body)"
