"""The payment receipt (justificante de pago): a PDF the citizen downloads, and a verification code anyone
holding the paper can check at ``GET /v1/payments/verify/{code}`` (an office, a bank, the area system).

The code is random (80 bits in Crockford-style base32, no ambiguous letters), drawn when the gateway's approval
is stored and kept with the payment: it proves nothing by itself, it finds the payment PIC holds. What the
verification answers is what the receipt shows of the payment without the person: the amount, when, how, and
the references of what it paid.

The PDF is built with fpdf2 (imported on first use: only a receipt's download pays for it). Times are shown in
Europe/Madrid.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from events.notification import NotificationRequested, Recipient
from functions.core.clock import MADRID
from functions.core.errors import NotFoundError
from functions.payment.payments import Payment

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
CODE = re.compile(r"^PIC-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
METHODS = {"card": "Tarjeta", "bizum": "Bizum", "bank": "Carta de pago en entidad colaboradora"}
NOTICE_TEMPLATE = "pic-payment-receipt"  # functions/notification/platform_templates.json


class ReceiptNotFoundError(NotFoundError):
    """No receipt has that verification code (or the payment has no receipt: it did not succeed)."""

    slug, title = "receipt-not-found", "No receipt has this verification code"


def new_code() -> str:
    """``PIC-XXXX-XXXX-XXXX-XXXX``: 16 symbols of 5 bits from the system's CSPRNG."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(16))
    return "PIC-" + "-".join(symbols[i : i + 4] for i in range(0, 16, 4))


def local(at: datetime | None) -> str:
    return at.astimezone(MADRID).strftime("%d/%m/%Y %H:%M") if at else ""


def euros(cents: int) -> str:
    whole = f"{cents // 100:,}".replace(",", ".")
    return f"{whole},{cents % 100:02d} EUR"


def receipt_notice(payment: Payment, return_url: str, verify_url: str) -> NotificationRequested:
    """What NOT is asked to tell the person once a payment succeeded (a service notice: RGPD art. 6.1.c, no
    consent needed), on their channel: the amount, what it paid, where the receipt is and its code. The
    reference is the payment, so the notice is traceable to it."""
    return NotificationRequested(
        template=NOTICE_TEMPLATE,
        recipient=Recipient(citizen_id=payment.citizen_id),
        personalisation={
            "amount": euros(payment.amount_cents),
            "paid_at": local(payment.finished_at),
            "debts": ", ".join(debt_id.split("-", 1)[1] for debt_id in payment.debt_ids),
            "receipt_url": f"{return_url}/{payment.id}/receipt",
            "verification_code": payment.verification_code,
            "verify_url": f"{verify_url}/{payment.verification_code}",
        },
        reference=payment.id,
    )


def verification(payment: Payment) -> dict[str, Any]:
    """What a verification answers: the receipt's facts, not the person's identity."""
    return {
        "valid": True,
        "code": payment.verification_code,
        "payment_id": payment.id,
        "amount_cents": payment.amount_cents,
        "paid_at": payment.finished_at.isoformat() if payment.finished_at else None,
        "method": payment.method,
        "order": payment.order,
        "authorisation_code": payment.authorisation_code,
        "debts": [{"debt_id": c.debt_id, "amount_cents": c.amount_cents} for c in payment.charges],
        "refund_due": list(payment.refund_due),
    }


def council_document(title: str, heading: str) -> Any:
    """An A4 fpdf2 document of the council's, in Spanish, its heading written: receipts and payment letters."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_author("Ayuntamiento de Madrid")
    pdf.set_lang("es-ES")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, "Ayuntamiento de Madrid", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 13)
    pdf.cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    return pdf


def write_facts(pdf: Any, facts: list[tuple[str, str]], label_mm: float) -> None:
    """Label and value rows: the label in bold, the value wrapped beside it."""
    for name, value in facts:
        pdf.set_font("helvetica", "B", 10)
        pdf.cell(label_mm, 7, name)
        pdf.set_font("helvetica", "", 10)
        pdf.multi_cell(0, 7, value, new_x="LMARGIN", new_y="NEXT")


def receipt_pdf(payment: Payment, verify_url: str) -> bytes:
    """The justificante: who collects, what was paid and why that amount, how, when, and how to verify it."""
    if payment.state != "success" or not payment.verification_code:
        raise ReceiptNotFoundError(f"payment {payment.id} has no receipt: it is {payment.state}")
    pdf = council_document(f"Justificante de pago {payment.id}", "Justificante de pago")
    facts = [
        ("Importe", euros(payment.amount_cents)),
        ("Fecha del pago", local(payment.finished_at)),
        ("Forma de pago", METHODS.get(payment.method, payment.method)),
        ("Referencia (carta de pago)" if payment.method == "bank" else "Pedido (Redsys)", payment.order),
        ("Código de autorización", payment.authorisation_code),
        ("Pago", payment.id),
    ]
    write_facts(pdf, facts, 55)
    pdf.ln(3)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(0, 8, "Qué se paga", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)
    for charge in payment.charges:
        line = f"{charge.debt_id}: {euros(charge.amount_cents)} ({charge.stage}; {charge.legal_source})"
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    if payment.refund_due:
        refunded = f"Pagado antes por otro pago, se devuelve: {', '.join(payment.refund_due)}"
        pdf.multi_cell(0, 6, refunded, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(0, 8, f"Código de verificación: {payment.verification_code}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    check = f"Compruebe este justificante en {verify_url}/{payment.verification_code}"
    pdf.multi_cell(0, 5, check, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
