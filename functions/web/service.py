"""The web channel's own rules: sessions, CSRF tokens, PKCE, safe return paths. No framework, store or
HTTP client here (an import contract): ``main.py`` and ``storage.py`` carry them.

A session lives server-side (its id in a cookie, the access token never in the browser). It starts
*pending* (the sign-in's ``state``, PKCE verifier and nonce) and becomes *signed in* under a NEW id once the
issuer's code is exchanged, so an id fixed before sign-in is worth nothing after it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from functions.core.errors import ForbiddenError, PicError, UnauthenticatedError

ID_BYTES = 32
PENDING_MINUTES = 10  # a sign-in not finished in this long starts again
ANONYMOUS_MINUTES = 60  # a public form's session (its CSRF token only)
BARRIER_DAYS = 730  # a barrier report is kept two years (the yearly accessibility report and the one before)
LANGUAGES = ("es", "en")


class SessionExpiredError(UnauthenticatedError):
    """No session, or one past its expiry: the sign-in page, never a stack trace."""

    slug, title = "session-expired", "Your session has ended"


class CsrfError(ForbiddenError):
    """A POST without this session's synchronizer token: refused before anything is read or written."""

    slug, title = "csrf-refused", "The form is not from this session"


class WrongRoleError(ForbiddenError):
    """A citizen's session on an agent's page or the other way round: a refusal page, never the other's data."""

    slug, title = "wrong-role", "This page is for another kind of user"


class PurposeRequiredError(PicError):
    """An agent opened a citizen without stating why: the purpose form, nothing read (RGPD art. 5.1.b)."""

    status, slug, title = 428, "purpose-required", "State the purpose before opening a citizen's data"

    def __init__(self, citizen_id: str) -> None:
        super().__init__(f"no purpose stated for citizen {citizen_id}")
        self.citizen_id = citizen_id


class SignInError(PicError):
    """The issuer's answer does not finish the sign-in this session started (state, code, nonce)."""

    status, slug, title = 400, "sign-in-failed", "The sign-in could not be completed"


@dataclass(frozen=True)
class Session:
    """One browser's session. ``subject`` and ``access_token`` are empty while the sign-in is pending."""

    id: str
    csrf: str
    created_at: datetime
    expires_at: datetime
    lang: str = "es"
    subject: str = ""
    role: str = ""
    level: int = 0
    area: str = ""
    access_token: str = ""
    state: str = ""
    verifier: str = ""
    nonce: str = ""
    return_to: str = "/app/"
    attending: str = ""
    purpose: str = ""
    district: str = ""  # a citizen's district (their golden record's), for the micro-apps' district rules
    chat: str = ""  # the conversation with the virtual assistant this browser is having (its id)...
    chat_key: str = ""  # ...and an anonymous conversation's key (X-Conversation-Key), never in a URL

    @property
    def signed_in(self) -> bool:
        return bool(self.subject and self.access_token)

    @property
    def is_agent(self) -> bool:
        return self.role == "agent"

    def live(self, now: datetime) -> bool:
        return now < self.expires_at


@dataclass(frozen=True)
class BarrierReport:
    """An accessibility barrier someone reported (RD 1112/2018 art. 10.2): where, what, how to answer."""

    id: str
    page: str
    description: str
    contact: str
    lang: str
    at: datetime
    expires_at: datetime


class SessionStore(Protocol):
    def fetch(self, session_id: str) -> Session | None: ...

    def save(self, session: Session) -> None: ...

    def delete(self, session_id: str) -> None: ...

    def save_barrier(self, report: BarrierReport) -> None: ...


def new_token() -> str:
    """An unguessable URL-safe token (256 bits): session ids, CSRF tokens, state, nonce, PKCE verifier."""
    return secrets.token_urlsafe(ID_BYTES)


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pending(now: datetime, lang: str, return_to: str) -> Session:
    """A session that has started a sign-in: state, PKCE verifier and nonce to check the issuer's answer."""
    return Session(
        id=new_token(),
        csrf=new_token(),
        created_at=now,
        expires_at=now + timedelta(minutes=PENDING_MINUTES),
        lang=lang if lang in LANGUAGES else "es",
        state=new_token(),
        verifier=new_token(),
        nonce=new_token(),
        return_to=safe_return(return_to),
    )


def anonymous(now: datetime, lang: str) -> Session:
    """A session for a public form (report a barrier): a CSRF token, no person."""
    return Session(
        id=new_token(),
        csrf=new_token(),
        created_at=now,
        expires_at=now + timedelta(minutes=ANONYMOUS_MINUTES),
        lang=lang if lang in LANGUAGES else "es",
    )


@dataclass(frozen=True)
class Person:
    """Who the issuer says signed in: a citizen, or an agent with an attention level and an area."""

    subject: str
    role: str
    level: int = 0
    area: str = ""


def signed_in(
    previous: Session, person: Person, access_token: str, token_expires: datetime, now: datetime, hours: float
) -> Session:
    """The signed-in session under a new id and CSRF token, no longer than the access token lives."""
    return replace(
        previous,
        id=new_token(),
        csrf=new_token(),
        created_at=now,
        expires_at=min(token_expires, now + timedelta(hours=hours)),
        subject=person.subject,
        role=person.role,
        level=person.level,
        area=person.area,
        access_token=access_token,
        state="",
        verifier="",
        nonce="",
    )


def check_state(session: Session | None, state: str, now: datetime) -> Session:
    """The callback belongs to the sign-in this browser started (RFC 6749 §10.12), and is not stale."""
    if session is None or not session.state or not session.live(now):
        raise SignInError("no sign-in was started in this browser, or it took too long: start again")
    if not hmac.compare_digest(session.state, state):
        raise SignInError("the sign-in answer is not for this browser's sign-in")
    return session


def check_csrf(session: Session, token: str | None) -> None:
    """The synchronizer token of this session, in constant time."""
    if not token or not hmac.compare_digest(session.csrf, token):
        raise CsrfError("this form was not sent from this session's page: reload the page and try again")


def require(session: Session | None, now: datetime, role: str = "citizen") -> Session:
    """A live session signed in with ``role``: the sign-in page without one, a refusal for another role (a
    citizen's session opens no agent page, an agent's no citizen page: the API would refuse them anyway)."""
    if session is None or not session.signed_in or not session.live(now):
        raise SessionExpiredError("sign in to continue")
    if session.role != role:
        raise WrongRoleError(f"these pages are for the {role} role; this session is signed in as {session.role}")
    return session


def safe_return(path: str | None) -> str:
    """Where to go after sign-in or a language switch: only a path of the app or the desk (no open redirect)."""
    if not path or path.startswith("//") or "\\" in path or "://" in path:
        return "/app/"
    if not path.startswith(("/app/", "/desk/")):
        return "/app/"
    return path


def home_of(path: str) -> str:
    """The channel a path belongs to: the desk's pages go back to the desk, everything else to the app."""
    return "/desk/" if path.startswith("/desk/") else "/app/"
