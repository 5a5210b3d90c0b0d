"""The staff API: sign-in, franchises and nodes, terminals, the menu and token policies (hq_admin writes,
auditors read)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter

from sync.hq import reports, writes
from sync.hq.api.deps import Admin, AppSettings, JwtSecret, Pool, Reader
from sync.hq.api.errors import ApiError
from sync.hq.api.schemas import FranchiseIn, LoginRequest, MenuItemIn, NodeIn, PolicyIn
from sync.hq.auth import issue_token, login_matches

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


@router.post("/login")
async def login(body: LoginRequest, pool: Pool, settings: AppSettings, secret: JwtSecret) -> dict[str, Any]:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT password_hash, role, active FROM staff_users WHERE username = %s",
                                 (body.username,))
        row = await cur.fetchone()
        matches = await asyncio.to_thread(login_matches, body.password, row[0] if row else None)
        ok = row is not None and row[2] and matches
        await writes.audit(conn, body.username, "login" if ok else "login_failed", None)
    if not ok or row is None:
        raise ApiError(401, "bad_credentials", "Wrong username or password.")
    return {"access_token": issue_token(secret, body.username, row[1], settings.jwt_ttl_s),
            "token_type": "bearer", "expires_in": settings.jwt_ttl_s, "role": row[1]}


@router.get("/franchises")
async def list_franchises(_: Reader, pool: Pool) -> list[dict[str, Any]]:
    async with pool.connection() as conn:
        return await reports.franchises(conn)


@router.post("/franchises", status_code=201)
async def create_franchise(who: Admin, body: FranchiseIn, pool: Pool) -> dict[str, Any]:
    async with pool.connection() as conn:
        franchise_id = await writes.create_franchise(conn, who.username, body.name)
    return {"id": franchise_id, "name": body.name}


@router.post("/franchises/{franchise_id}/nodes", status_code=201)
async def create_node(who: Admin, franchise_id: int, body: NodeIn, pool: Pool) -> dict[str, Any]:
    async with pool.connection() as conn:
        node_id = await writes.create_node(conn, who.username, franchise_id, body.name, body.node_type)
    return {"id": node_id, "name": body.name, "node_type": body.node_type}


@router.get("/terminals")
async def list_terminals(_: Reader, pool: Pool) -> list[dict[str, Any]]:
    async with pool.connection() as conn:
        return await reports.terminals(conn)


@router.post("/terminals/{terminal_id}/revoke")
async def revoke(who: Admin, terminal_id: str, pool: Pool) -> dict[str, Any]:
    async with pool.connection() as conn:
        await writes.revoke_terminal(conn, who.username, terminal_id)
    return {"terminal_id": terminal_id, "status": "revoked"}


@router.post("/terminals/{terminal_id}/confirm-mints")
async def confirm_early_mints(who: Admin, terminal_id: str, pool: Pool) -> dict[str, Any]:
    """Book the mints of sales a terminal made before it enrolled (held until now)."""
    async with pool.connection() as conn:
        confirmed = await writes.confirm_early_mints(conn, who.username, terminal_id)
    return {"terminal_id": terminal_id, "confirmed": confirmed}


@router.put("/menu/{item_id}")
async def put_menu_item(who: Admin, item_id: str, body: MenuItemIn, pool: Pool) -> dict[str, Any]:
    async with pool.connection() as conn:
        return await writes.put_menu_item(conn, who.username, {"id": item_id, **body.model_dump()})


@router.delete("/menu/{item_id}")
async def retire_menu_item(who: Admin, item_id: str, pool: Pool) -> dict[str, Any]:
    """Menu items are retired (inactive), never deleted: old sales still name them."""
    async with pool.connection() as conn:
        await writes.retire_menu_item(conn, who.username, item_id)
    return {"id": item_id, "active": False}


@router.get("/menu")
async def get_menu(_: Reader, pool: Pool) -> list[dict[str, Any]]:
    async with pool.connection() as conn:
        menu: list[dict[str, Any]] = (await reports.updates_since(conn, 0))["menu"]
        return menu


@router.post("/policies", status_code=201)
async def new_policy(who: Admin, body: PolicyIn, pool: Pool) -> dict[str, Any]:
    async with pool.connection() as conn:
        return await writes.new_policy(conn, who.username, body.model_dump())
