"""sync.protocol.stream: encrypted files of any size. Round trips at the chunk edges, and every way of altering a
file (a flipped bit, chunks swapped, dropped or repeated, the file cut mid-chunk or at a chunk boundary, a wrong
passphrase or key) is refused."""

from __future__ import annotations

import io
import os

import pytest

from sync.protocol import stream
from sync.protocol.stream import CHUNK, HEADER_LEN, TAG, StreamError

KEY = bytes(range(32))


def _seal(data: bytes, **kwargs: object) -> bytes:
    out = io.BytesIO()
    with stream.Writer(out, scrypt_log2_n=10, **kwargs) as writer:  # type: ignore[arg-type]
        for at in range(0, len(data), 10_000):  # written in pieces that do not line up with the chunks
            writer.write(data[at:at + 10_000])
    return out.getvalue()


def _open(sealed: bytes, **kwargs: object) -> bytes:
    return b"".join(stream.decrypt(io.BytesIO(sealed), **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17])
def test_round_trip_at_the_chunk_edges(size: int) -> None:
    data = os.urandom(size)
    assert _open(_seal(data, key=KEY), key=KEY) == data
    assert _open(_seal(data, passphrase="a long passphrase"), passphrase="a long passphrase") == data


def test_the_ciphertext_hides_the_plaintext_and_differs_every_time() -> None:
    data = b"PGDMP custom dump of the sales " * 5000
    first, second = _seal(data, key=KEY), _seal(data, key=KEY)
    assert b"PGDMP" not in first and first != second
    assert len(first) == HEADER_LEN + len(data) + TAG * (len(data) // CHUNK + 1)


def _chunks(sealed: bytes) -> tuple[bytes, list[bytes]]:
    body = sealed[HEADER_LEN:]
    return sealed[:HEADER_LEN], [body[i:i + CHUNK + TAG] for i in range(0, len(body), CHUNK + TAG)]


def test_every_alteration_is_refused() -> None:
    sealed = _seal(os.urandom(3 * CHUNK + 100), key=KEY)
    header, chunks = _chunks(sealed)
    assert len(chunks) == 4
    flipped = bytearray(sealed)
    flipped[HEADER_LEN + CHUNK + 40] ^= 1
    altered = {
        "a flipped bit": bytes(flipped),
        "two chunks swapped": header + chunks[1] + chunks[0] + chunks[2] + chunks[3],
        "a chunk dropped": header + chunks[0] + chunks[2] + chunks[3],
        "a chunk repeated": header + chunks[0] + chunks[0] + chunks[1] + chunks[2] + chunks[3],
        "cut at a chunk boundary": header + chunks[0] + chunks[1],
        "cut mid-chunk": sealed[:-50],
        "the header changed": header[:-1] + bytes([header[-1] ^ 1]) + b"".join(chunks),
    }
    for what, data in altered.items():
        with pytest.raises(StreamError):
            _open(data, key=KEY)
        assert what


def test_wrong_secrets_and_foreign_files_are_refused_with_a_reason() -> None:
    with pytest.raises(StreamError, match="wrong key or passphrase"):
        _open(_seal(b"x" * 100, key=KEY), key=bytes(32))
    with pytest.raises(StreamError, match="wrong key or passphrase"):
        _open(_seal(b"x" * 100, passphrase="the right one here"), passphrase="the wrong one here")
    with pytest.raises(StreamError, match="passphrase"):
        _open(_seal(b"x", passphrase="the right one here"), key=KEY)
    with pytest.raises(StreamError, match="not an encrypted HotPot Spot file"):
        _open(b"PK\x03\x04 a zip file, not ours", key=KEY)
