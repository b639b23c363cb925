"""Contact points, one rule in one place: what an e-mail address and a phone number are for PIC.

C360 matches people by them, notifications send to them, rectification checks them: all three read them
here, so an address that links two records is the one a message goes to.
- e-mail: syntactically valid (``email-validator``, no DNS lookup), the domain lower-cased and
  IDNA-normalised, the local part kept as written (RFC 5321 §2.4). Provider rules (Gmail ignoring dots and
  +tags) are not applied: a council system cannot know which provider stands behind a domain.
- phone: a valid number (``phonenumbers``) in E.164; without a country code it is read as Spanish
  ("0034 ..." too). Whether it takes SMS is ``is_mobile``.
"""

from __future__ import annotations

from typing import Any

REGION = "ES"

# phonenumbers and email-validator are imported on first use, not with the module: they were among the
# heaviest imports of every cold start of the functions that import this module but answer their first
# requests without a contact point (issue 12 §5, docs/benchmarks.md "Cold start per function").


class ContactError(ValueError):
    """Not a usable contact point; the message says why, in words a caller can show."""


def email(raw: str) -> str:
    """The normalised address, or ``ContactError``."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return str(validate_email(raw.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise ContactError(f"not an e-mail address: {exc}") from exc


def phone(raw: str, region: str = REGION) -> str:
    """The number in E.164 (``+34600112233``), or ``ContactError``."""
    import phonenumbers

    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ContactError(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ContactError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    """Whether a normalised number can take SMS."""
    import phonenumbers

    sms_kinds = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    return phonenumbers.number_type(phonenumbers.parse(e164, REGION)) in sms_kinds


def usable_email(raw: Any) -> str | None:
    """A contact point from a record: normalised, or ``None`` when it cannot be used (never an error)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        return email(raw)
    except ContactError:
        return None


def usable_phone(raw: Any, region: str = REGION) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        return phone(raw, region)
    except ContactError:
        return None
