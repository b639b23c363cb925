"""Reading the council's agenda (functions/agenda/ingest.py): every record loaded or refused with its reason."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from functions.agenda import ingest
from functions.agenda.ingest import MADRID, FileError

DATA = Path(__file__).resolve().parents[3] / "functions" / "agenda" / "data"
KOS = "https://datos.madrid.es/egob/kos/actividades/"
SOL = {"latitude": 40.41693, "longitude": -3.70358}


def record(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "1001", "title": "Concierto", "dtstart": "2027-03-26 00:00:00.0",
                            "dtend": "2027-03-26 23:59:00.0", "time": "19:00", "free": 1, "price": "",
                            "@type": f"{KOS}Musica", "location": SOL}  # fmt: skip
    base.update(kw)
    return base


def one(**kw: Any) -> ingest.Parsed:
    return ingest.parse(json.dumps({"@graph": [record(**kw)]}).encode(), "json-ld")


def test_the_sample_file_loads_57_events_and_refuses_6_records_each_with_its_reason() -> None:
    # GIVEN the agenda shipped for make run (63 records, the awkward ones among them)
    parsed = ingest.parse((DATA / "agenda-sample.json").read_bytes(), "json-ld")
    # THEN every record is accounted for: loaded or refused, never lost
    assert parsed.records == 63 and len(parsed.events) + len(parsed.rejected) == 63
    assert {r["reason"].split(" ")[0] for r in parsed.rejected} == {"no", "dtend", "recurrence", "id"}
    assert len({e.district for e in parsed.events}) == 21  # every district has events


def test_local_times_are_europe_madrid_across_the_daylight_saving_change() -> None:
    # GIVEN a weekly Friday event at 19:00 over the last Sunday of March 2027 (clocks go forward on the 28th)
    parsed = one(dtend="2027-04-02 23:59:00.0", recurrence={"days": "FR", "frequency": "WEEKLY", "interval": 1})
    first, second = parsed.events[0].starts
    # THEN both are 19:00 in Madrid: 18:00 UTC in winter time, 17:00 UTC in summer time
    assert (first.hour, second.hour) == (19, 19) and first.tzinfo == MADRID
    assert first.utcoffset().total_seconds() == 3600 and second.utcoffset().total_seconds() == 7200  # type: ignore[union-attr]


def test_excluded_days_are_day_month_year_and_a_bad_one_is_reported() -> None:
    parsed = one(dtstart="2026-12-21 00:00:00.0", dtend="2027-01-03 23:59:00.0",
                 recurrence={"days": "MO,FR", "frequency": "WEEKLY", "interval": 1},
                 **{"excluded-days": "25/12/2026;28/12/2026;31/02/2027"})  # fmt: skip
    days = [s.date().isoformat() for s in parsed.events[0].starts]
    assert days == ["2026-12-21", "2027-01-01"]
    assert parsed.warnings[0]["warning"] == "excluded day '31/02/2027' is not d/m/yyyy: ignored"


def test_a_fortnightly_recurrence_skips_every_other_week() -> None:
    parsed = one(dtstart="2027-01-04 00:00:00.0", dtend="2027-01-31 23:59:00.0",
                 recurrence={"days": "SA", "frequency": "WEEKLY", "interval": 2})  # fmt: skip
    assert [s.day for s in parsed.events[0].starts] == [9, 23]


@pytest.mark.parametrize(
    ("free", "price", "shown_free", "remark"),
    [
        (1, "Entrada: 5 euros", False, "free says free but the price text names an amount"),
        (0, "Entrada libre hasta completar aforo", True, "free says paid but the price text says free"),
        (1, "", True, None),
        (0, "Precio: 3,50 €", False, None),
    ],
)
def test_free_and_the_price_text_that_disagree(free: int, price: str, shown_free: bool, remark: str | None) -> None:
    parsed = one(free=free, price=price)
    assert parsed.events[0].free is shown_free
    assert [w["warning"][: len(remark)] for w in parsed.warnings] == ([remark] if remark else [])


def test_no_location_or_zero_or_outside_madrid_is_loaded_without_coordinates_and_reported() -> None:
    for location in (None, {"latitude": 0, "longitude": 0}, {"latitude": 40.3057, "longitude": -3.7329}):
        parsed = one(location=location, address={"district": {"@id": "https://x/Distrito/PuenteDeVallecas"}})
        event = parsed.events[0]
        assert (event.lat, event.lon, event.cell, event.district) == (None, None, None, "13")
        assert len(parsed.warnings) == 1


def test_stray_control_characters_are_removed_even_raw_in_the_json() -> None:
    raw = json.dumps({"@graph": [record(title="Baile PLACEHOLDER de salón")]}).replace("PLACEHOLDER", "\x0b\x02")
    parsed = ingest.parse(raw.encode(), "json-ld")
    assert parsed.events[0].title == "Baile de salón"
    assert parsed.warnings == [
        {"record": "@graph[0]", "id": "1001", "warning": "control characters removed from title"}
    ]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"title": "  "}, "no title"),
        ({"id": None}, "no id (or not letters and digits)"),
        ({"dtstart": "mañana"}, "dtstart 'mañana' is not a date (yyyy-mm-dd hh:mm:ss.f)"),
        ({"dtend": "2027-03-01 00:00:00.0"}, "dtend is before dtstart"),
        ({"excluded-days": "26/3/2027"}, "no day is left once the excluded days are taken out"),
        (
            {"recurrence": {"days": "MO", "frequency": "DAILY"}},
            "recurrence frequency 'DAILY': only WEEKLY is published",
        ),
    ],
)
def test_a_malformed_record_is_refused_with_its_reason(change: dict[str, Any], reason: str) -> None:
    parsed = one(**change)
    assert parsed.events == [] and parsed.rejected[0]["reason"] == reason


def test_the_csv_variant_is_windows_1252_with_spanish_weekdays() -> None:
    parsed = ingest.parse((DATA / "agenda-sample.csv").read_bytes(), "csv")
    retiro, ceramica = parsed.events
    assert retiro.title == "Música en el Retiro: bandas del distrito" and (retiro.district, retiro.barrio) == (
        "03",
        "035",
    )
    assert {s.weekday() for s in retiro.starts} == {5, 6} and retiro.starts[0] == datetime(
        2026, 12, 5, 12, tzinfo=MADRID
    )
    assert ceramica.free is False and ceramica.category == "talleres"
    assert parsed.rejected == [{"record": "line 4", "id": "50440003", "reason": "no dtstart"}]


@pytest.mark.parametrize(
    ("content", "fmt"), [(b"{not json", "json-ld"), (b'{"data": []}', "json-ld"), (b"a;b\n1;2", "csv")]
)
def test_a_file_that_is_not_the_agenda_is_refused_whole(content: bytes, fmt: ingest.Format) -> None:
    with pytest.raises(FileError):
        ingest.parse(content, fmt)


def test_the_content_hash_changes_with_what_a_person_sees_and_only_then() -> None:
    first, again, changed = one().events[0], one().events[0], one(price="Entrada: 2 euros").events[0]
    assert first.content_hash() == again.content_hash() != changed.content_hash()
    assert ingest.from_json(ingest.as_json(first)) == first
