"""Blocks: records sealed under a Merkle root, hash-chained and signed by the terminal (docs/protocol.md, "Blocks").

Header (canonical JSON): v, terminal_id, height, prev_hash, created_at_ms, first_seq, record_count, merkle_root.
block hash = SHA-256(canonical header); signature = secp256k1 ECDSA (RFC 6979, DER) over the block hash.
Merkle tree as RFC 6962: leaf = SHA-256(0x00 || record bytes), node = SHA-256(0x01 || left || right).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sync.protocol.canonical import MAX_SAFE_INTEGER, CanonicalError, canonical_json, decode_canonical
from sync.protocol.keys import verify_signature
from sync.protocol.records import ContentError, Record, RecordError, decode_record
from sync.protocol.vocabulary import TERMINAL_ID as _TERMINAL_ID

BLOCK_VERSION = 1
GENESIS_PREV_HASH = bytes(32)
MAX_BLOCK_RECORDS = 10_000
_LEAF, _NODE = b"\x00", b"\x01"


def leaf_hash(record_bytes: bytes) -> bytes:
    return hashlib.sha256(_LEAF + record_bytes).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash over leaf hashes (the empty tree hashes to SHA-256 of nothing)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    # Bottom-up pairing is the same tree as RFC 6962's split at the largest power of two below n: an odd node at
    # the end of a level is promoted unchanged, never duplicated.
    while len(level) > 1:
        nxt = [hashlib.sha256(_NODE + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


@dataclass(frozen=True)
class BlockHeader:
    terminal_id: str
    height: int
    prev_hash: bytes
    created_at_ms: int
    first_seq: int
    record_count: int
    merkle_root: bytes
    version: int = BLOCK_VERSION

    def to_wire(self) -> dict[str, Any]:
        return {"v": self.version, "terminal_id": self.terminal_id, "height": self.height,
                "prev_hash": self.prev_hash.hex(), "created_at_ms": self.created_at_ms, "first_seq": self.first_seq,
                "record_count": self.record_count, "merkle_root": self.merkle_root.hex()}

    def encode(self) -> bytes:
        return canonical_json(self.to_wire())

    def hash(self) -> bytes:
        return hashlib.sha256(self.encode()).digest()

    @property
    def last_seq(self) -> int:
        return self.first_seq + self.record_count - 1


@dataclass(frozen=True)
class Block:
    header: BlockHeader
    signature: bytes  # DER
    records: tuple[bytes, ...]  # canonical record bytes, in seq order

    @property
    def hash(self) -> bytes:
        return self.header.hash()

    @property
    def height(self) -> int:
        return self.header.height

    def to_wire(self) -> dict[str, Any]:
        return {"header": self.header.to_wire(), "hash": self.hash.hex(), "signature": self.signature.hex(),
                "records": [base64.b64encode(r).decode("ascii") for r in self.records]}

    def encode(self) -> bytes:
        """One block as canonical JSON: the line `export-blocks` writes and HQ receives."""
        return canonical_json(self.to_wire())


def build_block(*, terminal_id: str, height: int, prev_hash: bytes, created_at_ms: int, first_seq: int,
                records: Sequence[bytes], sign: Callable[[bytes], bytes]) -> Block:
    if not records:
        raise ValueError("a block holds at least one record")
    header = BlockHeader(terminal_id, height, prev_hash, created_at_ms, first_seq, len(records),
                         merkle_root([leaf_hash(r) for r in records]))
    return Block(header, sign(header.hash()), tuple(records))


class BlockError(ValueError):
    """A block that does not verify. `reason` is a stable code; the message names the height and what failed."""

    reason = "invalid"

    def __init__(self, height: int | None, detail: str) -> None:
        self.height = height
        self.detail = detail
        where = f"block {height}" if height is not None else "block"
        super().__init__(f"{where}: {detail}")

    def __reduce__(self) -> tuple[type[BlockError], tuple[int | None, str]]:
        return (type(self), (self.height, self.detail))  # survives pickling (parallel verification's workers)


class MalformedBlock(BlockError):
    reason = "malformed"


class BadSignature(BlockError):
    reason = "bad_signature"


class BrokenLink(BlockError):
    reason = "broken_link"


class HeightGap(BlockError):
    reason = "height_gap"


class MerkleMismatch(BlockError):
    reason = "merkle_mismatch"


class BadRecord(BlockError):
    reason = "bad_record"


class BadContent(BlockError):
    """A correctly signed record whose payload breaks its type's schema (docs/protocol.md, record schemas)."""

    reason = "bad_content"


class HashMismatch(BlockError):
    reason = "hash_mismatch"


def verify_block(block: Block, public_key: bytes, previous: BlockHeader | None, *,
                 stated_hash: bytes | None = None) -> None:
    """Check one block against the signer's public key and the block before it (None for height 0).

    Raises the BlockError subclass that names what failed (docs/protocol.md, "Verifying a block"): first what the
    block shows on its own (check_block_alone), then how it follows the previous block (check_block_link).
    """
    check_block_alone(block, public_key, stated_hash)
    check_block_link(block.header, previous)


def check_block_alone(block: Block, public_key: bytes, stated_hash: bytes | None = None) -> list[Record]:
    """The stated hash, the signature, the records (count, decoding, seq, terminal) and the Merkle root. Independent
    of every other block, so a long chain's blocks can be checked in parallel. Returns the decoded records."""
    h = block.header
    if h.version != BLOCK_VERSION:
        raise MalformedBlock(h.height, f"unsupported block version {h.version}")
    block_hash = h.hash()
    if stated_hash is not None and stated_hash != block_hash:
        raise HashMismatch(h.height, "the header does not hash to the block's stated hash")
    if not verify_signature(public_key, block_hash, block.signature):
        raise BadSignature(h.height, "the signature does not verify with the terminal's key")
    if not 1 <= h.record_count <= MAX_BLOCK_RECORDS or len(block.records) != h.record_count:
        raise BadRecord(h.height, f"header says {h.record_count} records, the block holds {len(block.records)}")
    leaves = []
    decoded = []
    for offset, body in enumerate(block.records):
        try:
            record = decode_record(body)
        except ContentError as exc:
            raise BadContent(h.height, str(exc)) from None
        except RecordError as exc:
            raise BadContent(h.height, f"record {h.first_seq + offset} does not decode: {exc}") from None
        if record.seq != h.first_seq + offset:
            raise BadRecord(h.height, f"record at position {offset} has seq {record.seq}, "
                                      f"expected {h.first_seq + offset}")
        if record.terminal_id != h.terminal_id:
            raise BadRecord(h.height, f"record {record.seq} belongs to terminal {record.terminal_id}")
        leaves.append(leaf_hash(body))
        decoded.append(record)
    if merkle_root(leaves) != h.merkle_root:
        raise MerkleMismatch(h.height, "the records do not match the header's Merkle root")
    return decoded


def check_block_link(h: BlockHeader, previous: BlockHeader | None) -> None:
    """Height, prev_hash, seq continuity and terminal id against the previous block's header (None: genesis)."""
    expected_height = 0 if previous is None else previous.height + 1
    if h.height != expected_height:
        raise HeightGap(h.height, f"expected height {expected_height}")
    expected_prev = GENESIS_PREV_HASH if previous is None else previous.hash()
    if h.prev_hash != expected_prev:
        raise BrokenLink(h.height, "prev_hash does not match the previous block's hash")
    expected_first = 1 if previous is None else previous.last_seq + 1
    if h.first_seq != expected_first:
        raise BadRecord(h.height, f"records should start at seq {expected_first}, not {h.first_seq}")
    if previous is not None and h.terminal_id != previous.terminal_id:
        raise MalformedBlock(h.height, "terminal id differs from the previous block's")


def _hex(data: Any, n: int | None, what: str, height: int | None) -> bytes:
    try:
        raw = bytes.fromhex(data)
    except (TypeError, ValueError):
        raise MalformedBlock(height, f"{what} is not hex") from None
    if n is not None and len(raw) != n:
        raise MalformedBlock(height, f"{what} must be {n} bytes")
    return raw


def header_from_wire(hw: Any) -> BlockHeader:
    fields = {"v", "terminal_id", "height", "prev_hash", "created_at_ms", "first_seq", "record_count", "merkle_root"}
    if not isinstance(hw, dict) or set(hw) != fields:
        raise MalformedBlock(None, f"a block header has exactly: {', '.join(sorted(fields))}")
    height = hw["height"] if isinstance(hw["height"], int) and not isinstance(hw["height"], bool) else None
    for key in ("v", "height", "created_at_ms", "first_seq", "record_count"):
        if not isinstance(hw[key], int) or isinstance(hw[key], bool) or not 0 <= hw[key] <= MAX_SAFE_INTEGER:
            raise MalformedBlock(height if height is not None and 0 <= height <= MAX_SAFE_INTEGER else None,
                                 f"header field {key} must be an integer from 0 to {MAX_SAFE_INTEGER}")
    if not isinstance(hw["terminal_id"], str) or not _TERMINAL_ID.fullmatch(hw["terminal_id"]):
        raise MalformedBlock(height, "header field terminal_id must be a terminal id (4-32 of 0-9 A-Z)")
    return BlockHeader(hw["terminal_id"], hw["height"], _hex(hw["prev_hash"], 32, "prev_hash", height),
                       hw["created_at_ms"], hw["first_seq"], hw["record_count"],
                       _hex(hw["merkle_root"], 32, "merkle_root", height), hw["v"])


def decode_header(data: bytes) -> BlockHeader:
    """A header from its canonical bytes (as the terminal stores it)."""
    try:
        return header_from_wire(decode_canonical(data))
    except CanonicalError as exc:
        raise MalformedBlock(None, f"header is not canonical JSON: {exc}") from None


def block_from_wire(wire: Any) -> tuple[Block, bytes]:
    """Parse a wire block (a dict from JSON); returns the block and its stated hash. Raises MalformedBlock."""
    if not isinstance(wire, dict) or set(wire) != {"header", "hash", "signature", "records"}:
        raise MalformedBlock(None, "a block has exactly: header, hash, signature, records")
    header = header_from_wire(wire["header"])
    height = header.height
    records = wire["records"]
    if not isinstance(records, list) or not all(isinstance(r, str) for r in records):
        raise MalformedBlock(height, "records must be a list of base64 strings")
    if len(records) > MAX_BLOCK_RECORDS:
        raise MalformedBlock(height, f"a block holds at most {MAX_BLOCK_RECORDS} records")
    try:
        bodies = tuple(base64.b64decode(r, validate=True) for r in records)
    except ValueError:
        raise MalformedBlock(height, "a record is not valid base64") from None
    signature = _hex(wire["signature"], None, "signature", height)
    return Block(header, signature, bodies), _hex(wire["hash"], 32, "hash", height)


def decode_block(line: bytes) -> tuple[Block, bytes]:
    """Parse one canonical JSON block line (as `export-blocks` writes it)."""
    try:
        wire = decode_canonical(line)
    except CanonicalError as exc:
        raise MalformedBlock(None, f"not a canonical JSON block: {exc}") from None
    return block_from_wire(wire)

