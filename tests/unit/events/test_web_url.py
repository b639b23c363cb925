"""URL fields parse defensively: a URL that ``urllib`` cannot take apart is a field error naming the field
(422 at the API, an invalid event on the bus), never an exception later in whoever reads it."""

from __future__ import annotations

import pydantic
import pytest

from events.base import check_web_url
from events.notification import NotificationRequested
from functions.notification.main import NotificationPost, PushEndpointPut
from functions.notification.service import callback_host_allowed

BROKEN = {
    "unclosed IPv6 literal": "https://[x",
    "IPv6 literal that is not one": "https://[zz::1]/cb",
    "port out of range": "https://cb.example.org:99999/x",
    "port that is not a number": "https://cb.example.org:http/x",
    "no host": "https:///path",
    "another scheme": "ftp://cb.example.org/x",
    "a space in the host": "https://cb example.org/x",
    "a newline": "https://cb.example.org/x\nHost: evil",
    "a NUL": "https://cb.example.org/\x00",
    "relative": "/callbacks/1",
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_url_is_a_value_error(case: str) -> None:
    with pytest.raises(ValueError):
        check_web_url(BROKEN[case])


@pytest.mark.parametrize(
    "url", ["https://cb.example.org/x?y=1", "http://[::1]:8080/cb", "https://CB.example.org:443", "http://10.0.0.1/a"]
)
def test_a_proper_url_is_kept_as_given(url: str) -> None:
    assert check_web_url(url) == url


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_notification_request_names_callback_url(case: str) -> None:
    # GIVEN a notification request through the API with a broken callback_url
    body = {"template": "t-1", "recipient": {"email": "ana@example.org"}, "callback_url": BROKEN[case]}

    # WHEN it is validated THEN the error names the field (the API answers 422 with it)
    with pytest.raises(pydantic.ValidationError) as caught:
        NotificationPost.model_validate(body)
    assert [e["loc"] for e in caught.value.errors()] == [("callback_url",)]


def test_a_notification_requested_event_names_callback_url() -> None:
    # GIVEN the same request by event WHEN its data is validated THEN the field is named (dead letter reason)
    data = {"template": "t-1", "recipient": {"email": "ana@example.org"}, "callback_url": "https://[x"}
    with pytest.raises(pydantic.ValidationError) as caught:
        NotificationRequested.model_validate(data)
    assert [e["loc"] for e in caught.value.errors()] == [("callback_url",)]


def test_the_allow_list_check_does_not_raise_on_what_it_cannot_parse() -> None:
    # GIVEN a URL stored before these checks existed WHEN the allow-list is asked THEN not allowed, no exception
    assert callback_host_allowed("https://[x", "cb.example.org") is False


@pytest.mark.parametrize("endpoint", ["https://[x/push", "https://push.example.org:0x1/d", "token with spaces"])
def test_a_push_endpoint_that_is_neither_a_url_nor_a_token_is_refused(endpoint: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        PushEndpointPut.model_validate({"endpoint": endpoint})
    assert [e["loc"] for e in caught.value.errors()] == [("endpoint",)]


@pytest.mark.parametrize("endpoint", ["https://push.example.org/d/abc", "fcm:APA91bH-x_y.z"])
def test_a_push_endpoint_url_or_device_token_is_accepted(endpoint: str) -> None:
    assert PushEndpointPut.model_validate({"endpoint": endpoint}).endpoint == endpoint
