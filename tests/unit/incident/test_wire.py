"""The photo checks (type by content, size, EXIF location) and Open311's wire formats (the spec's XML element names
and its error list), without the platform."""

from __future__ import annotations

import io
import json
from xml.etree import ElementTree as ET

import pytest
from PIL import Image

from functions.core.errors import ForbiddenError, ValidationError
from functions.incident import open311, photos, service

GPS = 0x8825


def jpeg(size: tuple[int, int] = (640, 480), gps: bool = True) -> bytes:
    image = Image.new("RGB", size, (200, 180, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make: never kept
    if gps:
        exif[GPS] = {1: "N", 2: (40.0, 25.0, 1.0), 3: "W", 4: (3.0, 42.0, 13.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def exif_of(data: bytes) -> Image.Exif:
    with Image.open(io.BytesIO(data)) as image:
        return image.getexif()


def test_a_photos_location_and_camera_data_are_dropped_unless_allowed() -> None:
    stripped = photos.prepared(jpeg(), keep_location=False)
    assert stripped.content_type == "image/jpeg" and not stripped.located
    assert GPS not in exif_of(stripped.data) and 0x010F not in exif_of(stripped.data)
    kept = photos.prepared(jpeg(), keep_location=True)
    assert kept.located and exif_of(kept.data).get_ifd(GPS)[1] == "N" and 0x010F not in exif_of(kept.data)


def test_a_large_photo_is_scaled_to_fit_one_item() -> None:
    noisy = Image.effect_noise((2400, 1800), 60).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "JPEG", quality=70)
    kept = photos.prepared(out.getvalue(), keep_location=False)
    assert max(kept.width, kept.height) <= photos.MAX_SIDE and len(kept.data) <= photos.MAX_STORED


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"%PDF-1.7 not an image", service.PhotoInvalidError),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", service.PhotoInvalidError),
        (b"\xff\xd8\xff" + b"\x00" * 100, service.PhotoInvalidError),  # a JPEG's magic, then nothing decodable
        (b"\x89PNG\r\n\x1a\n" + jpeg()[3:], service.PhotoInvalidError),  # says PNG, is not
        (b"\xff\xd8\xff" + b"\x00" * (photos.MAX_UPLOAD + 1), service.PhotoTooLargeError),
    ],
)
def test_what_is_not_a_publishable_image_is_refused(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        photos.prepared(raw, keep_location=False)


def test_the_services_in_xml_use_the_specs_element_names() -> None:
    status, body, content_type = open311.answer("xml", "services", [{"service_code": "a", "metadata": True,
                                                                     "group": None}])  # fmt: skip
    assert (status, content_type) == (200, "text/xml; charset=utf-8")
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(body)
    assert root.tag == "services" and root.find("service/metadata").text == "true"  # type: ignore[union-attr]
    assert root.find("service/group").text is None  # type: ignore[union-attr]


def test_a_definitions_attributes_and_values_nest_as_the_spec() -> None:
    definition = {"service_code": "a", "attributes": [{"code": "x", "values": [{"key": "k", "name": "K"}]}]}
    root = ET.fromstring(open311.to_xml("service_definition", definition))
    assert root.find("attributes/attribute/values/value/key").text == "k"  # type: ignore[union-attr]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_refusals_are_the_specs_error_list(fmt: open311.Format) -> None:
    refused = open311.errors_body(fmt, ValidationError("bad", errors=[{"field": "lat", "message": "a number"}]))
    assert refused.status_code == 400  # GeoReport v2 has no 422
    forbidden = open311.errors_body(fmt, ForbiddenError("api_key is not registered"))
    if fmt == "json":
        assert json.loads(refused.data) == [{"code": 400, "description": "lat: a number"}]
        assert json.loads(forbidden.data) == [{"code": 403, "description": "api_key is not registered"}]
    else:
        root = ET.fromstring(forbidden.data)
        assert (root.tag, root.find("error/code").text) == ("errors", "403")  # type: ignore[union-attr]
