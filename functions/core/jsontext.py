"""The one way PIC reads JSON that arrives from outside (HTTP bodies, event ``data``, dev endpoints).

A body is read as I-JSON (RFC 7493), with a nesting bound, before anything looks at it:

- bytes are UTF-8, strictly, without a byte-order mark (RFC 8259 §8.1; I-JSON §2.1);
- the text is parsed by pydantic-core's parser (jiter), which has its own recursion limit, so a body
  nested 10,000 levels deep is refused instead of exhausting the interpreter's stack (``json.loads``
  raises ``RecursionError``); ``NaN``/``Infinity``, raw control characters and lone surrogates
  (``"\\ud800"``, unencodable later) are refused by that parser;
- containers nest at most ``MAX_DEPTH`` levels: DynamoDB stores at most 32 levels, and no PIC document
  comes near that;
- numbers are finite, and integers exact in an IEEE double (I-JSON §2.2): ``1e999`` would become
  infinity and ``2**64`` loses digits in most of the clients that read PIC's answers;
- object member names are unique (I-JSON §2.3): with ``{"right": "access", "right": "erasure"}`` two
  readers can disagree about what was asked.

Whatever breaks a rule is a ``JsonTextError`` (a ``ValueError``) saying which rule; each caller maps it to
its problem (``malformed-request`` for HTTP, ``invalid-event`` for events).
"""

from __future__ import annotations

import json
from itertools import chain
from typing import Any

from pydantic_core import from_json

MAX_DEPTH = 32
MAX_SAFE_INTEGER = 2**53 - 1
_BOM = "\ufeff"
_INFINITY = float("inf")


class JsonTextError(ValueError):
    """The text is not a JSON document PIC accepts; the message says which rule it breaks."""


def loads(raw: bytes | bytearray | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The document in ``raw``, or ``JsonTextError``."""
    text = _text(raw)
    if text.startswith(_BOM):
        raise JsonTextError("the JSON starts with a byte-order mark (U+FEFF); send UTF-8 without one")
    try:
        value = from_json(raw if isinstance(raw, bytes | bytearray) else text, allow_inf_nan=False)
    except ValueError as exc:
        if "recursion limit" in str(exc):
            raise JsonTextError(f"the JSON nests deeper than {max_depth} levels") from None
        raise JsonTextError(f"not valid JSON: {exc}") from None
    members = _check_shape(value, max_depth)
    # Every member is written with one ':' outside strings, and the parser keeps the last of duplicate
    # names: so when the parsed members are as many as the ':' in the whole text there is no duplicate
    # (and no ':' in any string). Otherwise (colons in strings, or a duplicate) the slower exact check.
    if members and members != text.count(":"):
        json.loads(text, object_pairs_hook=_unique_members)
    return value


def _text(raw: bytes | bytearray | str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonTextError(
            f"the JSON is not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start} ({exc.reason})"
        ) from None


def _check_shape(value: Any, max_depth: int) -> int:
    """Depth and numbers, level by level without recursion; the number of object members seen.

    Level by level so the work per value is a list comprehension's, not an interpreted loop's: a 32 MiB
    bulk body of ten million empty lists is checked in about a second.
    """
    _check_numbers([value])
    level = [value] if isinstance(value, dict | list) else []
    depth = members = 0
    while level:
        depth += 1
        if depth > max_depth:
            raise JsonTextError(f"the JSON nests deeper than {max_depth} levels")
        objects = [node for node in level if type(node) is dict]
        arrays = [node for node in level if type(node) is list]
        members += sum(map(len, objects))
        children = [*chain.from_iterable(map(dict.values, objects)), *chain.from_iterable(arrays)]
        _check_numbers(children)
        level = [child for child in children if type(child) is dict or type(child) is list]
    return members


def _check_numbers(values: list[Any]) -> None:
    integers = [v for v in values if type(v) is int]
    if integers and (max(integers) > MAX_SAFE_INTEGER or min(integers) < -MAX_SAFE_INTEGER):
        raise JsonTextError("an integer is beyond ±(2^53 - 1), not exact in a double (send it as a string)")
    floats = [v for v in values if type(v) is float]
    if floats and (_INFINITY in floats or -_INFINITY in floats):
        raise JsonTextError("a number is too large to be a double (it would be infinity)")


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        twice = next(name for i, name in enumerate(names) if name in names[:i])
        raise JsonTextError(f"the member {twice[:64]!r} appears twice in one object")
    return {}
