"""Canonical JSON: the one byte form of a value that both ends hash and sign (docs/protocol.md, "Canonical JSON").

Rules: UTF-8; object keys sorted by code point; no insignificant whitespace; no floats, NaN or infinities; integers
within +-(2**53 - 1) so that every JSON reader holds them exactly; strings as JSON escapes them with ensure_ascii off
(only '"', '\\' and control characters are escaped); keys are strings; values are null, true, false, integers,
strings, arrays or objects.
"""

from __future__ import annotations

from typing import Any

import msgspec

MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEPTH = 32


class CanonicalError(ValueError):
    """A value cannot be put in canonical form, or bytes are not the canonical form of their value."""


def _explain(value: Any, path: str, depth: int) -> str | None:
    """Where and why a value is not canonical-able; None when it is. Slow, used only to word an error."""
    if depth > MAX_DEPTH:
        return f"{path}: nested deeper than {MAX_DEPTH} levels"
    if value is None or isinstance(value, (bool, str)):
        return None
    if isinstance(value, int):
        in_range = -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
        return None if in_range else f"{path}: integer {value} is outside the safe range"
    if isinstance(value, float):
        return f"{path}: floats are not allowed (money and tokens are integers)"
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            if (why := _explain(item, f"{path}[{i}]", depth + 1)) is not None:
                return why
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path}: object key {key!r} is not a string"
            if (why := _explain(item, f"{path}.{key}", depth + 1)) is not None:
                return why
        return None
    return f"{path}: {type(value).__name__} is not a JSON value"


def _ok(value: Any, depth: int) -> bool:
    """Fast check on the hot path (every record of every sale): exact types, leaves handled inline."""
    if depth >= MAX_DEPTH:
        return False
    items = value.values() if type(value) is dict else value
    if type(value) is dict and not all(type(k) is str for k in value):
        return False
    for item in items:
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return False
        elif kind is dict or kind is list or kind is tuple:
            if not _ok(item, depth + 1):
                return False
        else:
            return False
    return True


def _refuse_float(text: str) -> Any:
    raise ValueError(f"floats are not allowed: {text}")


# msgspec writes exactly what json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) writes (the same
# escapes; keys in code-point order: tests/unit/test_protocol_doc.py checks it on every code point), five times
# faster; its decoder hands floats to a hook that refuses them.
_ENCODER = msgspec.json.Encoder(order="sorted")
_DECODER = msgspec.json.Decoder(float_hook=_refuse_float)


def canonical_json(value: Any) -> bytes:
    """Encode a value in canonical JSON; raises CanonicalError for anything outside the rules."""
    if not _ok([value], -1):
        raise CanonicalError(_explain(value, "$", 0) or "value has a type that is not plain JSON")
    return _ENCODER.encode(value)


# An integer outside +-(2**53 - 1) has at least 16 digits; so does a long digit run inside a string. Only bytes with
# such a run, or with more brackets than the depth limit, need the full walk below. (Digits -> "9", all else -> " ",
# then a substring search: ~20x faster than a regular expression here.)
_DIGIT_MAP = bytes(0x39 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_SIXTEEN_DIGITS = b"9" * 16


def decode_canonical(data: bytes) -> Any:
    """Decode bytes that must already be canonical JSON; anything else (floats, spacing, key order, escapes, duplicate
    keys) is refused. The hot path of verification: the parse refuses floats, re-encoding must give the same bytes,
    and the integer-range and depth rules are walked only when a cheap scan of the bytes says they could fail."""
    try:
        value = _DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:  # not JSON, a float, a number past any range
        raise CanonicalError(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise CanonicalError(f"nested deeper than {MAX_DEPTH} levels") from None
    if _ENCODER.encode(value) != data:
        raise CanonicalError("bytes are valid JSON but not in canonical form")
    suspicious = _SIXTEEN_DIGITS in data.translate(_DIGIT_MAP) or data.count(b"[") + data.count(b"{") > MAX_DEPTH
    if suspicious and not _ok([value], -1):
        raise CanonicalError(_explain(value, "$", 0) or "value breaks the canonical rules")
    return value
