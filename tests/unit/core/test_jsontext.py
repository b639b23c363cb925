"""The one JSON reader: what arrives from outside is I-JSON within a nesting bound, or a ``JsonTextError``
that says which rule it breaks — never a ``RecursionError``, ``UnicodeDecodeError`` or a silent guess."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from functions.core.jsontext import MAX_DEPTH, MAX_SAFE_INTEGER, JsonTextError, loads

REFUSED: dict[str, tuple[bytes | str, str]] = {
    "10,000 levels of arrays": (b"[" * 10_000 + b"]" * 10_000, "deeper than 32"),
    "10,000 levels of objects": (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "deeper than 32"),
    "one level too deep": (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "deeper than 32"),
    "invalid UTF-8": (b'{"topic": "caf\xe9"}', "not UTF-8: byte 0xe9 at offset 14"),
    "UTF-8 of a surrogate": (b'{"a": "\xed\xa0\x80"}', "not UTF-8"),
    "UTF-16 with its BOM": ('{"a": 1}'.encode("utf-16"), "not UTF-8"),
    "UTF-16 without a BOM": ('{"a": 1}'.encode("utf-16-le"), "not valid JSON"),
    "UTF-8 with a BOM": (b'\xef\xbb\xbf{"a": 1}', "byte-order mark"),
    "a lone surrogate escaped": (b'{"a": "\\ud800"}', "not valid JSON"),
    "a raw NUL in a string": (b'{"a": "x\x00y"}', "control character"),
    "a raw newline in a string": (b'{"a": "x\ny"}', "control character"),
    "NaN": (b'{"a": NaN}', "not valid JSON"),
    "Infinity": (b"[Infinity]", "not valid JSON"),
    "a float beyond a double": (b'{"amount": 1e999}', "infinity"),
    "a negative float beyond a double": (b"[-1e400]", "infinity"),
    "an integer beyond 2^53": (b'{"n": 9007199254740993}', "2^53"),
    "a negative integer beyond 2^53": (b"[-9007199254740993]", "2^53"),
    "an integer of 5,000 digits": (b"9" * 5000, "not valid JSON"),
    "a duplicate member": (b'{"right": "access", "right": "erasure"}', "'right' appears twice"),
    "a duplicate member, escaped": (b'{"a": 1, "\\u0061": 2}', "'a' appears twice"),
    "a duplicate member, deep": (b'{"x": [{"y": {"k": 1, "k": 2}}]}', "'k' appears twice"),
    "empty": (b"", "not valid JSON"),
    "whitespace only": (b" \r\n", "not valid JSON"),
    "trailing garbage": (b'{"a": 1} {"b": 2}', "not valid JSON"),
    "single quotes": (b"{'a': 1}", "not valid JSON"),
    "a trailing comma": (b'{"a": 1,}', "not valid JSON"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_hostile_text_is_refused_with_the_rule_it_breaks(case: str) -> None:
    # GIVEN a body a hostile (or broken) client sends
    raw, reason = REFUSED[case]

    # WHEN it is read THEN it is refused, saying why
    with pytest.raises(JsonTextError, match=reason.replace("^", r"\^")):
        loads(raw)


ACCEPTED: dict[str, bytes] = {
    "as deep as allowed": b"[" * MAX_DEPTH + b"]" * MAX_DEPTH,
    "the largest exact integer": str(MAX_SAFE_INTEGER).encode(),
    "an escaped NUL": b'{"a": "x\\u0000y"}',
    "a surrogate pair escaped": b'{"a": "\\ud83d\\ude00"}',
    "colons in strings, no duplicates": b'{"at": "10:00", "url": "https://x", "n": {"at": "11:00"}}',
    "same names in sibling objects": b'[{"a": 1}, {"a": 2}]',
    "every kind of value": b'{"s": "\xc3\xb1", "i": -12, "f": 1.5e300, "t": true, "n": null, "l": [], "o": {}}',
}


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_ordinary_json_reads_as_the_standard_library_reads_it(case: str) -> None:
    # GIVEN a valid I-JSON document WHEN it is read THEN it is what json.loads makes of it
    assert loads(ACCEPTED[case]) == json.loads(ACCEPTED[case])


def test_str_input_follows_the_same_rules() -> None:
    # GIVEN text already decoded (the CloudEvents SDK may hand data over as str)
    # WHEN it is read THEN the same rules apply
    assert loads('{"a": [1, 2]}') == {"a": [1, 2]}
    with pytest.raises(JsonTextError, match="deeper than 32"):
        loads("[" * 100 + "]" * 100)
    with pytest.raises(JsonTextError, match="byte-order mark"):
        loads('\ufeff{"a": 1}')


def test_the_depth_bound_is_a_parameter() -> None:
    # GIVEN a caller that wants flatter documents WHEN it reads one deeper THEN refused at its bound
    assert loads(b"[[1]]", max_depth=2) == [[1]]
    with pytest.raises(JsonTextError, match="deeper than 2 levels"):
        loads(b"[[[1]]]", max_depth=2)


_SAFE_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_DOCUMENTS = st.recursive(
    _SAFE_SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(document=_DOCUMENTS)
def test_any_i_json_document_reads_back_unchanged(document: Any) -> None:
    # GIVEN any document of safe numbers and strings (lone surrogates excluded: not I-JSON)
    try:
        raw = json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return
    assume(_depth(document) <= MAX_DEPTH)
    # WHEN it is written and read THEN it is the same document
    assert loads(raw) == document


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0
