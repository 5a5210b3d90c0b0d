"""What terminals call: enrollment with a one-time code, pushing signed blocks, and (signed) head and updates."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sync.hq import evidence, kyc, metrics, reports, writes
from sync.hq.api.deps import (
    AppSettings,
    EnrolledTerminal,
    JsonBody,
    Keys,
    Pool,
    SignedTerminal,
    note_contact,
)
from sync.hq.api.errors import ApiError
from sync.hq.api.middleware import RateLimiter
from sync.hq.api.schemas import EnrollRequest
from sync.hq.ingest import head_of, ingest_blocks
from sync.protocol.blocks import Block, BlockError, block_from_wire
from sync.protocol.keys import verify_signature
from sync.protocol.messages import (
    BACKLOG_HEADER,
    evidence_receipt_payload,
    kyc_receipt_payload,
    receipt_digest_input,
)

router = APIRouter(tags=["terminals"])
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_BLOCKS_PER_REQUEST = 100


@router.post("/api/v1/enroll")
async def enroll(request: Request, body: EnrollRequest, pool: Pool, keys: Keys,
                 settings: AppSettings) -> dict[str, Any]:
    writes.check_enrollment_proof(body.code, body.terminal_id, body.account_xpub, body.signing_public_key,
                                  body.signature)
    async with pool.connection() as conn:
        node_type = await writes.enroll_terminal(conn, body.code, body.terminal_id, body.account_xpub,
                                                 body.signing_public_key)
        updates = await reports.updates_since(conn, 0)
        await writes.note_served(conn, body.terminal_id, updates["cursor"])
    return {"terminal_id": body.terminal_id, "node_type": node_type,
            "hq_receipt_public_key": keys.receipt_public.hex(), "hq_kyc_public_key": keys.kyc_public.hex(),
            "policy": updates["policies"][-1] if updates["policies"] else None, "menu": updates["menu"],
            "cursor": updates["cursor"],
            "claim_base_url": (settings.public_url or str(request.base_url).rstrip("/")) + "/c"}


def _blocks_of(doc: Any) -> tuple[list[Block], list[bytes]]:
    if not isinstance(doc, dict) or not isinstance(doc.get("blocks"), list) or set(doc) != {"blocks"}:
        raise ApiError(422, "invalid_request", 'The body is {"blocks": [block, ...]}.')
    wire_blocks = doc["blocks"]
    if not 1 <= len(wire_blocks) <= MAX_BLOCKS_PER_REQUEST:
        raise ApiError(422, "invalid_request", f"Send 1 to {MAX_BLOCKS_PER_REQUEST} blocks per request.")
    blocks: list[Block] = []
    stated: list[bytes] = []
    for wire in wire_blocks:
        try:
            block, stated_hash = block_from_wire(wire)
        except BlockError as exc:
            metrics.REJECTIONS.labels(exc.reason).inc()
            raise ApiError(422, "malformed_block", str(exc)) from None
        if blocks and block.height != blocks[-1].height + 1:
            raise ApiError(422, "invalid_request", "Blocks must be in consecutive height order.")
        blocks.append(block)
        stated.append(stated_hash)
    return blocks, stated


@router.post("/api/v1/terminals/{terminal_id}/blocks")
async def push_blocks(request: Request, terminal: EnrolledTerminal, doc: JsonBody, pool: Pool,
                      keys: Keys) -> JSONResponse:
    guard: RateLimiter = request.app.state.unsigned_pushes
    client = request.client.host if request.client else "unknown"
    guard.refuse_if_over(client)
    blocks, stated = _blocks_of(doc)
    key = bytes(terminal["signing_public_key"])
    if not all(verify_signature(key, claimed, b.signature) for b, claimed in zip(blocks, stated, strict=True)):
        # Whoever sent this cannot sign as the terminal: no alert per request (anyone could flood them), no word
        # about the terminal's chain; a metric counts them and the source is slowed down.
        metrics.UNSIGNED_PUSHES.inc()
        guard.check(client)
        raise ApiError(401, "bad_signature", "These blocks are not signed by this terminal's key.")
    async with pool.connection() as conn:  # the blocks verify under its key: this is the terminal (or a replay)
        await note_contact(conn, terminal["id"], request.headers.get(BACKLOG_HEADER))
    outcome = await ingest_blocks(pool, keys, terminal, blocks, stated)
    for result in outcome.results:
        if result.status == "accepted":
            metrics.BLOCKS.inc()
        elif result.reason:
            metrics.REJECTIONS.labels(result.reason).inc()
    metrics.RECORDS.inc(outcome.records)
    metrics.SALES.inc(outcome.sales)
    metrics.MINTED.inc(outcome.minted)
    agent = request.headers.get("user-agent", "")
    if agent.startswith("hotpot-terminal/") and len(agent) <= 60 and \
            any(r.status == "accepted" for r in outcome.results):
        # What the terminal says it runs (for the console): only with blocks HQ had not seen, so never from a replay.
        async with pool.connection() as conn:
            await conn.execute("UPDATE terminals SET software = %s WHERE id = %s AND software IS DISTINCT FROM %s",
                               (agent.split("/", 1)[1], terminal["id"], agent.split("/", 1)[1]))
    return JSONResponse({"results": [r.to_dict() for r in outcome.results], "head": outcome.head},
                        status_code=outcome.http_status)


@router.put("/api/v1/terminals/{terminal_id}/kyc/{case_id}",
            responses={200: {"description": "HQ's signed receipt for the stored envelope"}})
async def put_kyc_case(case_id: str, terminal: SignedTerminal, request: Request, pool: Pool, keys: Keys,
                       settings: AppSettings) -> dict[str, Any]:
    """A terminal's sealed KYC case (docs/protocol.md section 10), signed like every terminal call. Idempotent."""
    if not _UUID.fullmatch(case_id):
        raise ApiError(422, "invalid_request", "The case id is a UUID.")
    async with pool.connection() as conn:
        sha, received = await kyc.store_case(conn, settings.kyc_dir, terminal["id"], case_id, await request.body())
    receipt = kyc_receipt_payload(terminal["id"], case_id, sha, int(received.timestamp() * 1000))
    return {"receipt": receipt, "receipt_signature": keys.sign_receipt(receipt_digest_input(receipt)).hex()}


@router.get("/api/v1/terminals/{terminal_id}/evidence/{sha256}")
async def evidence_status(sha256: str, terminal: SignedTerminal, pool: Pool) -> dict[str, Any]:
    """How much of a camera segment HQ holds (an upload resumes from `received`)."""
    async with pool.connection() as conn:
        return await evidence.status(conn, terminal["id"], sha256)


@router.put("/api/v1/terminals/{terminal_id}/evidence/{sha256}")
async def evidence_piece(sha256: str, terminal: SignedTerminal, request: Request, pool: Pool,
                         settings: AppSettings, offset: int = 0) -> dict[str, Any]:
    """A piece of a camera segment's sealed bytes at `offset`; the last one is checked against the ledger's hash."""
    async with pool.connection() as conn:
        return await evidence.append(conn, settings.kyc_dir, terminal["id"], sha256, offset, await request.body())


@router.put("/api/v1/terminals/{terminal_id}/evidence/{sha256}/key")
async def evidence_key(sha256: str, terminal: SignedTerminal, request: Request, pool: Pool, keys: Keys,
                       settings: AppSettings) -> dict[str, Any]:
    """The segment's key sealed to HQ's KYC key; HQ keeps it if it opens the bytes, and answers with its receipt."""
    async with pool.connection() as conn:
        cid, stored_at = await evidence.store_key(conn, settings.kyc_dir, keys.kyc, terminal["id"], sha256,
                                                  await request.body())
    receipt = evidence_receipt_payload(terminal["id"], sha256, cid, int(stored_at.timestamp() * 1000))
    return {"receipt": receipt, "receipt_signature": keys.sign_receipt(receipt_digest_input(receipt)).hex()}


@router.post("/api/v1/terminals/{terminal_id}/evidence/{sha256}/missing")
async def evidence_missing(sha256: str, terminal: SignedTerminal, pool: Pool) -> dict[str, Any]:
    """The till no longer holds the segment (retention deleted it): HQ stops asking."""
    async with pool.connection() as conn:
        await evidence.mark_missing(conn, terminal["id"], sha256)
        return await evidence.status(conn, terminal["id"], sha256)


@router.get("/api/v1/terminals/{terminal_id}/head")
async def terminal_head(terminal: SignedTerminal, pool: Pool) -> dict[str, Any]:
    async with pool.connection() as conn:
        return {"terminal_id": terminal["id"], "head": await head_of(conn, terminal["id"])}


@router.get("/api/v1/terminals/{terminal_id}/updates")
async def terminal_updates(terminal: SignedTerminal, pool: Pool, cursor: int = 0,
                           claims_after: int = 0, kyc_after: int = 0) -> dict[str, Any]:
    if cursor < 0 or claims_after < 0 or kyc_after < 0:
        raise ApiError(422, "invalid_request", "cursor, claims_after and kyc_after must be 0 or more.")
    async with pool.connection() as conn:
        updates = await reports.updates_since(conn, cursor)
        await writes.note_served(conn, terminal["id"], updates["cursor"])
        updates.update(await reports.claims_since(conn, terminal["id"], claims_after))
        updates.update(await reports.kyc_decisions_since(conn, terminal["id"], kyc_after))
        updates["evidence"] = await evidence.wanted(conn, terminal["id"])
        return updates
