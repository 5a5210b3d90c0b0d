"""Encrypted files of any size, written and read as streams: backups (HQ's and the terminal's), and later footage.

The construction is STREAM (Hoang, Reyhanitabar, Rogaway, Vizár 2015, as in age and Tink's streaming AEAD): the
plaintext is cut into 64 KiB chunks, each sealed with AES-256-GCM under a nonce made of a random 7-byte prefix, the
chunk's 4-byte counter and a 1-byte flag that marks the last chunk. Reordering, dropping, repeating or truncating
chunks fails authentication; so does a file cut at a chunk boundary (its last chunk is not flagged last). A crash
while writing loses at most the chunk being written, and reading stops at the first chunk that does not verify.

File layout (all integers big-endian):
    magic   8 bytes   b"HPSTRM01"
    kdf     1 byte    0 = raw 32-byte key, 1 = scrypt of a passphrase
    log2 N  1 byte    scrypt cost (kdf 1), else 0
    r, p    1 byte each
    salt    16 bytes  (kdf 1), else zeros
    prefix  7 bytes   random nonce prefix
    chunks  each: ciphertext of up to CHUNK bytes of plaintext, then its 16-byte tag; the header is every chunk's
            associated data
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"HPSTRM01"
CHUNK = 64 * 1024
TAG = 16
HEADER_LEN = len(MAGIC) + 4 + 16 + 7
KDF_RAW, KDF_SCRYPT = 0, 1
SCRYPT_LOG2_N = 17  # 128 MiB, about half a second: a guess at a backup's passphrase costs that much


class StreamError(Exception):
    """The file is not one of ours, the key or passphrase is wrong, or the file was altered or cut short."""


def _scrypt(passphrase: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=2**log2_n, r=r, p=p, dklen=32, maxmem=2**30)


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= 2**32:
        raise StreamError("the stream is longer than 2**32 chunks")
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


class Writer:
    """Encrypt into `out` as bytes are written; `close()` seals the last chunk (without it the file reads as cut)."""

    def __init__(self, out: BinaryIO, *, key: bytes | None = None, passphrase: str | None = None,
                 scrypt_log2_n: int = SCRYPT_LOG2_N) -> None:
        if (key is None) == (passphrase is None):
            raise ValueError("give a key or a passphrase")
        salt = os.urandom(16) if passphrase is not None else bytes(16)
        if passphrase is not None:
            header_kdf = bytes([KDF_SCRYPT, scrypt_log2_n, 8, 1])
            key = _scrypt(passphrase, salt, scrypt_log2_n, 8, 1)
        else:
            header_kdf = bytes([KDF_RAW, 0, 0, 0])
        assert key is not None
        if len(key) != 32:
            raise ValueError("the key is 32 bytes")
        self._out, self._aead, self._prefix = out, AESGCM(key), os.urandom(7)
        self._header = MAGIC + header_kdf + salt + self._prefix
        self._buf = bytearray()
        self._counter = 0
        self.closed = False
        out.write(self._header)

    def write(self, data: bytes) -> int:
        if self.closed:
            raise ValueError("the stream is closed")
        self._buf += data
        while len(self._buf) > CHUNK:  # keep at least one byte back: the last chunk is sealed by close()
            self._seal(bytes(self._buf[:CHUNK]), last=False)
            del self._buf[:CHUNK]
        return len(data)

    def _seal(self, chunk: bytes, last: bool) -> None:
        self._out.write(self._aead.encrypt(_nonce(self._prefix, self._counter, last), chunk, self._header))
        self._counter += 1

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buf), last=True)
            self._buf.clear()
            self.closed = True

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()


def read_header(src: BinaryIO) -> tuple[bytes, int, int, int, int, bytes, bytes]:
    header = src.read(HEADER_LEN)
    if len(header) != HEADER_LEN or not header.startswith(MAGIC):
        raise StreamError("not an encrypted HotPot Spot file (or an unknown version)")
    kdf, log2_n, r, p = header[8:12]
    return header, kdf, log2_n, r, p, header[12:28], header[28:35]


def decrypt(src: BinaryIO, *, key: bytes | None = None, passphrase: str | None = None) -> Iterator[bytes]:
    """Yield the plaintext chunk by chunk; StreamError at the first chunk that does not verify, or if the file
    ends without its last chunk. A consumer must not act on the plaintext before the iterator is exhausted when a
    cut-off file would matter (write to a temporary place, then move)."""
    header, kdf, log2_n, r, p, salt, prefix = read_header(src)
    if kdf == KDF_SCRYPT:
        if passphrase is None:
            raise StreamError("this file is encrypted with a passphrase")
        if not 10 <= log2_n <= 22 or r > 32 or p > 16:
            raise StreamError("the file's key derivation parameters are out of range")
        key = _scrypt(passphrase, salt, log2_n, r, p)
    elif kdf == KDF_RAW:
        if key is None:
            raise StreamError("this file is encrypted with a key, not a passphrase")
    else:
        raise StreamError("unknown key derivation in the file's header")
    aead = AESGCM(key)
    counter = 0
    current = src.read(CHUNK + TAG)
    while True:
        following = src.read(CHUNK + TAG) if len(current) == CHUNK + TAG else b""
        last = not following
        if len(current) < TAG:
            raise StreamError("the file is cut short")
        try:
            yield aead.decrypt(_nonce(prefix, counter, last), current, header)
        except InvalidTag:
            if counter == 0:
                raise StreamError("wrong key or passphrase, or the file was altered") from None
            raise StreamError(f"the file was altered or cut short at chunk {counter}") from None
        if last:
            return
        counter += 1
        current = following


def salvage(src: BinaryIO, *, key: bytes) -> tuple[bytes, bool]:
    """What a file cut short still proves (footage after a crash): every chunk that verifies in order, the one at the
    end accepted as a last chunk or as an unfinished stream's; and whether the stream was complete. StreamError if
    not even the first chunk verifies (a wrong key, or not this file)."""
    header, kdf, _log2_n, _r, _p, _salt, prefix = read_header(src)
    if kdf != KDF_RAW:
        raise StreamError("this file is encrypted with a passphrase, not a key")
    aead = AESGCM(key)
    out = bytearray()
    counter = 0
    while True:
        chunk = src.read(CHUNK + TAG)
        if len(chunk) < TAG:
            return bytes(out), False
        for last in ((True, False) if len(chunk) < CHUNK + TAG else (False, True)):
            try:
                out += aead.decrypt(_nonce(prefix, counter, last), chunk, header)
            except InvalidTag:
                continue
            if last:
                return bytes(out), True
            break
        else:
            if counter == 0:
                raise StreamError("wrong key, or the file was altered")
            return bytes(out), False
        counter += 1


def encrypt_file(src: BinaryIO, out: BinaryIO, *, key: bytes | None = None, passphrase: str | None = None) -> None:
    with Writer(out, key=key, passphrase=passphrase) as writer:
        while chunk := src.read(CHUNK):
            writer.write(chunk)
