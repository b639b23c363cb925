"""The web function's own table ``web``: server-side sessions, deleted by DynamoDB's TTL on ``expires_at``
(and refused on read once past it, as TTL deletion is late). No other domain's data is stored here."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist

from functions.core.store import StoreModel, defines_table, model_meta
from functions.web.service import BarrierReport, Session

BARRIER = "barrier#"  # barrier reports share the table, under their own key prefix


@defines_table
class SessionItem(StoreModel):
    Meta = model_meta("web")

    session_id = UnicodeAttribute(hash_key=True)
    csrf = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = NumberAttribute()  # epoch seconds: the table's TTL attribute
    lang = UnicodeAttribute(default="es")
    subject = UnicodeAttribute(default="")
    role = UnicodeAttribute(default="")
    level = NumberAttribute(default=0)
    area = UnicodeAttribute(default="")
    access_token = UnicodeAttribute(default="")
    state = UnicodeAttribute(default="")
    verifier = UnicodeAttribute(default="")
    nonce = UnicodeAttribute(default="")
    return_to = UnicodeAttribute(default="/app/")
    attending = UnicodeAttribute(default="")  # an agent's session: the citizen being attended...
    purpose = UnicodeAttribute(default="")  # ...and the purpose stated for it (sent as Access-Purpose)
    district = UnicodeAttribute(default="")  # a citizen's district, for the micro-apps' district rules
    chat = UnicodeAttribute(default="")  # the conversation with the virtual assistant...
    chat_key = UnicodeAttribute(default="")  # ...and an anonymous one's key (kept server-side only)


class BarrierItem(StoreModel):
    """A reported accessibility barrier, in the same table (key ``barrier#<id>``), kept ``BARRIER_DAYS``."""

    Meta = model_meta("web")

    session_id = UnicodeAttribute(hash_key=True)
    page = UnicodeAttribute(default="")
    description = UnicodeAttribute()
    contact = UnicodeAttribute(default="")
    lang = UnicodeAttribute(default="es")
    at = UTCDateTimeAttribute()
    expires_at = NumberAttribute()


class DynamoSessionStore:
    """``service.SessionStore`` on DynamoDB: one item per session, read by its id."""

    def fetch(self, session_id: str) -> Session | None:
        try:
            item = SessionItem.get(session_id, consistent_read=True)
        except DoesNotExist:
            return None
        return Session(
            id=item.session_id,
            csrf=item.csrf,
            created_at=item.created_at,
            expires_at=datetime.fromtimestamp(int(item.expires_at), UTC),
            lang=item.lang,
            subject=item.subject,
            role=item.role,
            level=int(item.level or 0),
            area=item.area,
            access_token=item.access_token,
            state=item.state,
            verifier=item.verifier,
            nonce=item.nonce,
            return_to=item.return_to,
            attending=item.attending,
            purpose=item.purpose,
            district=item.district,
            chat=item.chat,
            chat_key=item.chat_key,
        )

    def save(self, session: Session) -> None:
        SessionItem(
            session.id,
            csrf=session.csrf,
            created_at=session.created_at,
            expires_at=int(session.expires_at.timestamp()),
            lang=session.lang,
            subject=session.subject,
            role=session.role,
            level=session.level,
            area=session.area,
            access_token=session.access_token,
            state=session.state,
            verifier=session.verifier,
            nonce=session.nonce,
            return_to=session.return_to,
            attending=session.attending,
            purpose=session.purpose,
            district=session.district,
            chat=session.chat,
            chat_key=session.chat_key,
        ).save()

    def delete(self, session_id: str) -> None:
        SessionItem(session_id).delete()

    def save_barrier(self, report: BarrierReport) -> None:
        BarrierItem(
            BARRIER + report.id,
            page=report.page,
            description=report.description,
            contact=report.contact,
            lang=report.lang,
            at=report.at,
            expires_at=int(report.expires_at.timestamp()),
        ).save()
