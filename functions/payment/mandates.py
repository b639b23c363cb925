"""Direct debits (domiciliación bancaria), pure logic: the SEPA Core mandate a person signs through PIC so that
Tributos charges a tax object's periodic taxes to their account.

One ``DirectDebit`` per person and tax object (a property's cadastral reference, a vehicle's plate, an
activity) holds the mandates signed for it, newest last; the last is in force unless cancelled. What may be
debited, and how, is Madrid's rule (sede.madrid.es, "Domiciliación bancaria de tributos municipales
periódicos"; ../shared/data/madrid/facts.md §3.2): IBI in three modalities (pago único, pago a la carta, pago
fraccionado con bonificación: the Sistema Especial de Pago, 3.25 % off, at most 70 €, Ordenanza Fiscal del IBI
arts. 14 and 20), IVTM and IAE only as pago único. The mandate is SEPA Core's (EPC SDD Core Rulebook): a unique
reference of at most 35 characters (AT-01), the creditor's identifier (AT-02), the debtor's IBAN (AT-07) and name
(AT-14), the date of signature (AT-25). A new account or holder is a new mandate that supersedes the previous;
another modality amends the one in force; the same again changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Literal

from stdnum import iban as stdnum_iban
from stdnum.eu import at_02
from stdnum.exceptions import ValidationError as StdnumError

from events.payment import DirectDebitCancelled, DirectDebitSigned, Modality, TaxObject
from events.payment import Mandate as MandateData
from functions.core.clock import MADRID
from functions.core.errors import NotFoundError, PicError

# Madrid's modalities per periodic tax (sede.madrid.es; facts.md §3.2). Other taxes are not debited.
MODALITIES: dict[str, tuple[Modality, ...]] = {
    "IBI": ("pago-unico", "pago-a-la-carta", "fraccionado-bonificado"),
    "IVTM": ("pago-unico",),
    "IAE": ("pago-unico",),
}
# The countries and territories of the SEPA schemes' geographical scope (EPC409-09, "EPC list of countries and
# territories of the SEPA schemes"), by IBAN country code: a creditor may not refuse an account of any of them
# (Regulation (EU) 260/2012 art. 9), and cannot debit one outside them through SEPA Core.
_EU = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
_EEA = "IS LI NO"
_OTHERS = "AD AL CH GB GI MC MD ME MK SM VA"  # Albania, Moldova, Montenegro and North Macedonia since 2025
SEPA_COUNTRIES = frozenset(f"{_EU} {_EEA} {_OTHERS}".split())  # overseas territories and dependencies: FR, FI, GB IBANs
# The council's NIF (Ayuntamiento de Madrid): the SEPA creditor identifier is derived from it (ES, check digits,
# the "000" business code, the NIF).
COUNCIL_NIF = "P2807900B"
REFERENCE_PREFIX = "PIC"

State = Literal["active", "replaced", "cancelled"]


class IbanInvalidError(PicError):
    status, slug, title = 422, "iban-invalid", "The account number (IBAN) is not valid for a SEPA direct debit"


class TaxObjectNotFoundError(NotFoundError):
    slug, title = "tax-object-not-found", "The person has no receipt of this tax object"


class DirectDebitNotFoundError(NotFoundError):
    slug, title = "direct-debit-not-found", "This tax object has no direct debit"


class DirectDebitNotAvailableError(PicError):
    status, slug, title = 422, "direct-debit-not-available", "This tax object cannot be paid by direct debit this way"


@dataclass(frozen=True)
class Mandate:
    """One SEPA Core mandate: its reference, the account and holder, when and by whom it was signed, and whether
    it is in force (``active``), superseded by a newer one (``replaced``) or ``cancelled``, and since when."""

    reference: str
    iban: str  # compact, upper case (stdnum)
    holder: str
    signed_on: date
    by: str  # role:id of who recorded it
    purpose: str | None = None
    state: State = "active"
    ended_on: date | None = None


@dataclass(frozen=True)
class DirectDebit:
    """A person's direct debit of one tax object: its periodic taxes, the modality, and its mandates (newest
    last). ``source`` is the system that issues the object's receipts (Tributos), told of every change."""

    id: str
    citizen_id: str
    object: TaxObject
    taxes: tuple[str, ...]
    modality: Modality
    source: str
    mandates: tuple[Mandate, ...]
    changed_at: datetime
    version: int = 1

    @property
    def current(self) -> Mandate | None:
        last = self.mandates[-1] if self.mandates else None
        return last if last is not None and last.state == "active" else None


@dataclass(frozen=True)
class KnownObject:
    """A tax object as the person's receipts name it: its periodic taxes and the system issuing them."""

    object: TaxObject
    taxes: tuple[str, ...]
    source: str

    @property
    def modalities(self) -> tuple[Modality, ...]:
        """The modalities every debitable tax of the object allows (IBI's three only when IBI is the only one)."""
        allowed = [MODALITIES[tax] for tax in self.taxes if tax in MODALITIES]
        if not allowed:
            return ()
        return tuple(m for m in allowed[0] if all(m in each for each in allowed))


@dataclass(frozen=True)
class Sign:
    """Debit ``object_reference``'s taxes to ``iban`` (as typed: spaces allowed) held by ``holder``."""

    citizen_id: str
    object_reference: str
    iban: str
    holder: str
    modality: Modality
    by: str
    purpose: str | None = None


def debit_id(citizen_id: str, object_reference: str) -> str:
    return f"debit-{citizen_id}-{object_reference}"


def normalise_iban(raw: str) -> str:
    """The IBAN compact and upper case, if its checksum and national format are right (python-stdnum) and its
    country is in SEPA; ``IbanInvalidError`` saying what is wrong otherwise."""
    try:
        compact: str = stdnum_iban.validate(raw)
    except StdnumError as exc:
        raise IbanInvalidError(f"{mask(raw)} is not a valid IBAN: {exc}") from exc
    if compact[:2] not in SEPA_COUNTRIES:
        raise IbanInvalidError(f"accounts of {compact[:2]} cannot be debited through SEPA Core")
    return compact


@lru_cache(maxsize=8)
def creditor_id(nif: str = COUNCIL_NIF) -> str:
    """The SEPA creditor identifier (AT-02) of a Spanish NIF: ES, ISO 7064 check digits, business code 000 (the
    same every time: computed once per process)."""
    check = at_02.calc_check_digits(f"ES00000{nif}")
    identifier: str = at_02.validate(f"ES{check}000{nif}")
    return identifier


def mask(iban: str) -> str:
    """What a screen or an agent sees of an account: its country, check digits and last four characters."""
    compact = "".join(iban.split()).upper()
    if len(compact) < 8:
        return "****"
    hidden = len(compact) - 8
    groups = [compact[:4], *(["****"] * ((hidden + 3) // 4)), compact[-4:]]
    return " ".join(groups)


def new_reference(today: date) -> str:
    """A unique mandate reference (AT-01): PIC, the date of signature and 80 random bits, 29 characters."""
    return f"{REFERENCE_PREFIX}-{today:%Y%m%d}-{secrets.token_hex(10).upper()}"


def known_objects(receipts: list[tuple[TaxObject, str, str]]) -> dict[str, KnownObject]:
    """The person's tax objects by reference, from their receipts' (object, tax, source): the last receipt's
    source is the issuer told of a direct debit."""
    found: dict[str, KnownObject] = {}
    for obj, tax, source in receipts:
        held = found.get(obj.reference)
        taxes = tuple(sorted({*(held.taxes if held else ()), tax}))
        found[obj.reference] = KnownObject(obj, taxes, source)
    return found


def sign(
    cmd: Sign, known: KnownObject, existing: DirectDebit | None, now: datetime
) -> tuple[DirectDebit, DirectDebitSigned] | None:
    """The direct debit with the mandate ``cmd`` signs, and the event telling Tributos; ``None`` when it is the
    mandate in force already, at the same modality. A new account or holder supersedes the mandate in force; a
    new modality amends it."""
    if not known.modalities:
        raise DirectDebitNotAvailableError(
            f"{', '.join(known.taxes)} of {known.object.reference}: Madrid debits periodic taxes (IBI, IVTM, IAE) only"
        )
    if cmd.modality not in known.modalities:
        raise DirectDebitNotAvailableError(
            f"{cmd.modality} is not offered for {', '.join(known.taxes)}: {', '.join(known.modalities)}"
        )
    iban = normalise_iban(cmd.iban)
    holder = " ".join(cmd.holder.split())
    today = now.astimezone(MADRID).date()
    current = existing.current if existing else None
    replaced: str | None = None
    if current is not None and current.iban == iban and current.holder == holder:
        if existing is not None and existing.modality == cmd.modality:
            return None
        mandates = existing.mandates if existing else ()
        mandate = current
    else:
        mandate = Mandate(new_reference(today), iban, holder, today, cmd.by, cmd.purpose)
        earlier = existing.mandates if existing else ()
        if current is not None:
            replaced = current.reference
            earlier = (*earlier[:-1], replace(current, state="replaced", ended_on=today))
        mandates = (*earlier, mandate)
    debit = DirectDebit(
        debit_id(cmd.citizen_id, known.object.reference),
        cmd.citizen_id,
        known.object,
        known.taxes,
        cmd.modality,
        known.source,
        mandates,
        now,
        existing.version + 1 if existing else 1,
    )
    return debit, signed_event(debit, mandate, replaced, cmd.by, cmd.purpose)


def signed_event(
    debit: DirectDebit, mandate: Mandate, replaced: str | None, by: str, purpose: str | None
) -> DirectDebitSigned:
    data = MandateData(
        reference=mandate.reference,
        creditor_id=creditor_id(),
        iban=mandate.iban,
        holder=mandate.holder,
        signed_on=mandate.signed_on,
    )
    return DirectDebitSigned(
        citizen_id=debit.citizen_id,
        object=debit.object,
        taxes=list(debit.taxes),  # type: ignore[arg-type]  # taxes come from receipts' Tax
        modality=debit.modality,
        mandate=data,
        replaces=replaced,
        by=by,
        purpose=purpose,
    )


def cancel(
    existing: DirectDebit | None, by: str, purpose: str | None, now: datetime
) -> tuple[DirectDebit, DirectDebitCancelled] | None:
    """The direct debit with its mandate cancelled today, and the event; ``None`` when none is in force (a
    repeated cancel); ``DirectDebitNotFoundError`` when there never was one."""
    if existing is None:
        raise DirectDebitNotFoundError("this tax object has no direct debit")
    current = existing.current
    if current is None:
        return None
    today = now.astimezone(MADRID).date()
    ended = replace(current, state="cancelled", ended_on=today)
    debit = replace(existing, mandates=(*existing.mandates[:-1], ended), changed_at=now, version=existing.version + 1)
    event = DirectDebitCancelled(
        citizen_id=existing.citizen_id,
        object=existing.object,
        mandate_reference=current.reference,
        cancelled_on=today,
        by=by,
        purpose=purpose,
    )
    return debit, event


def view(debit: DirectDebit, *, full: bool = False) -> dict[str, Any]:
    """A direct debit as the API shows it: the account masked (``full`` only in the person's RGPD export)."""
    current = debit.current
    last = debit.mandates[-1] if debit.mandates else None
    shown = current or last
    return {
        "object": debit.object.model_dump(),
        "taxes": list(debit.taxes),
        "state": "active" if current else "cancelled",
        "modality": debit.modality,
        "mandate": _mandate_view(shown, full) if shown else None,
        "history": [_mandate_view(m, full) for m in debit.mandates[:-1]],
        "creditor_id": creditor_id(),
        "changed_at": debit.changed_at.isoformat(),
    }


def _mandate_view(mandate: Mandate, full: bool) -> dict[str, Any]:
    return {
        "reference": mandate.reference,
        "iban": mandate.iban if full else mask(mandate.iban),
        "holder": mandate.holder,
        "signed_on": mandate.signed_on.isoformat(),
        "state": mandate.state,
        "ended_on": mandate.ended_on.isoformat() if mandate.ended_on else None,
        "by": mandate.by if full else mandate.by.split(":", 1)[0],
    }
