"""The export rules as data: every catalogued type has one (a new type cannot leak), every field of an exported
type is kept, pseudonymised or dropped (a new field cannot leak), special categories never leave, rows carry
pseudonyms and no identifier."""

from __future__ import annotations

import json
from dataclasses import replace

from events.catalog import CATALOG
from functions.lake import service
from functions.lake.service import PERSON_COLUMN, Pseudonymiser
from tests.unit.lake import samples
from tests.unit.lake.samples import CASE, CID, DNI, PAYMENT, TICKET

PSEUDO = Pseudonymiser(b"k" * 32)


def test_every_catalogued_type_has_a_valid_rule() -> None:
    assert service.rule_problems(service.rules()) == []
    assert set(service.rules().rules) | set(service.rules().not_exported) == set(CATALOG)


def test_a_new_type_or_a_new_field_without_a_rule_is_a_problem() -> None:
    r = service.rules()
    without = replace(
        r, not_exported={k: v for k, v in r.not_exported.items() if k != "es.madrid.pic.kb.article.updated.v1"}
    )
    assert service.rule_problems(without) == ["es.madrid.pic.kb.article.updated.v1: no export rule"]
    rule = r.rules[CASE]
    forgetful = replace(
        r, rules={**r.rules, CASE: replace(rule, drop={k: v for k, v in rule.drop.items() if k != "subject"})}
    )
    assert f"{CASE}: field 'subject' has no rule (keep, pseudonymise or drop)" in service.rule_problems(forgetful)
    listy = replace(r, rules={**r.rules, CASE: replace(rule, keep=(*rule.keep, "related"), drop={**rule.drop})})
    assert any("'related' is not a scalar" in p for p in service.rule_problems(listy))


def test_free_text_contact_data_and_documents_are_never_kept() -> None:
    """No exported table keeps a field that holds free text, an address, a document or an employee."""
    never = {"subject", "description", "summary", "text", "status_notes", "email", "phone", "address", "document",
             "name", "plate", "reference", "record", "agent_id", "agent", "lat", "long"}  # fmt: skip
    for t, rule in service.rules().rules.items():
        assert not never & set(rule.keep), t
        assert not never & set(rule.pseudonymise), t


def test_a_row_holds_pseudonyms_and_no_identifier() -> None:
    row = service.row_of(service.rules(), CASE, "/pic/case", "e-1", samples.case(), PSEUDO)
    assert row is not None and row.table == "cases" and row.day == "2026-12-07"
    text = json.dumps(row.values)
    assert CID not in text and DNI not in text and "EXP-2026" not in text and "case-0000" not in text
    assert row.values[PERSON_COLUMN] == PSEUDO.of(CID) == row.person and service.PSEUDONYM.fullmatch(row.person)
    assert row.values["case_id"] == PSEUDO.of(samples.case()["case_id"])
    assert row.values["area"] == "hacienda" and "subject" not in row.values and "related" not in row.values
    assert set(row.values) == set(service.columns_of(service.rules(), "cases"))


def test_the_same_person_has_the_same_pseudonym_in_every_table_and_another_key_another() -> None:
    r = service.rules()
    case_row = service.row_of(r, CASE, "/pic/case", "e-1", samples.case(), PSEUDO)
    pay_row = service.row_of(r, PAYMENT, "/pic/payment", "e-2", samples.payment(), PSEUDO)
    assert case_row and pay_row and case_row.person == pay_row.person
    assert Pseudonymiser(b"x" * 32).of(CID) != PSEUDO.of(CID)
    assert "MUL-2026" not in json.dumps(pay_row.values) and "123456" not in json.dumps(pay_row.values)


def test_special_categories_are_never_exported() -> None:
    r = service.rules()
    assert service.row_of(r, CASE, "/pic/case", "e-1", samples.case(area="servicios-sociales"), PSEUDO) is None
    assert service.row_of(r, TICKET, "/pic/routing", "e-2", samples.ticket(area="servicios-sociales"), PSEUDO) is None
    assert service.row_of(r, TICKET, "/legacy/servicios-sociales/x", "e-3", samples.ticket(), PSEUDO) is None
    assert r.special.applies("/pic/position", {"special_category": True})
    assert service.row_of(r, TICKET, "/pic/routing", "e-4", samples.ticket(), PSEUDO) is not None


def test_a_redelivery_is_the_same_row_and_a_type_not_exported_no_row() -> None:
    r = service.rules()
    first = service.row_of(r, CASE, "/pic/case", "e-1", samples.case(), PSEUDO)
    again = service.row_of(r, CASE, "/pic/case", "e-1", samples.case(), PSEUDO)
    assert first == again
    assert service.row_of(r, "es.madrid.pic.kb.article.updated.v1", "/pic/kb", "e", {}, PSEUDO) is None


def test_the_catalogue_names_schema_owner_legal_basis_and_retention_of_each_table() -> None:
    doc = service.catalogue(service.rules(), "s3://bucket/lake")
    names = [t["name"] for t in doc["tables"]]
    assert names == sorted(names) and "cases" in names and len(doc["not_exported"]) > 50
    cases = next(t for t in doc["tables"] if t["name"] == "cases")
    assert "6.1.e" in cases["legal_basis"] and "89" in cases["legal_basis"] and cases["retention"]["years"] == 5
    assert cases["location"] == "s3://bucket/lake/tables/cases" and cases["snapshot"]["name"] == "cases_current"
    person = next(c for c in cases["schema"] if c["name"] == PERSON_COLUMN)
    assert person["pseudonymised"] and cases["title"]["es"] and cases["title"]["en"]
    assert doc["special_category"]["excluded"] and "servicios-sociales" in doc["special_category"]["areas"]


def test_table_and_day_are_checked() -> None:
    import pytest

    with pytest.raises(service.UnknownTableError):
        service.check_table(service.rules(), "../etc")
    assert service.check_table(service.rules(), "cases_current") == "cases_current"
    for bad in ("2026-13-01", "20261207", "2026-12-07' OR 1=1"):
        with pytest.raises(service.InvalidPartitionError):
            service.check_day(bad)
