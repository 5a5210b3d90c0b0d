"""Sealed camera footage, as the terminal writes it and HQ receives it as evidence (docs/protocol.md, "Footage").

A sealed segment is `HPREC001`, a fresh ephemeral X25519 public key (32 bytes), then a STREAM file (sync.protocol.
stream) under the segment's own key: HKDF-SHA256 of the X25519 exchange between the ephemeral key and the terminal's
recording key. The ledger's `camera_segment` record holds the SHA-256 of exactly these bytes.

When HQ asks for a segment as evidence, the terminal sends the bytes unchanged (HQ checks them against that hash) and
the segment's key sealed to HQ's KYC key with HPKE (base mode, DHKEM(X25519), HKDF-SHA256, AES-256-GCM), bound to the
segment's hash so that it cannot be moved onto another segment.

The plaintext is `HPVID001`, fps, width and height (big-endian 16-bit each), then every frame as its JPEG's length
(32-bit), its time in ms (64-bit) and the JPEG; the camera package writes and reads it (camera.recorder), and HQ reads
it here (camera imports nothing of ours, HQ nothing of camera's).
"""

from __future__ import annotations

import io
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sync.protocol import stream

SEALED_MAGIC = b"HPREC001"
HEAD_LEN = len(SEALED_MAGIC) + 32
FRAMES_MAGIC = b"HPVID001"
FRAME_HEAD = struct.Struct(">IQ")
_KEY_INFO = b"hotpot/footage-key/v1\x00"
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


class FootageError(ValueError):
    """Bytes that are not a sealed segment, a key that does not open it, or a key envelope for another segment."""


def segment_key(shared: bytes, ephemeral_public: bytes, recording_public: bytes) -> bytes:
    """A segment's 32-byte STREAM key from the X25519 shared secret and both public keys."""
    return HKDF(hashes.SHA256(), 32, salt=None,
                info=b"hotpot-terminal segment v1" + ephemeral_public + recording_public).derive(shared)


def ephemeral_of(head: bytes) -> bytes:
    """The ephemeral public key from a sealed segment's first HEAD_LEN bytes."""
    if len(head) < HEAD_LEN or not head.startswith(SEALED_MAGIC):
        raise FootageError("not a sealed recording")
    return head[len(SEALED_MAGIC):HEAD_LEN]


def key_for(head: bytes, recording_private: bytes) -> bytes:
    """The segment's key, opened with the terminal's recording key (the wallet's)."""
    private = X25519PrivateKey.from_private_bytes(recording_private)
    public = private.public_key().public_bytes_raw()
    ephemeral = ephemeral_of(head)
    return segment_key(private.exchange(X25519PublicKey.from_public_bytes(ephemeral)), ephemeral, public)


def open_sealed(data: bytes, key: bytes) -> tuple[bytes, bool]:
    """A sealed segment's plaintext and whether it was complete (a segment a crash cut short gives back every chunk
    that verifies). FootageError when the key does not open it."""
    ephemeral_of(data)
    try:
        return stream.salvage(io.BytesIO(data[HEAD_LEN:]), key=key)
    except stream.StreamError as exc:
        raise FootageError(str(exc)) from None


def wrap_key(key: bytes, sha256: str, hq_public: bytes) -> bytes:
    """The segment's key sealed to HQ's KYC key, bound to the segment's SHA-256 (hex)."""
    return _SUITE.encrypt(key, X25519PublicKey.from_public_bytes(hq_public), _KEY_INFO + sha256.encode())


def unwrap_key(envelope: bytes, sha256: str, hq_private: X25519PrivateKey) -> bytes:
    try:
        key = _SUITE.decrypt(envelope, hq_private, _KEY_INFO + sha256.encode())
    except (InvalidTag, ValueError):
        raise FootageError("the key envelope does not open with HQ's key, or is for another segment") from None
    if len(key) != 32:
        raise FootageError("the key envelope does not hold a 32-byte key")
    return key


def frames_of(plain: bytes) -> tuple[tuple[int, int, int], list[tuple[int, int, int]]]:
    """(fps, width, height) and each whole frame's (offset, length, ms) in a segment's plaintext; a frame cut short
    (the chunk a crash lost) is left out."""
    if not plain.startswith(FRAMES_MAGIC) or len(plain) < len(FRAMES_MAGIC) + 6:
        raise FootageError("not a HotPot Spot recording")
    fps, width, height = struct.unpack_from(">HHH", plain, len(FRAMES_MAGIC))
    frames, at = [], len(FRAMES_MAGIC) + 6
    while at + FRAME_HEAD.size <= len(plain):
        size, ms = FRAME_HEAD.unpack_from(plain, at)
        start = at + FRAME_HEAD.size
        if start + size > len(plain):
            break
        frames.append((start, size, ms))
        at = start + size
    return (fps, width, height), frames
