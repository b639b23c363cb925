"""The one QR drawer (``functions.core.qr``): inlinable SVG with its title, sized by its content."""

from __future__ import annotations

from functions.core.qr import qr_svg


def test_a_qr_code_is_inlinable_svg_with_its_title_and_grows_with_its_text() -> None:
    short = qr_svg("openid4vp://?a=1", "OpenID4VP")
    long = qr_svg("openid4vp://?" + "x" * 600, "OpenID4VP")
    assert short.startswith("<svg") and 'class="qr"' in short and "<title>OpenID4VP</title>" in short
    assert "<?xml" not in short
    assert len(long) > len(short)
    assert 'width="' in qr_svg("x", "QR", scale=5)
