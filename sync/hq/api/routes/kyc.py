"""KYC review through the staff API (compliance officers only): the queue, a case decrypted in memory with its
screening hits and risk score (every read audited), and decisions with a reason (four eyes on a high-risk case)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request

from sync.hq import kyc
from sync.hq.api.deps import AppSettings, Compliance, JsonBody, Keys, Pool
from sync.hq.api.errors import ApiError

router = APIRouter(prefix="/api/v1/staff/kyc", tags=["kyc review"])
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _case_id(case_id: str) -> str:
    if not _UUID.fullmatch(case_id):
        raise ApiError(404, "not_found", "A case id is a UUID.")
    return case_id


@router.get("/cases")
async def cases(who: Compliance, pool: Pool, request: Request) -> list[dict[str, Any]]:
    status = request.query_params.get("status")
    if status is not None and status not in kyc.STATUSES:
        raise ApiError(422, "invalid_request", f"status is one of {', '.join(kyc.STATUSES)}.")
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT k.case_id::text, k.terminal_id, k.level, k.status, k.received_at, k.risk_score, k.risk_level, "
            "k.first_approver, (SELECT count(*) FROM kyc_hits h WHERE h.case_id = k.case_id AND h.dismissed_at IS "
            "NULL) FROM kyc_cases k WHERE %(status)s::text IS NULL OR k.status = %(status)s "
            "ORDER BY k.risk_score DESC NULLS FIRST, k.received_at", {"status": status})
        names = ("case_id", "terminal_id", "level", "status", "received_at", "risk_score", "risk_level",
                 "first_approver", "hits")
        return [dict(zip(names, row, strict=True)) for row in await cur.fetchall()]


@router.get("/cases/{case_id}")
async def case(case_id: str, who: Compliance, pool: Pool, keys: Keys, settings: AppSettings,
               request: Request) -> dict[str, Any]:
    """The case decrypted (details, the desk's analysis; the images with ?images=1), screened when it was not yet,
    with its hits and risk score. Every call is written to the audit log with the parts it read."""
    with_images = request.query_params.get("images") == "1"
    async with pool.connection() as conn:
        row = await kyc.case_row(conn, _case_id(case_id))
        doc = await kyc.open_case(conn, settings.kyc_dir, keys.kyc, row, who.username,
                                  ["details", "analysis"] + (["images"] if with_images else []))
        details = doc.get("details", {})
        if row["screened_at"] is None:
            index = await kyc.screening_index(conn)
            row["risk"] = await kyc.screen_case(conn, row, details, index, doc.get("account"))
            row = {**await kyc.case_row(conn, case_id), "risk": row["risk"]}
        hits = await kyc.hits_of(conn, case_id)
    images = doc.get("images", {})
    return {"case_id": case_id, "terminal_id": row["terminal_id"], "status": row["status"], "level": row["level"],
            "received_at": row["received_at"], "details": details, "account": doc.get("account"),
            "analysis": doc.get("analysis", {}),
            "risk": {"score": row["risk_score"], "level": row["risk_level"], "parts": row["risk_parts"]},
            "hits": hits, "first_approver": row["first_approver"], "decided_by": row["decided_by"],
            "decision_reason": row["decision_reason"],
            "images": images if with_images else {name: len(data) * 3 // 4 for name, data in images.items()}}


@router.post("/cases/{case_id}/decision")
async def decision(case_id: str, who: Compliance, body: JsonBody, pool: Pool) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_request", "The body is {decision, reason}.")
    async with pool.connection() as conn:
        await kyc.case_row(conn, _case_id(case_id))
        return await kyc.decide(conn, case_id, who.username, str(body.get("decision", "")), str(body.get("reason", "")))
