"""Delivery channels: ONE port (``Channel.send``) and its adapters, chosen by settings.

| channel | adapters | locally (``make run``) |
|---|---|---|
| email | SMTP (``smtplib``), Amazon SES (boto3 ``sesv2``) | the SMTP capture, browsable at ``/dev/mail`` |
| sms | an HTTP provider API (JSON POST), Amazon SNS (boto3) | the SMS sink at ``/dev/sms`` |
| push | an FCM-style HTTP API (JSON POST with the device endpoint/token) | the push sink at ``/dev/push`` |
| inapp | the citizen's inbox in DynamoDB | ``GET /v1/citizens/{id}/inbox`` |

An adapter either returns (the provider took the message) or raises ``DeliveryFailed`` saying whether the
failure is temporary (retried with backoff) or permanent. The inbox adapter writes into the same unit of
work that marks the notification delivered, so the in-app message and its status commit together.
Every provider sits behind a token bucket (``PIC_PROVIDER_RATE`` messages/s per process).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from typing import Any, Protocol

import requests

from functions.core.settings import get_settings
from functions.core.store import UnitOfWork
from functions.notification.service import InboxMessage, TokenBucket

RATE_WAIT_SECONDS = 2.0
HTTP_TIMEOUT = 10.0


class DeliveryFailed(Exception):  # noqa: N818 - an outcome, not a bug
    def __init__(self, detail: str, *, permanent: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent


@dataclass(frozen=True)
class Outbound:
    notification_id: str
    channel: str
    address: str
    subject: str
    body: str
    language: str
    at: datetime
    list_unsubscribe: str | None = None  # the one-click unsubscribe target (RFC 8058), campaigns and surveys


class Channel(Protocol):
    name: str

    def send(self, message: Outbound, uow: UnitOfWork) -> str:
        """Hand the message to the provider; answer its message id. ``uow`` commits with "delivered"."""
        ...


def _http_failure(response: requests.Response, what: str) -> DeliveryFailed:
    temporary = response.status_code in (408, 425, 429) or response.status_code >= 500
    return DeliveryFailed(f"{what} answered {response.status_code}: {response.text[:200]}", permanent=not temporary)


def unsubscribe_headers(message: Outbound) -> dict[str, str]:
    """RFC 2369 ``List-Unsubscribe`` and RFC 8058 ``List-Unsubscribe-Post``: a mail client offers the reader a
    one-click unsubscribe that POSTs ``List-Unsubscribe=One-Click`` to the link (Gmail and Yahoo require it of
    bulk senders since 2024)."""
    if not message.list_unsubscribe:
        return {}
    return {"List-Unsubscribe": f"<{message.list_unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


class SmtpEmail:
    name = "email"

    def __init__(self, host: str, port: int, sender: str) -> None:
        self.host, self.port, self.sender = host, port, sender

    def send(self, message: Outbound, uow: UnitOfWork) -> str:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(message.at)
        mail["Message-ID"] = make_msgid(idstring=message.notification_id, domain="pic.madrid.es")
        mail["X-PIC-Notification"] = message.notification_id
        mail["Content-Language"] = message.language
        for name, value in unsubscribe_headers(message).items():
            mail[name] = value
        mail.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=HTTP_TIMEOUT) as smtp:
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryFailed(
                f"SMTP refused the recipient: {codes}", permanent=all(c >= 500 for c in codes)
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500) from exc
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"SMTP server unreachable: {exc}", permanent=False) from exc
        return str(mail["Message-ID"])


class SesEmail:
    """Amazon SES v2 ``SendEmail``; throttling and service errors are temporary, rejections permanent."""

    name = "email"

    def __init__(self, sender: str, client: Any = None) -> None:
        import boto3

        self.sender = sender
        self.client = client or boto3.client("sesv2", region_name=get_settings().aws_region)

    def send(self, message: Outbound, uow: UnitOfWork) -> str:
        from botocore.exceptions import ClientError

        simple: dict[str, Any] = {
            "Subject": {"Data": message.subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": message.body, "Charset": "UTF-8"}},
        }
        headers = unsubscribe_headers(message)
        if headers:  # SES v2 Simple content takes custom headers (since 2023)
            simple["Headers"] = [{"Name": name, "Value": value} for name, value in headers.items()]
        try:
            answer = self.client.send_email(
                FromEmailAddress=self.sender,
                Destination={"ToAddresses": [message.address]},
                Content={"Simple": simple},
                EmailTags=[{"Name": "notification", "Value": message.notification_id}],
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            temporary = code in ("TooManyRequestsException", "LimitExceededException", "InternalFailure")
            raise DeliveryFailed(f"SES {code}", permanent=not temporary) from exc
        return str(answer["MessageId"])


class HttpSms:
    """A generic SMS provider's HTTP API: ``POST {to, text, reference}``; 2xx is accepted."""

    name = "sms"

    def __init__(self, url: str, session: requests.Session | None = None) -> None:
        self.url = url
        self.session = session or requests.Session()

    def send(self, message: Outbound, uow: UnitOfWork) -> str:
        payload = {"to": message.address, "text": message.body, "reference": message.notification_id}
        try:
            response = self.session.post(self.url, json=payload, timeout=HTTP_TIMEOUT)
        except requests.RequestException as exc:
            raise DeliveryFailed(f"SMS provider unreachable: {exc}", permanent=False) from exc
        if not response.ok:
            raise _http_failure(response, "the SMS provider")
        return str(response.json().get("id", message.notification_id))


class SnsSms:
    name = "sms"

    def __init__(self, client: Any = None) -> None:
        import boto3

        self.client = client or boto3.client("sns", region_name=get_settings().aws_region)

    def send(self, message: Outbound, uow: UnitOfWork) -> str:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.publish(
                PhoneNumber=message.address,
                Message=message.body,
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                    "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "MADRID"},
                },
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            temporary = code in ("Throttling", "ThrottledException", "InternalError", "KMSThrottlingException")
            raise DeliveryFailed(f"SNS {code}", permanent=not temporary) from exc
        return str(answer["MessageId"])


class HttpPush:
    """An FCM-style HTTP push API: ``POST {to, notification: {title, body}, data}``; 2xx is accepted."""

    name = "push"

    def __init__(self, url: str, session: requests.Session | None = None) -> None:
        self.url = url
        self.session = session or requests.Session()

    def send(self, message: Outbound, uow: UnitOfWork) -> str:
        payload = {
            "to": message.address,
            "notification": {"title": message.subject, "body": message.body},
            "data": {"notification_id": message.notification_id},
        }
        try:
            response = self.session.post(self.url, json=payload, timeout=HTTP_TIMEOUT, headers={"TTL": "86400"})
        except requests.RequestException as exc:
            raise DeliveryFailed(f"push provider unreachable: {exc}", permanent=False) from exc
        if not response.ok:
            raise _http_failure(response, "the push provider")
        return str(response.json().get("id", message.notification_id))


class InboxWriter(Protocol):
    """The part of the notification store the inbox adapter writes through."""

    def stage_inbox_message(self, uow: UnitOfWork, message: InboxMessage) -> None: ...


class InAppInbox:
    name = "inapp"

    def __init__(self, store: InboxWriter) -> None:
        self.store = store

    def send(self, message: Outbound, uow: UnitOfWork) -> str:
        inbox = InboxMessage(message.address, message.notification_id, message.subject, message.body, message.language,
                             message.at)  # fmt: skip
        self.store.stage_inbox_message(uow, inbox)
        return message.notification_id


@dataclass(frozen=True)
class Provider:
    channel: Channel
    bucket: TokenBucket

    def send(self, message: Outbound, uow: UnitOfWork) -> str:
        self.bucket.take(RATE_WAIT_SECONDS)
        return self.channel.send(message, uow)


@lru_cache(maxsize=1)
def providers(inbox: InboxWriter) -> dict[str, Provider]:
    """The adapters the settings choose, each behind its own token bucket; built once per process (the in-app
    one writes through ``inbox``, the domain's store)."""
    settings = get_settings()
    rate = settings.provider_rate
    email: Channel = (
        SesEmail(settings.mail_from)
        if settings.notify_email_provider == "ses"
        else SmtpEmail(settings.smtp_host, settings.smtp_port, settings.mail_from)
    )
    sms: Channel = SnsSms() if settings.notify_sms_provider == "sns" else HttpSms(settings.sms_url)
    channels: list[Channel] = [email, sms, HttpPush(settings.push_url), InAppInbox(inbox)]
    return {c.name: Provider(c, TokenBucket(rate=rate, capacity=max(1.0, rate))) for c in channels}
