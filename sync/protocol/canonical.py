"""Canonical JSON: the one byte form of a value that both ends hash and sign (docs/protocol.md, "Canonical JSON").

Rules: UTF-8; object keys sorted by code point; no insignificant whitespace; no floats, NaN or infinities; integers
within +-(2**53 - 1) so that every JSON reader holds them exactly; strings as JSON escapes them with ensure_ascii off
(only '"', '\\' and control characters are escaped); keys are strings; values are null, true, false, integers,
strings, arrays or objects.
"""

from __future__ import annotations

import json
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEPTH = 32


class CanonicalError(ValueError):
    """A value cannot be put in canonical form, or bytes are not the canonical form of their value."""


def _check(value: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CanonicalError(f"{path}: nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalError(f"{path}: integer {value} is outside the safe range")
        return
    if isinstance(value, float):
        raise CanonicalError(f"{path}: floats are not allowed (money and tokens are integers)")
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: object key {key!r} is not a string")
            _check(item, f"{path}.{key}", depth + 1)
        return
    raise CanonicalError(f"{path}: {type(value).__name__} is not a JSON value")


def canonical_json(value: Any) -> bytes:
    """Encode a value in canonical JSON; raises CanonicalError for anything outside the rules."""
    _check(value, "$", 0)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _no_floats(text: str) -> Any:
    raise CanonicalError(f"floats are not allowed: {text}")


def decode_canonical(data: bytes) -> Any:
    """Decode bytes that must already be canonical JSON; anything else (floats, spacing, key order) is refused."""
    try:
        value = json.loads(data.decode("utf-8"), parse_float=_no_floats, parse_constant=_no_floats)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CanonicalError(f"not valid JSON: {exc}") from None
    if canonical_json(value) != data:
        raise CanonicalError("bytes are valid JSON but not in canonical form")
    return value
