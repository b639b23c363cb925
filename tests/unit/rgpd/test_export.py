"""The export: pieces under DynamoDB's item limit, and a zip of JSON plus one CSV per domain and table."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.rgpd import export

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@given(st.text(max_size=2_000), st.integers(min_value=1, max_value=300))
def test_pieces_join_back_to_the_text(text: str, size: int) -> None:
    pieces = export.chunks(text, size)
    assert "".join(pieces) == text
    assert all(len(p) <= size for p in pieces)


def test_a_large_export_stays_under_the_item_limit_in_every_piece() -> None:
    # GIVEN an export of about a megabyte with 4-byte characters (the worst case of UTF-8)
    text = export.canonical_json({"notes": ["😀" * 1000] * 250})

    # THEN each piece is under 400 KB of UTF-8, and the pieces join back to what was received
    pieces = export.chunks(text)
    assert len(pieces) > 1
    assert max(len(p.encode("utf-8")) for p in pieces) < 400 * 1024
    assert export.join_chunks(pieces, export.sha256(text)) == {"notes": ["😀" * 1000] * 250}


def test_pieces_that_are_not_what_was_received_are_refused() -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        export.join_chunks(['{"a":1}'], export.sha256('{"a":2}'))


def test_the_zip_holds_the_json_document_and_one_csv_per_table() -> None:
    # GIVEN a domain export with a list table, an object and scalars
    data = {
        "mode": "b",
        "proofs": [{"purpose": "campaigns", "channels": ["email"], "actor": {"kind": "citizen", "id": "c-1"}}],
        "preferences": {"language": "es", "quiet_hours": None},
        "subscriptions": [],
    }

    # WHEN the zip is built
    archive = zipfile.ZipFile(io.BytesIO(export.build_zip({"domains": {"consent": data}}, {"consent": data}, AT)))

    # THEN it has the JSON and a CSV per table, nested objects as dotted columns and lists as JSON cells
    assert set(archive.namelist()) == {
        "export.json",
        "consent/proofs.csv",
        "consent/preferences.csv",
        "consent/subscriptions.csv",
        "consent/consent.csv",
    }
    assert json.loads(archive.read("export.json")) == {"domains": {"consent": data}}
    (row,) = csv.DictReader(io.StringIO(archive.read("consent/proofs.csv").decode()))
    assert row == {"purpose": "campaigns", "channels": '["email"]', "actor.kind": "citizen", "actor.id": "c-1"}
    (prefs,) = csv.DictReader(io.StringIO(archive.read("consent/preferences.csv").decode()))
    assert prefs == {"language": "es", "quiet_hours": ""}
    assert archive.read("consent/consent.csv").decode().splitlines() == ["mode", "b"]


def test_a_formula_in_a_domains_data_is_not_a_formula_in_its_csv() -> None:
    # GIVEN an interactions export whose topic is a spreadsheet formula (OWASP "CSV injection")
    topic = '=HYPERLINK("http://evil","x")'
    data = {"interactions": [{"topic": topic, "amount": "-12.50", "channel": {"name": "@web"}}]}

    # WHEN the zip is built
    archive = zipfile.ZipFile(
        io.BytesIO(export.build_zip({"domains": {"interaction": data}}, {"interaction": data}, AT))
    )

    # THEN the CSV cell is neutralised (a leading quote) while a plain number stays a number
    (row,) = csv.DictReader(io.StringIO(archive.read("interaction/interactions.csv").decode()))
    assert row == {"topic": "'" + topic, "amount": "-12.50", "channel.name": "'@web"}
    # AND export.json keeps the value verbatim
    assert json.loads(archive.read("export.json"))["domains"]["interaction"] == data
