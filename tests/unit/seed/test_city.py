"""The synthetic city: determinism, ground truth, valid and planted-invalid documents, noise rates, Madrid
districts, both file formats, and constant memory while streaming."""

from __future__ import annotations

import csv
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.es import dni, nie

from functions.core.madrid import find_zone, zones
from seed.city import (
    CSV_COLUMNS,
    DISTRICT_POPULATION,
    DISTRICT_POSTAL_CODES,
    NOISE_KINDS,
    SYSTEMS,
    CityConfig,
    NoiseRates,
    Person,
    SystemRecord,
    _Permutation,
    apply_typo,
    fold_accents,
    generate,
    main,
    nickname_of,
    unflatten,
    write_city,
)
from tests.unit.conftest import ROOT

SOURCES = {s.source: s.name for s in SYSTEMS}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def read_city(out: Path, fmt: str = "jsonl") -> dict[tuple[str, str], dict[str, Any]]:
    """Every record of every system, keyed by (source, local_id)."""
    records: dict[tuple[str, str], dict[str, Any]] = {}
    for system in SYSTEMS:
        path = out / f"{system.name}.{fmt}"
        if fmt == "jsonl":
            rows: list[dict[str, Any]] = read_jsonl(path)
        else:
            with path.open(encoding="utf-8", newline="") as handle:
                reader = csv.DictReader(handle)
                assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
                rows = [dict(unflatten(row)) for row in reader]
        for row in rows:
            key = (system.source, row["local_id"])
            assert key not in records, f"local_id {key} appears twice"
            records[key] = row
    return records


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def phone_digits(phone: str) -> str:
    digits = re.sub(r"[\s\-]", "", phone)
    for prefix in ("+34", "0034"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def people_with(rates: NoiseRates, people: int = 300, seed: int = 11) -> Iterator[tuple[Person, list[SystemRecord]]]:
    return generate(CityConfig(people=people, seed=seed, rates=rates))


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A 2,000-person city with the default noise, written once for the module."""
    out = tmp_path_factory.mktemp("city")
    return out, write_city(CityConfig(people=2000, seed=7), out)


@pytest.fixture(scope="module")
def truth(city: tuple[Path, dict[str, Any]]) -> list[dict[str, Any]]:
    return read_jsonl(city[0] / "ground_truth.jsonl")


# ---------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------


def test_the_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    # GIVEN two runs with the same seed and one with another seed
    config = CityConfig(people=400, seed=42)
    write_city(config, tmp_path / "a")
    write_city(config, tmp_path / "b")
    write_city(replace(config, seed=43), tmp_path / "c")

    # THEN the first two are identical file by file, and the third is a different city
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert len(names) == len(SYSTEMS) + 2
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "padron.jsonl").read_bytes() != (tmp_path / "c" / "padron.jsonl").read_bytes()


def test_the_city_does_not_depend_on_the_process_hash_seed(tmp_path: Path) -> None:
    # GIVEN the CLI run twice in fresh interpreters with different PYTHONHASHSEEDs
    for hash_seed, out in (("1", tmp_path / "a"), ("2", tmp_path / "b")):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        args = [sys.executable, "-m", "seed.city", "--people", "200", "--seed", "5", "--out", str(out)]
        subprocess.run(args, check=True, env=env, cwd=ROOT, capture_output=True)

    # THEN both wrote the same ground truth and the same Padrón
    for name in ("ground_truth.jsonl", "padron.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


# ---------------------------------------------------------------------------
# Ground truth and summary
# ---------------------------------------------------------------------------


def test_ground_truth_covers_every_record_exactly_once(
    city: tuple[Path, dict[str, Any]], truth: list[dict[str, Any]]
) -> None:
    # GIVEN the written city
    out, summary = city
    records = read_city(out)

    # THEN every record has one ground-truth line and every line points at a record
    keys = [(t["source"], t["local_id"]) for t in truth]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(records)
    assert all(set(t) == {"person_id", "source", "local_id", "noise"} for t in truth)
    # AND every person is somewhere, and the summary counts what the files hold
    assert len({t["person_id"] for t in truth}) == summary["people"] == 2000
    assert summary["records"] == len(records)
    by_system = Counter(SOURCES[source] for source, _ in records)
    assert {name: s["records"] for name, s in summary["systems"].items()} == dict(by_system)
    assert summary["planted"] == {kind: sum(kind in t["noise"] for t in truth) for kind in NOISE_KINDS}


def test_every_record_carries_the_contract_fields(city: tuple[Path, dict[str, Any]]) -> None:
    # GIVEN the written city
    records = read_city(city[0])

    # THEN each record has the upserted.v1 data keys, with a local_id and well-formed values
    keys = {"local_id", "document", "given_name", "first_surname", "second_surname", "birth_date", "email", "phone"}
    for record in records.values():
        assert set(record) == keys | {"address"}
        assert record["local_id"]
        assert record["given_name"] and record["first_surname"]
        if record["document"] is not None:
            assert record["document"]["type"] in {"DNI", "NIE", "PASSPORT"}
        if record["birth_date"] is not None:
            assert date.fromisoformat(record["birth_date"]) < date(2026, 1, 1)
        if record["email"] is not None:
            assert re.fullmatch(r"[a-z0-9._]+@[a-z0-9.]+\.[a-z]+", record["email"]), record["email"]
        if record["phone"] is not None:
            assert re.fullmatch(r"(6\d|7[1-4]|91)\d{7}", phone_digits(record["phone"])), record["phone"]
        if record["address"] is not None:
            assert set(record["address"]) == {"street", "number", "postal_code", "district"}


def test_phones_come_in_the_varied_formats_people_type(city: tuple[Path, dict[str, Any]]) -> None:
    # GIVEN the phones of the city
    phones = [r["phone"] for r in read_city(city[0]).values() if r["phone"]]

    # THEN international, 0034 and bare forms all occur
    assert any(p.startswith("+34 6") for p in phones)
    assert any(p.startswith("0034") for p in phones)
    assert any(re.fullmatch(r"[67]\d{8}", p) for p in phones)
    assert any(p.startswith(("91", "+34 91")) for p in phones)


# ---------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------


def test_every_dni_and_nie_validates_unless_a_wrong_letter_was_planted(
    city: tuple[Path, dict[str, Any]], truth: list[dict[str, Any]]
) -> None:
    # GIVEN each record's planted noise
    records = read_city(city[0])
    noise = {(t["source"], t["local_id"]): t["noise"] for t in truth}
    checked = Counter[str]()

    # WHEN each DNI/NIE is validated with python-stdnum
    for key, record in records.items():
        document = record["document"]
        if document is None or document["type"] == "PASSPORT":
            continue
        valid = (dni if document["type"] == "DNI" else nie).is_valid(document["number"])
        planted = "wrong_check_letter" in noise[key]

        # THEN it is valid exactly when no wrong letter was planted
        assert valid != planted, (document, noise[key])
        checked[f"{document['type']}:{planted}"] += 1

    assert checked["DNI:False"] > 1000 and checked["NIE:False"] > 100
    assert checked["DNI:True"] + checked["NIE:True"] == city[1]["invalid_documents"] > 0


def test_one_document_number_never_belongs_to_two_people(
    city: tuple[Path, dict[str, Any]], truth: list[dict[str, Any]]
) -> None:
    # GIVEN the valid documents and whose records they are on
    records = read_city(city[0])
    owner = {(t["source"], t["local_id"]): t["person_id"] for t in truth}
    holders: dict[str, set[str]] = {}
    for key, record in records.items():
        document = record["document"]
        if document is None:
            continue
        number = re.sub(r"[\s\-]", "", document["number"]).upper()
        if document["type"] != "PASSPORT" and not (dni if document["type"] == "DNI" else nie).is_valid(number):
            continue
        holders.setdefault(number, set()).add(owner[key])

    # THEN each number identifies one person (across systems and duplicates)
    assert holders
    assert all(len(people) == 1 for people in holders.values())


def test_foreign_residents_carry_nies_and_some_passports(city: tuple[Path, dict[str, Any]]) -> None:
    # GIVEN the summary of who holds which document
    by_document = city[1]["people_by_document"]

    # THEN most are DNIs, about a fifth NIE or passport, and some children none
    assert by_document["DNI"] / 2000 == pytest.approx(0.75, abs=0.07)
    assert by_document["NIE"] > 5 * by_document["PASSPORT"] > 0
    assert by_document["none"] > 0


# ---------------------------------------------------------------------------
# Noise
# ---------------------------------------------------------------------------


def test_planted_noise_roughly_follows_the_configured_rates(city: tuple[Path, dict[str, Any]]) -> None:
    # GIVEN the default rates and the counts planted in 2,000 people's records
    _, summary = city
    rates = NoiseRates()
    planted = summary["planted"]
    records = summary["records"]
    with_id = records - summary["records_without_document"] + planted["missing_document"]

    # THEN the per-record frequencies are within loose bounds of the rates (the bounds are wide because
    # some defects need a qualifying record: two surnames, an accent, an abbreviable name, a DNI/NIE)
    def share(kind: str, base: int) -> float:
        return float(planted[kind]) / base / float(getattr(rates, kind))

    assert 0.6 < share("duplicate", records) < 1.4
    assert 0.6 < share("typo", records) < 1.4
    assert 0.6 < share("surnames_swapped", records) < 1.4
    assert 0.6 < share("missing_document", with_id) < 1.4
    assert 0.4 < share("wrong_check_letter", with_id) < 1.6
    assert 0.3 < share("accents_dropped", records) < 1.2
    assert 0.08 < share("given_name_abbreviated", records) < 1.0
    assert 0.2 < share("email_changed", records) < 1.0
    assert 0.2 < share("phone_changed", records) < 1.0


def test_without_noise_every_record_tells_the_truth() -> None:
    # GIVEN a city with every rate at zero
    for person, records in people_with(NoiseRates.none()):
        for item in records:
            # THEN names and documents are exactly the person's
            record = item.record
            assert item.noise == ()
            assert (record["given_name"], record["first_surname"], record["second_surname"]) == (
                person.given_name,
                person.first_surname,
                person.second_surname,
            )
            if person.document is not None:
                assert record["document"] is not None
                compact = re.sub(r"[\s\-]", "", record["document"]["number"]).upper()
                assert compact == person.document["number"]


@pytest.mark.parametrize("kind", [k for k in NOISE_KINDS if k != "duplicate"])
def test_each_kind_of_noise_does_what_its_name_says(kind: str) -> None:
    # GIVEN a city where only this kind of noise is planted, on every qualifying record
    rates = replace(NoiseRates.none(), **{kind: 1.0})
    seen = 0
    for person, records in people_with(rates):
        for item in records:
            if kind not in item.noise:
                continue
            seen += 1
            record = item.record
            names = (record["given_name"], record["first_surname"], record["second_surname"])
            truth = (person.given_name, person.first_surname, person.second_surname)
            # THEN the record differs from the person in exactly the planted way
            if kind == "typo":
                changed = [(a, b) for a, b in zip(names, truth, strict=True) if a != b]
                assert len(changed) == 1 and edit_distance(str(changed[0][0]), str(changed[0][1])) == 1
            elif kind == "accents_dropped":
                assert names != truth
                assert names == tuple(fold_accents(n) if n else n for n in truth)
            elif kind == "surnames_swapped":
                assert names == (person.given_name, person.second_surname, person.first_surname)
            elif kind == "given_name_abbreviated":
                first = str(record["given_name"]).split(" ", 1)[0]
                assert first.endswith((".", "ª")) or first in ("Fco", "Jose"), record["given_name"]
            elif kind == "missing_document":
                assert person.document is not None and record["document"] is None
            elif kind == "wrong_check_letter":
                assert record["document"] is not None and person.document is not None
                shown = re.sub(r"[\s\-]", "", record["document"]["number"]).upper()
                assert shown[:-1] == person.document["number"][:-1] and shown != person.document["number"]
            elif kind == "email_changed":
                assert record["email"] == person.old_email != person.email
            elif kind == "phone_changed":
                assert record["phone"] is not None and person.old_mobile is not None
                assert phone_digits(record["phone"]) == person.old_mobile != person.mobile
            elif kind == "nickname":
                assert item.system == "deportes" and record["document"] is None
                assert record["given_name"] == nickname_of(person.given_name) != person.given_name
                assert (record["first_surname"], record["second_surname"]) == truth[1:]
                assert record["birth_date"] == person.birth_date.isoformat()
                assert record["address"] == person.address
    assert seen > (5 if kind == "nickname" else 10)  # few names have a usual nickname


def test_a_planted_duplicate_is_the_same_person_under_another_local_id() -> None:
    # GIVEN a city where every record is duplicated
    for _person, records in people_with(replace(NoiseRates.none(), duplicate=1.0), people=100):
        by_system = Counter(item.system for item in records)
        # THEN each system holds the person twice, under two local_ids, one of them marked
        assert set(by_system.values()) == {2}
        assert len({(item.system, item.record["local_id"]) for item in records}) == len(records)
        assert sum("duplicate" in item.noise for item in records) == len(by_system)


@settings(max_examples=200, deadline=None)
@given(name=st.text(alphabet="abcdefghijklmnñopqrstuvwxyzáéíóú", min_size=3, max_size=20), seed=st.integers(0, 10**6))
def test_a_typo_is_exactly_one_edit(name: str, seed: int) -> None:
    # GIVEN any lower-case name of three letters or more
    name = name.capitalize()
    # WHEN a typo is planted
    typed = apply_typo(name, random.Random(seed))
    # THEN it is one edit away (or, for a name like "Aaa" that no edit can change visibly, unchanged)
    assert typed == name or edit_distance(typed, name) == 1


def test_local_ids_come_from_a_bijection_so_they_never_collide() -> None:
    # GIVEN a seeded permutation over 10^7 numbers
    permutation = _Permutation(10**7, random.Random(3))
    # THEN 100,000 consecutive indices give 100,000 different numbers
    assert len({permutation(i) for i in range(100_000)}) == 100_000


# ---------------------------------------------------------------------------
# Madrid
# ---------------------------------------------------------------------------


def test_every_district_code_is_an_official_one(city: tuple[Path, dict[str, Any]]) -> None:
    # GIVEN the official district codes (madrid_zones.json)
    official = {code for code, zone in zones().items() if zone.kind == "district"}
    assert len(official) == 21

    # THEN the generator's tables use exactly those codes
    assert set(DISTRICT_POPULATION) == official == set(DISTRICT_POSTAL_CODES)
    # AND every address in the city is in one of them, with a Madrid postal code, or is outside Madrid
    districts = Counter[str]()
    for record in read_city(city[0]).values():
        address = record["address"]
        if address is None:
            continue
        if address["district"] is None:
            assert not address["postal_code"].startswith("280")
            continue
        zone = find_zone(address["district"])
        assert zone is not None and zone.kind == "district"
        assert re.fullmatch(r"280\d\d", address["postal_code"])
        assert address["postal_code"] in DISTRICT_POSTAL_CODES[address["district"]]
        districts[address["district"]] += 1
    assert len(districts) == 21
    # AND the most populous district (Carabanchel) outnumbers the least (Barajas)
    assert districts["11"] > 2 * districts["21"]


def test_ages_have_the_shape_of_a_city(tmp_path: Path) -> None:
    # GIVEN 2,000 people
    people = [person for person, _ in people_with(NoiseRates.none(), people=2000)]
    ages = [p.age() for p in people]

    # THEN about a sixth are minors, about a fifth 65 or over, nobody over 100
    assert 0.10 < sum(a < 18 for a in ages) / len(ages) < 0.24
    assert 0.14 < sum(a >= 65 for a in ages) / len(ages) < 0.27
    assert max(ages) < 101
    # AND names look Spanish: compound given names and two surnames are common
    assert sum(" " in p.given_name for p in people) / len(people) > 0.08
    assert sum(p.second_surname is not None for p in people) / len(people) > 0.85
    # AND almost everyone lives in Madrid and is in its Padrón
    assert sum(p.resident for p in people) / len(people) > 0.95


def test_almost_every_resident_is_in_the_padron() -> None:
    # GIVEN the people and the systems they appear in
    residents = in_padron = 0
    for person, records in people_with(NoiseRates.none(), people=1000):
        if person.resident:
            residents += 1
            in_padron += any(item.system == "padron" for item in records)
        else:
            # THEN a non-resident is never in the Padrón
            assert all(item.system != "padron" for item in records)
        assert records, "everyone appears in at least one system"
    assert in_padron / residents > 0.97


# ---------------------------------------------------------------------------
# Formats and CLI
# ---------------------------------------------------------------------------


def test_csv_and_jsonl_carry_the_same_records(tmp_path: Path) -> None:
    # GIVEN the same city written as JSONL and as CSV
    config = CityConfig(people=500, seed=3)
    write_city(config, tmp_path / "jsonl", "jsonl")
    summary = write_city(config, tmp_path / "csv", "csv")

    # THEN both parse, to the same records, with the same ground truth
    assert read_city(tmp_path / "csv", "csv") == read_city(tmp_path / "jsonl", "jsonl")
    assert (tmp_path / "csv" / "ground_truth.jsonl").read_bytes() == (
        tmp_path / "jsonl" / "ground_truth.jsonl"
    ).read_bytes()
    assert summary["systems"]["padron"]["file"] == "padron.csv"


def test_the_cli_writes_the_city_and_rate_overrides(tmp_path: Path) -> None:
    # WHEN the CLI runs with a rate override
    args = ["--people", "300", "--seed", "9", "--out", str(tmp_path), "--format", "csv", "--rate", "typo=0"]
    assert main(args) == 0

    # THEN the files are there and the override took effect
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["rates"]["typo"] == 0 and summary["planted"]["typo"] == 0
    assert {p.name for p in tmp_path.iterdir()} == {f"{s.name}.csv" for s in SYSTEMS} | {
        "ground_truth.jsonl",
        "summary.json",
    }
    assert {s["source"] for s in summary["systems"].values()} == {f"/legacy/{s.name}" for s in SYSTEMS}


@pytest.mark.parametrize("rate", ["typo=2", "bogus=0.1", "typo"])
def test_the_cli_refuses_unknown_or_impossible_rates(tmp_path: Path, rate: str) -> None:
    with pytest.raises(SystemExit):
        main(["--people", "10", "--out", str(tmp_path), "--rate", rate])


# ---------------------------------------------------------------------------
# Streaming
# ---------------------------------------------------------------------------


def _peak_rss_mib(people: int, out: Path) -> float:
    """Peak resident memory of a CLI run in a fresh interpreter (os.wait4 reports that child's own peak)."""
    args = [sys.executable, "-m", "seed.city", "--people", str(people), "--seed", "1", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0
    return usage.ru_maxrss / 1024  # kilobytes on Linux


@pytest.mark.skipif(not hasattr(os, "wait4"), reason="needs os.wait4 (POSIX)")
def test_twenty_thousand_people_stream_in_constant_memory(tmp_path: Path) -> None:
    # GIVEN a small city and a city ten times larger
    small = _peak_rss_mib(2_000, tmp_path / "small")
    large = _peak_rss_mib(20_000, tmp_path / "large")
    written = sum(p.stat().st_size for p in (tmp_path / "large").iterdir()) / 2**20

    # THEN the larger city needs less than 8 MiB more at its peak. The bound: the eight shuffle buffers
    # hold at most 8 x 1,024 lines of ~350 bytes (about 3 MiB), so 8 MiB leaves room for allocator slack;
    # the ~48,000 records of the large city take more than 16 MiB even as bare JSON lines (and several
    # times that as dicts), so a generator that kept a list of them could not pass.
    assert written > 16
    assert large - small < 8, f"peak RSS grew from {small:.1f} MiB to {large:.1f} MiB"
