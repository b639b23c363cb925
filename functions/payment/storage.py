"""Fines and taxes storage: one DynamoDB table ``payment``, keyed by ``id``.

- ``id=fine-<fine_id>`` or ``receipt-<receipt_id>`` (``DebtItem``): one debt as the area system issued it
  (``issued``: the event's data as JSON, with its ``content_sha256``), the person's ``citizen_id``, its
  ``status`` and a ``version`` every write is conditioned on (a correction racing another loses and is
  decided again on what the first wrote).
Index ``by-citizen`` (``citizen_id``, ``id``): a person's debts, for ``GET /v1/citizens/{id}/debts``, the RGPD
export and erasure. No TTL: how long debts are kept is a retention rule (``policies/rgpd/retention``, domain
``payment``), applied by the erasure path.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import TypeAdapter
from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta
from functions.payment.service import Debt, Issued

_ISSUED: TypeAdapter[Issued] = TypeAdapter(Issued)


class ByCitizen(GlobalSecondaryIndex["DebtItem"]):  # type: ignore[no-untyped-call]
    """A person's debts."""

    class Meta:
        index_name = "by-citizen"
        projection = AllProjection()

    citizen_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


@defines_table
class DebtItem(StoreModel):
    Meta = model_meta("payment")

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    citizen_id = UnicodeAttribute()
    issued = UnicodeAttribute()  # JSON of events.payment.FineIssued or TaxReceiptIssued
    content_sha256 = UnicodeAttribute()
    source = UnicodeAttribute()
    received_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    version = NumberAttribute()

    by_citizen = ByCitizen()


def _debt(item: DebtItem) -> Debt:
    received_at: datetime = item.received_at
    issued = _ISSUED.validate_json(item.issued)
    return Debt(
        id=item.id,
        kind="fine" if item.kind == "fine" else "tax-receipt",
        citizen_id=item.citizen_id,
        issued=issued,
        content_sha256=item.content_sha256,
        source=item.source,
        received_at=received_at,
        status="paid" if item.status == "paid" else "pending",
        version=int(item.version),
    )


class DynamoPaymentStore:
    """The fines and taxes port (``service.PaymentStore``) on DynamoDB."""

    def fetch(self, debt_id: str) -> Debt | None:
        try:
            return _debt(DebtItem.get(debt_id, consistent_read=True))
        except DebtItem.DoesNotExist:
            return None

    def fetch_by_citizen(self, citizen_id: str) -> list[Debt]:
        """One Query of ``by-citizen`` (every page of it)."""
        return [_debt(item) for item in DebtItem.by_citizen.query(citizen_id)]

    def stage(self, uow: UnitOfWork, debt: Debt, previous: Debt | None) -> None:
        """The whole debt, if it is still as read (absent, or at ``previous``'s version); tag ``debt``."""
        condition: Condition = (
            DebtItem.id.does_not_exist() if previous is None else DebtItem.version == previous.version
        )
        item = DebtItem(
            debt.id,
            kind=debt.kind,
            citizen_id=debt.citizen_id,
            issued=debt.issued.model_dump_json(),
            content_sha256=debt.content_sha256,
            source=debt.source,
            received_at=debt.received_at,
            status=debt.status,
            version=debt.version,
        )
        uow.put(item, condition=condition, tag="debt")

    def stage_erase(self, uow: UnitOfWork, debt: Debt) -> None:
        """An RGPD erasure of a debt past its legal period."""
        uow.delete(DebtItem(debt.id), tag="debt-erasure")
