"""Identity evidence for C360 matching: documents, Spanish names, e-mail, phone, postal code, blocking keys."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.es import dni, nie

from functions.citizen.identity import (
    Address,
    Document,
    IdentityError,
    SourceRecord,
    UnknownDocumentTypeError,
    blocking_keys,
    document_digits,
    normalise_document,
    normalise_email,
    normalise_name,
    normalise_phone,
    normalise_postal_code,
    phonetic_key,
)
from functions.core.errors import ValidationError

# The NIF letter table of Real Decreto 1553/2005 art. 11, as facts.md §6 quotes it from ordenacionjuego.es:
# an oracle independent of python-stdnum, used only to check that stdnum and the law agree.
LAW_TABLE = "TRWAGMYFPDXBNJZSQVHLCKE"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def strip_accents(text: str) -> str:
    return unicodedata.normalize(
        "NFC", "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    )


# ---------------------------------------------------------------------------
# Documents: DNI, NIE, passport
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["12345678Z", "31415927C"])
def test_the_worked_examples_of_the_sources_are_valid_dnis(number: str) -> None:
    # GIVEN the worked examples of facts.md §6 (12345678 mod 23 = 14 → Z; 31415927 mod 23 = 20 → C)
    # WHEN they are normalised as DNIs
    document = normalise_document("DNI", number)
    # THEN they are valid, with no finding
    assert document == Document(type="DNI", number=number, valid=True, finding=None)


@pytest.mark.parametrize("written", ["12.345.678-Z", " 12345678 z ", "12345678-z", "12 345 678 Z"])
def test_a_dni_written_with_dots_dashes_spaces_or_lower_case_has_one_canonical_form(written: str) -> None:
    # GIVEN a DNI as people write it on forms
    # WHEN it is normalised (the type is case-insensitive too)
    document = normalise_document("dni", written)
    # THEN it is the compact canonical form, valid
    assert (document.type, document.number, document.valid) == ("DNI", "12345678Z", True)


def test_a_wrong_check_letter_is_a_finding_that_names_the_right_letter() -> None:
    # GIVEN 12345678 with the letter A instead of Z
    # WHEN it is normalised
    document = normalise_document("DNI", "12345678A")
    # THEN it is not valid, is not an exception, and the finding says which letter it should end in
    assert document.valid is False
    assert document.number == "12345678A"
    assert document.finding == "wrong check letter: 12345678A should end in Z"


@pytest.mark.parametrize(("number", "letter"), [("X1234567L", "L"), ("Y1234567X", "X"), ("Z1234567R", "R")])
def test_nie_prefixes_x_y_z_count_as_0_1_2(number: str, letter: str) -> None:
    # GIVEN NIEs with each initial letter, whose check letter the law's table gives for 0/1/2 + 7 digits
    digit = str("XYZ".index(number[0]))
    assert LAW_TABLE[int(digit + number[1:8]) % 23] == letter
    # WHEN they are normalised as NIEs
    document = normalise_document("NIE", number.lower())
    # THEN they are valid and canonical
    assert document == Document(type="NIE", number=number, valid=True, finding=None)


def test_a_nie_with_a_wrong_letter_is_a_finding_that_names_the_right_letter() -> None:
    # GIVEN X1234567 with A instead of L
    # WHEN it is normalised
    document = normalise_document("NIE", "X-1234567-A")
    # THEN the finding names L
    assert (document.number, document.valid) == ("X1234567A", False)
    assert document.finding == "wrong check letter: X1234567A should end in L"


@pytest.mark.parametrize(
    ("kind", "number", "finding"),
    [
        ("DNI", "12345678", "missing check letter: 12345678 should be followed by Z"),
        ("DNI", "123456789", "no check letter: 123456789 ends in '9'; 12345678 should be followed by Z"),
        ("DNI", "1234567L", "wrong length: 1234567L has 7 digits; 01234567L would be valid (leading zero lost?)"),
        ("DNI", "123456Z", "wrong length: 123456Z has 7 characters; a DNI is 8 digits and a check letter"),
        ("DNI", "X1234567L", "not a DNI: X1234567L is a valid NIE"),
        ("DNI", "1234S678Z", "not a DNI: 1234S678Z is not 8 digits and a check letter"),
        ("DNI", "  ", "empty DNI number"),
        ("NIE", "12345678Z", "not a NIE: 12345678Z is a valid DNI"),
        ("NIE", "X1234567", "missing check letter: X1234567 should be followed by L"),
        ("NIE", "A1234567L", "not a NIE: A1234567L is not X, Y or Z, 7 digits and a check letter"),
        (
            "NIE",
            "X12345678L",
            "wrong length: X12345678L has 10 characters; a NIE is X, Y or Z, 7 digits and a check letter",
        ),
    ],
)
def test_an_unreadable_document_is_a_finding_not_an_exception(kind: str, number: str, finding: str) -> None:
    # GIVEN a document of the wrong length, characters or type
    # WHEN it is normalised
    document = normalise_document(kind, number)
    # THEN it is invalid and the finding says what is wrong, for the data-quality report
    assert document.valid is False
    assert document.finding == finding


def test_a_passport_is_upper_cased_without_spaces_or_dashes_and_has_no_check_digit() -> None:
    # GIVEN passport numbers as typed, one with characters no passport has
    # WHEN they are normalised
    good = normalise_document("Pasaporte", " paa 123-456 ")
    bad = normalise_document("PASSPORT", "PA/12")
    # THEN the first is compact and valid, the second a finding
    assert good == Document(type="PASSPORT", number="PAA123456", valid=True, finding=None)
    assert bad.valid is False and bad.finding is not None and "PA/12" in bad.finding


def test_an_unknown_document_type_is_a_validation_error() -> None:
    # GIVEN a document type with no rule (a driving licence)
    # WHEN it is normalised
    with pytest.raises(UnknownDocumentTypeError) as caught:
        normalise_document("CARNET", "12345678Z")
    # THEN it is a 422 validation problem that names the accepted types
    assert isinstance(caught.value, IdentityError) and isinstance(caught.value, ValidationError)
    problem = caught.value.to_problem()
    assert (problem["status"], problem["type"]) == (422, "/problems/validation")
    assert problem["errors"] == [{"field": "document.type", "message": "one of DNI, NIE, PASSPORT"}]


@given(st.integers(min_value=0, max_value=99_999_999), st.sampled_from(LETTERS))
def test_any_8_digit_number_is_valid_with_its_letter_and_a_finding_with_any_other(number: int, letter: str) -> None:
    # GIVEN any 8-digit number and the letter stdnum computes for it
    digits = f"{number:08d}"
    right = dni.calc_check_digit(digits)
    # WHEN it is normalised with that letter, and with another one
    document = normalise_document("DNI", digits + letter)
    # THEN it is valid exactly with the right letter; any other is a finding naming the right one
    if letter == right:
        assert document.valid and document.finding is None
    else:
        assert not document.valid
        assert document.finding == f"wrong check letter: {digits}{letter} should end in {right}"


@given(st.integers(min_value=0, max_value=99_999_999))
def test_stdnum_agrees_with_the_table_of_the_law(number: int) -> None:
    # GIVEN any 8-digit number
    # WHEN stdnum computes its letter
    # THEN it is the one of the RD 1553/2005 table (facts.md §6)
    assert dni.calc_check_digit(f"{number:08d}") == LAW_TABLE[number % 23]


@given(st.sampled_from("XYZ"), st.integers(min_value=0, max_value=9_999_999))
def test_any_nie_with_its_computed_letter_is_valid(prefix: str, number: int) -> None:
    # GIVEN any NIE body and stdnum's letter for it
    body = f"{prefix}{number:07d}"
    # WHEN it is normalised
    document = normalise_document("NIE", body + nie.calc_check_digit(body))
    # THEN it is valid, and its letter is the law's for the prefix as 0/1/2
    assert document.valid
    assert document.number[-1] == LAW_TABLE[int(str("XYZ".index(prefix)) + body[1:]) % 23]


def test_a_mistyped_letter_keeps_the_digits_that_let_it_meet_its_twin() -> None:
    # GIVEN the same DNI with the right letter and a wrong one, a NIE and a passport
    # WHEN their digits are taken
    # THEN the two DNIs share them; a passport has none
    assert document_digits(normalise_document("DNI", "12345678Z")) == "12345678"
    assert document_digits(normalise_document("DNI", "12345678A")) == "12345678"
    assert document_digits(normalise_document("NIE", "X1234567A")) == "X1234567"
    assert document_digits(normalise_document("DNI", "1234567L")) is None
    assert document_digits(normalise_document("PASSPORT", "PAA123456")) is None


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written", ["María José", "MARIA JOSE", "Mª José", "M.ª José", "Mª. José", "M. José", "maría  josé"]
)
def test_compound_given_names_and_their_abbreviations_have_one_key(written: str) -> None:
    # GIVEN María José as different systems write it
    # WHEN the name is normalised
    name = normalise_name(written, "García", "López")
    # THEN the match key is the same
    assert name.given_key == "MARIA JOSE"


def test_order_matters_in_compound_given_names() -> None:
    # GIVEN María José and José María, two different names
    # WHEN both are normalised
    # THEN their keys differ
    assert normalise_name("María José", "García").given_key != normalise_name("José María", "García").given_key


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("M. Ángel", "MIGUEL ANGEL"),
        ("M. Carmen", "MARIA CARMEN"),
        ("María del Carmen", "MARIA CARMEN"),
        ("María de los Ángeles", "MARIA ANGELES"),
        ("Fco. Javier", "FRANCISCO JAVIER"),
        ("José-Luis", "JOSE LUIS"),
        ("Ma", "MA"),
    ],
)
def test_given_name_abbreviations_and_particles(written: str, key: str) -> None:
    # GIVEN an abbreviated or particled given name (a bare "Ma" is a name of its own)
    # WHEN it is normalised
    # THEN the key is the full name without linking particles
    assert normalise_name(written, "García").given_key == key


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("de la Fuente", "FUENTE"),
        ("De Las Heras", "HERAS"),
        ("del Río", "RIO"),
        ("Sánchez de Toca", "SANCHEZ TOCA"),
        ("Ortega y Gasset", "ORTEGA GASSET"),
        ("Puig i Cadafalch", "PUIG CADAFALCH"),
        ("San Román", "SAN ROMAN"),
        ("Santa Cruz", "SANTA CRUZ"),
        ("La Torre", "LA TORRE"),
        ("García-Pelayo", "GARCIA PELAYO"),
        ("Fdez.", "FERNANDEZ"),
        ("GLEZ", "GONZALEZ"),
        ("O'Donnell", "ODONNELL"),
        ("De", "DE"),
    ],
)
def test_surname_particles_hyphens_and_abbreviations(written: str, key: str) -> None:
    # GIVEN a surname with linking particles, a hyphen, an abbreviation, or a "San" that belongs to it
    # WHEN it is normalised
    name = normalise_name("Ana", written)
    # THEN only linking particles leave the key; the display form is as written
    assert name.first_surname_key == key
    assert name.first_surname == written


def test_hyphenated_and_spaced_compound_surnames_meet_and_display_as_written() -> None:
    # GIVEN García-Pelayo written with and without the hyphen
    hyphen = normalise_name("Ana", "García-Pelayo", "de la Fuente")
    space = normalise_name("ANA", "GARCIA PELAYO", "Fuente")
    # WHEN their keys are compared
    # THEN they are equal, while each display keeps its hyphen, accents and particles
    assert hyphen.surnames_key == space.surnames_key == "GARCIA PELAYO|FUENTE"
    assert (hyphen.first_surname, hyphen.second_surname) == ("García-Pelayo", "de la Fuente")


def test_enye_is_kept_for_display_and_is_n_only_in_keys() -> None:
    # GIVEN Ibáñez and a legacy system's IBANEZ
    written = normalise_name("Begoña", "Ibáñez", "Muñoz")
    legacy = normalise_name("BEGONA", "IBANEZ", "MUNOZ")
    # WHEN they are normalised
    # THEN the display keeps Ñ and the keys agree
    assert (written.given, written.first_surname, written.second_surname) == ("Begoña", "Ibáñez", "Muñoz")
    assert (written.given_key, written.surnames_key) == ("BEGONA", "IBANEZ|MUNOZ")
    assert written.surnames_key == legacy.surnames_key and written.given_key == legacy.given_key


def test_display_collapses_whitespace_and_a_missing_second_surname_is_none() -> None:
    # GIVEN a foreign name with one surname and stray spaces
    # WHEN it is normalised
    name = normalise_name("  John  Paul ", " Smith ", "  ")
    # THEN display is tidy and there is no second surname
    assert (name.given, name.first_surname, name.second_surname) == ("John Paul", "Smith", None)
    assert name.surnames_key == "SMITH|"


def test_swapped_surnames_share_the_sorted_key_but_not_the_ordered_one() -> None:
    # GIVEN García López and López García
    one, other = normalise_name("Ana", "García", "López"), normalise_name("Ana", "López", "García")
    # WHEN their keys are compared
    # THEN the sorted key is equal and the ordered key tells them apart
    assert one.surnames_key_sorted == other.surnames_key_sorted == "GARCIA|LOPEZ"
    assert one.surnames_key != other.surnames_key


def test_both_surnames_in_one_field_meet_the_split_form() -> None:
    # GIVEN a system that keeps both surnames in the first-surname field
    # WHEN compared on all surnames
    # THEN it meets the split form
    assert (
        normalise_name("Ana", "García López").all_surnames_key
        == normalise_name("Ana", "García", "López").all_surnames_key
    )


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Vázquez", "Bázquez"),
        ("Giménez", "Jiménez"),
        ("Quiroga", "Kiroga"),
        ("Llorente", "Yorente"),
        ("Hernández", "Ernández"),
        ("González", "Gonzales"),
        ("Cervantes", "Servantes"),
        ("Rey", "Rei"),
        ("La Torre", "Latorre"),
        ("Ibáñez", "Ibanez"),
        ("Ballesteros", "Vallesteros"),
        ("Gil", "Jil"),
    ],
)
def test_names_that_sound_alike_in_spanish_share_a_phonetic_key(one: str, other: str) -> None:
    # GIVEN two spellings of one sound (b/v, g/j before e/i, qu/k, ll/y, silent h, z/s, c/s before e/i)
    # WHEN their phonetic keys are computed
    # THEN they are equal: the records will be compared
    assert phonetic_key(one) == phonetic_key(other)


@pytest.mark.parametrize(
    ("one", "other"), [("García", "Garzón"), ("Chacón", "Cacón"), ("Casas", "Cajas"), ("Guerra", "Gerra")]
)
def test_names_that_sound_different_keep_different_phonetic_keys(one: str, other: str) -> None:
    # GIVEN two surnames Spanish pronounces differently (ch is not k, s is not j, gue is not ge)
    # WHEN their phonetic keys are computed
    # THEN they differ
    assert phonetic_key(one) != phonetic_key(other)


SPANISH_LETTERS = "abcdefghijklmnñopqrstuvwxyzáéíóúüçàèòïABCDEFGHIJKLMNÑOPQRSTUVWXYZÁÉÍÓÚÜÇ"
name_parts = st.text(alphabet=SPANISH_LETTERS + "  -'ª.", min_size=0, max_size=30)


@given(name_parts, name_parts, name_parts)
def test_name_keys_do_not_depend_on_accents_or_case(given_: str, first: str, second: str) -> None:
    # GIVEN any name, the same without accents, in upper case and in lower case
    original = normalise_name(given_, first, second)
    variants = [
        normalise_name(strip_accents(given_), strip_accents(first), strip_accents(second)),
        normalise_name(given_.upper(), first.upper(), second.upper()),
        normalise_name(given_.lower(), first.lower(), second.lower()),
    ]
    # WHEN their keys are compared
    # THEN every key and phonetic key is the same
    for variant in variants:
        assert (variant.given_key, variant.surnames_key, variant.surnames_key_sorted) == (
            original.given_key,
            original.surnames_key,
            original.surnames_key_sorted,
        )
        assert (variant.given_phonetic, variant.first_surname_phonetic, variant.second_surname_phonetic) == (
            original.given_phonetic,
            original.first_surname_phonetic,
            original.second_surname_phonetic,
        )


@given(name_parts, name_parts, name_parts)
def test_swapped_surnames_always_give_the_same_sorted_key(given_: str, first: str, second: str) -> None:
    # GIVEN any name and the same with its surnames swapped
    # WHEN normalised
    # THEN the sorted surnames key is the same
    assert (
        normalise_name(given_, first, second).surnames_key_sorted
        == normalise_name(given_, second, first).surnames_key_sorted
    )


# ---------------------------------------------------------------------------
# E-mail
# ---------------------------------------------------------------------------


def test_an_email_keeps_dots_tags_and_local_case_but_lower_cases_the_domain() -> None:
    # GIVEN a Gmail address with dots, a +tag, capitals and spaces around it
    # WHEN it is normalised
    # THEN only the domain is lower-cased: provider rules are not assumed
    assert normalise_email("  Juan.Garcia+pic@GMAIL.com ") == "Juan.Garcia+pic@gmail.com"
    assert normalise_email("vecina@Madrid.ES") == "vecina@madrid.es"


def test_an_international_domain_has_one_form() -> None:
    # GIVEN a domain in Unicode and in punycode
    # WHEN normalised
    # THEN both are the same address
    assert normalise_email("ana@münchen.de") == normalise_email("ana@xn--mnchen-3ya.de") == "ana@münchen.de"


@pytest.mark.parametrize(
    "bad",
    [None, "", "   ", "juan", "juan@", "@madrid.es", "juan garcia@madrid.es", "Juan <juan@madrid.es>", "a@b.test"],
)
def test_an_invalid_email_is_none(bad: str | None) -> None:
    # GIVEN something that is not a usable e-mail address
    # WHEN it is normalised
    # THEN there is no e-mail
    assert normalise_email(bad) is None


@given(st.emails())
def test_email_normalisation_is_idempotent(email: str) -> None:
    # GIVEN any syntactically plausible address
    once = normalise_email(email)
    # WHEN its normal form is normalised again
    # THEN it does not change
    if once is not None:
        assert normalise_email(once) == once


# ---------------------------------------------------------------------------
# Phone
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written", ["+34 600 11 22 33", "600112233", "0034 600112233", "600-11-22-33", "(+34) 600 112 233"]
)
def test_a_spanish_mobile_in_any_usual_form_is_one_e164_number(written: str) -> None:
    # GIVEN a mobile as Spaniards write it
    # WHEN it is normalised
    # THEN it is E.164
    assert normalise_phone(written) == "+34600112233"


def test_landlines_and_foreign_numbers_are_e164() -> None:
    # GIVEN the council's switchboard, a UK number with its prefix, and a UK number read in the UK
    # WHEN normalised
    # THEN each is E.164
    assert normalise_phone("91 588 10 00") == "+34915881000"
    assert normalise_phone("+44 20 7946 0958") == "+442079460958"
    assert normalise_phone("020 7946 0958", region="GB") == "+442079460958"


@pytest.mark.parametrize("bad", [None, "", "12345", "+34 600 11 22 3", "teléfono", "+1"])
def test_an_invalid_phone_is_none(bad: str | None) -> None:
    # GIVEN something that cannot be a real number
    # WHEN normalised
    # THEN there is no phone
    assert normalise_phone(bad) is None


@given(
    st.sampled_from(["6", "7", "8", "9"]),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.sampled_from(["", "+34 ", "0034", "34"]),
)
def test_phone_normalisation_is_idempotent_on_its_output(first: str, rest: str, prefix: str) -> None:
    # GIVEN any 9-digit Spanish-looking number with or without a country prefix
    once = normalise_phone(prefix + first + rest)
    # WHEN its E.164 form is normalised again
    # THEN it does not change
    if once is not None:
        assert once.startswith("+")
        assert normalise_phone(once) == once


@given(st.text(max_size=25))
def test_phone_normalisation_never_fails_and_is_idempotent_on_any_text(text: str) -> None:
    # GIVEN any text
    once = normalise_phone(text)
    # WHEN normalised twice
    # THEN the output, when there is one, is stable
    if once is not None:
        assert normalise_phone(once) == once


# ---------------------------------------------------------------------------
# Postal code
# ---------------------------------------------------------------------------


def test_postal_codes_of_madrid_city_and_of_elsewhere() -> None:
    # GIVEN a code in Madrid city (Sol), one in the province (Alcobendas) and one in Barcelona
    # WHEN normalised
    sol, alcobendas, barcelona = (normalise_postal_code(c) for c in (" 28013 ", "28100", "08001"))
    # THEN all are valid; only the first is Madrid city
    assert sol is not None and (sol.code, sol.valid, sol.in_madrid_city, sol.finding) == ("28013", True, True, None)
    assert alcobendas is not None and (alcobendas.valid, alcobendas.in_madrid_city) == (True, False)
    assert barcelona is not None and (barcelona.valid, barcelona.in_madrid_city) == (True, False)


def test_a_postal_code_that_lost_its_leading_zero_is_restored_with_a_finding() -> None:
    # GIVEN 08001 as a spreadsheet keeps it
    # WHEN normalised
    code = normalise_postal_code("8001")
    # THEN it is 08001, and the restoration is a finding
    assert code is not None and (code.code, code.valid) == ("08001", True)
    assert code.finding == "leading zero restored: 8001 read as 08001"


@pytest.mark.parametrize(
    ("bad", "finding"), [("2801X", "is not 5 digits"), ("280133", "is not 5 digits"), ("99001", "no province 99")]
)
def test_an_invalid_postal_code_is_a_finding(bad: str, finding: str) -> None:
    # GIVEN something that is not a Spanish postal code
    # WHEN normalised
    code = normalise_postal_code(bad)
    # THEN it is invalid, not Madrid, with a finding
    assert code is not None and not code.valid and not code.in_madrid_city
    assert code.finding is not None and finding in code.finding


@pytest.mark.parametrize("empty", [None, "", "  "])
def test_no_postal_code_is_none(empty: str | None) -> None:
    assert normalise_postal_code(empty) is None


# ---------------------------------------------------------------------------
# Blocking keys
# ---------------------------------------------------------------------------


def record(local_id: str = "padron:1", **kw: object) -> SourceRecord:
    fields: dict[str, object] = {
        "document": normalise_document("DNI", "12345678Z"),
        "given_name": "Mª José",
        "first_surname": "García-Pelayo",
        "second_surname": "Vázquez",
        "birth_date": date(1980, 5, 17),
        "email": "MJ.Garcia@Madrid.es",
        "phone": "600 11 22 33",
        "address": Address(street="Calle Mayor", number="1", postal_code="28013", district="01"),
    }
    fields.update(kw)
    return SourceRecord(local_id, **fields)  # type: ignore[arg-type]


def test_a_full_record_has_one_key_per_piece_of_evidence() -> None:
    # GIVEN a record with every field
    # WHEN its blocking keys are computed
    keys = blocking_keys(record())
    # THEN each key names its evidence
    assert keys == {
        "doc:DNI:12345678Z",
        "doc-digits:DNI:12345678",
        "name:GARSIAPELAYO|1980",
        "name:BASKES|1980",
        "email:mj.garcia@madrid.es",
        "phone:+34600112233",
        "dob+pc:1980-05-17|28013",
    }


def test_a_wrong_check_letter_blocks_with_its_twin_but_is_not_a_document_key() -> None:
    # GIVEN the same person in two systems, one with a mistyped DNI letter
    good = blocking_keys(record())
    typo = blocking_keys(record("ibi:9", document=normalise_document("DNI", "12345678A")))
    # WHEN their keys are compared
    # THEN they meet on the digits only: the invalid document gives no doc: key
    assert "doc:DNI:12345678A" not in typo
    assert "doc-digits:DNI:12345678" in good & typo


def test_swapped_surnames_and_sound_alike_spellings_meet_on_a_name_key() -> None:
    # GIVEN one record with García-Pelayo Vázquez, another with Bázquez García Pelayo, no shared contact data
    one = record(email=None, phone=None, document=None)
    other = record(
        "multas:7",
        first_surname="Bázquez",
        second_surname="Garcia Pelayo",
        email=None,
        phone=None,
        document=None,
        address=Address(),
    )
    # WHEN their keys are compared
    # THEN they share both surname keys for 1980
    assert {"name:GARSIAPELAYO|1980", "name:BASKES|1980"} <= blocking_keys(one) & blocking_keys(other)


def test_without_birth_date_or_valid_contact_data_there_are_fewer_keys() -> None:
    # GIVEN a record with no birth date, an invalid e-mail and phone, and no document
    sparse = record(birth_date=None, email="not-an-email", phone="123", document=None)
    # WHEN its keys are computed
    # THEN there are none: names alone are too common to block on without a birth year
    assert blocking_keys(sparse) == set()


@given(st.emails())
def test_every_blocking_key_names_its_evidence(email: str) -> None:
    # GIVEN a record with any e-mail
    keys = blocking_keys(record(email=email))
    # WHEN its keys are read
    # THEN each one starts with a known evidence prefix
    assert {key.split(":", 1)[0] for key in keys} <= {"doc", "doc-digits", "name", "email", "phone", "dob+pc"}
