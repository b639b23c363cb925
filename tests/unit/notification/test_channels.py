"""Unit: the AWS channel adapters (SES, SNS) against botocore's Stubber — what they send, and how provider
errors map to temporary or permanent failures. SMTP, SMS-over-HTTP, push and the inbox are exercised
through the real local providers in tests/functional."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from functions.core.store import UnitOfWork
from functions.notification.channels import DeliveryFailed, Outbound, SesEmail, SnsSms

MESSAGE = Outbound("ntf-1", "email", "ines@example.org", "Asunto", "Cuerpo", "es", datetime(2026, 3, 3, tzinfo=UTC))


def client(service: str) -> object:
    return boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_ses_sends_subject_body_and_a_tag_with_the_notification_id() -> None:
    ses = client("sesv2")
    with Stubber(ses) as stub:
        stub.add_response(
            "send_email",
            {"MessageId": "ses-1"},
            {
                "FromEmailAddress": "avisos@pic.madrid.es",
                "Destination": {"ToAddresses": ["ines@example.org"]},
                "Content": {
                    "Simple": {
                        "Subject": {"Data": "Asunto", "Charset": "UTF-8"},
                        "Body": {"Text": {"Data": "Cuerpo", "Charset": "UTF-8"}},
                    }
                },
                "EmailTags": [{"Name": "notification", "Value": "ntf-1"}],
            },
        )
        assert SesEmail("avisos@pic.madrid.es", ses).send(MESSAGE, UnitOfWork()) == "ses-1"


@pytest.mark.parametrize(("code", "permanent"), [("TooManyRequestsException", False), ("MessageRejected", True)])
def test_ses_errors_are_temporary_or_permanent(code: str, permanent: bool) -> None:
    ses = client("sesv2")
    with Stubber(ses) as stub:
        stub.add_client_error("send_email", service_error_code=code, http_status_code=400)
        with pytest.raises(DeliveryFailed) as raised:
            SesEmail("avisos@pic.madrid.es", ses).send(MESSAGE, UnitOfWork())
    assert raised.value.permanent is permanent


@pytest.mark.parametrize(("code", "permanent"), [("Throttling", False), ("InvalidParameter", True)])
def test_sns_sends_a_transactional_sms_and_maps_errors(code: str, permanent: bool) -> None:
    sns = client("sns")
    sms = Outbound("ntf-2", "sms", "+34612345678", "", "Hola", "es", MESSAGE.at)
    with Stubber(sns) as stub:
        stub.add_response("publish", {"MessageId": "sns-1"})
        stub.add_client_error("publish", service_error_code=code, http_status_code=400)
        adapter = SnsSms(sns)
        assert adapter.send(sms, UnitOfWork()) == "sns-1"
        with pytest.raises(DeliveryFailed) as raised:
            adapter.send(sms, UnitOfWork())
    assert raised.value.permanent is permanent
