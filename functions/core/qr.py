"""QR codes as inline SVG, the one way the platform draws them (segno, pinned): a credential offer
(OpenID4VCI), a presentation request (OpenID4VP), a desk page's link. Error correction M: readable from a phone
held to a screen. segno is imported on first use: only the routes that draw one pay for it."""

from __future__ import annotations

import io


def qr_svg(text: str, title: str, *, scale: int = 4) -> str:
    """The QR code of ``text`` as an ``<svg class="qr">`` with its ``<title>`` (no XML declaration: inlinable)."""
    import segno

    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=scale, border=4, xmldecl=False, svgclass="qr", title=title)
    return out.getvalue().decode("utf-8")
