"""A report's photo, checked and made safe to publish: the type by its magic bytes (not by the name or the header the
client sent), the size before decoding, the pixels bounded (a decompression bomb is refused), and the EXIF metadata
dropped — the GPS position above all, which says where the person stood — unless the citizen allowed keeping it.

The photo is re-encoded (JPEG for photographs, PNG kept as PNG) at most ``MAX_SIDE`` pixels a side, so that it fits
one store item (DynamoDB's 400 KB; ``MAX_STORED``) and no payload of the original (a polyglot file, a script in a
comment) survives. Only the EXIF orientation is applied first, so the photo shows the right way up.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from functions.incident.service import Photo, PhotoInvalidError, PhotoTooLargeError

MAX_UPLOAD = 8 * 1024 * 1024  # a phone's photo; larger is refused before decoding
MAX_PIXELS = 40_000_000  # 40 Mpx: beyond is a decompression bomb, not a phone photo
MAX_SIDE = 1600
MAX_STORED = 350 * 1024
GPS_IFD = 0x8825  # EXIF tag of the GPS sub-directory (EXIF 2.32, table 4)
ORIENTATION = 0x0112
SCALING = Image.Resampling.BILINEAR  # with reducing_gap: a photo for the area, not print; 3-4 times LANCZOS's speed
MAGIC = {b"\xff\xd8\xff": "jpeg", b"\x89PNG\r\n\x1a\n": "png"}


def kind_of(raw: bytes) -> str:
    """``jpeg``, ``png`` or ``webp`` by the file's first bytes, or ``PhotoInvalidError``."""
    for magic, kind in MAGIC.items():
        if raw.startswith(magic):
            return kind
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "webp"
    raise PhotoInvalidError("the file is not a JPEG, PNG or WebP image (by its content)")


def prepared(raw: bytes, keep_location: bool) -> Photo:
    """The photo as kept (``Photo``), or the problem: too large (413), not an image or broken (422)."""
    if len(raw) > MAX_UPLOAD:
        raise PhotoTooLargeError(f"a photo is at most {MAX_UPLOAD // (1024 * 1024)} MB; this one is {len(raw)} bytes")
    kind = kind_of(raw)
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(raw)) as opened:
            if opened.format is None or opened.format.lower() != kind:
                raise PhotoInvalidError(f"the content says {kind} but it does not decode as one")
            if opened.width * opened.height > MAX_PIXELS:
                raise PhotoTooLargeError(f"at most {MAX_PIXELS // 1_000_000} megapixels")
            exif = opened.getexif()
            if kind == "jpeg":  # decode at the nearest DCT scale at or above the kept size: 1/2 to 1/8 of the work
                ratio = MAX_SIDE / max(opened.width, opened.height)
                opened.draft("RGB", (int(opened.width * ratio), int(opened.height * ratio)))
            turned = exif.get(ORIENTATION, 1) not in (1, None)
            image = ImageOps.exif_transpose(opened) if turned else opened  # a copy only when it must turn
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoTooLargeError(f"at most {MAX_PIXELS // 1_000_000} megapixels") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise PhotoInvalidError(f"the image cannot be read: {str(exc)[:120]}") from exc
    image.thumbnail((MAX_SIDE, MAX_SIDE), SCALING, reducing_gap=2.0)
    kept = _kept_exif(exif, keep_location)
    located = keep_location and GPS_IFD in exif
    return _encoded(image, "png" if kind == "png" else "jpeg", kept, located)


def _kept_exif(exif: Image.Exif, keep_location: bool) -> bytes:
    """Only the GPS position, when allowed (nothing else of the camera's metadata: make, serial, times)."""
    if not keep_location or GPS_IFD not in exif:
        return b""
    kept = Image.Exif()
    kept[GPS_IFD] = exif.get_ifd(GPS_IFD)
    return kept.tobytes()


def _encoded(image: Image.Image, kind: str, exif: bytes, located: bool) -> Photo:
    if kind == "png" and image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    if kind == "jpeg" and image.mode != "RGB":
        image = image.convert("RGB")
    for quality, side in ((85, MAX_SIDE), (75, 1280), (65, 1024), (55, 800)):
        if max(image.size) > side:
            image.thumbnail((side, side), SCALING, reducing_gap=2.0)
        out = io.BytesIO()
        if kind == "png":
            image.save(out, "PNG", optimize=True, exif=exif)
        else:
            image.save(out, "JPEG", quality=quality, exif=exif)
        if out.tell() <= MAX_STORED:
            return Photo(f"image/{kind}", out.getvalue(), image.width, image.height, located)
        if kind == "png":  # a PNG too large as kept: as a photograph
            kind, image = "jpeg", image.convert("RGB")
    raise PhotoTooLargeError("the photo does not compress to a publishable size")
