"""Health, readiness and metrics: what load balancers, probes and Prometheus call."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from sync.hq import metrics
from sync.hq.api.deps import AppSettings, Pool
from sync.hq.api.errors import error_body
from sync.hq.db import pending_migrations

router = APIRouter(tags=["operations"])


@router.get("/api/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/api/ready")
async def ready(pool: Pool, settings: AppSettings) -> JSONResponse:
    try:
        async with pool.connection(timeout=3) as conn:
            await conn.execute("SELECT 1")
        pending = await asyncio.to_thread(pending_migrations, settings.database_url)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready, and says why
        return JSONResponse(error_body("not_ready", f"database unreachable: {type(exc).__name__}"), 503)
    if pending:
        return JSONResponse(error_body("not_ready", f"migrations pending: {', '.join(pending)}"), 503)
    return JSONResponse({"status": "ready"})


@router.get("/metrics", responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}})
async def metrics_page(pool: Pool) -> Response:
    try:
        async with pool.connection(timeout=3) as conn:
            cur = await conn.execute(
                "SELECT t.id, f.name, t.status, extract(epoch FROM t.last_seen_at)::float8, t.backlog FROM terminals t "
                "JOIN nodes n ON n.id = t.node_id JOIN franchises f ON f.id = n.franchise_id")
            fleet = metrics.Fleet(True, [tuple(row) for row in await cur.fetchall()])
    except Exception:  # noqa: BLE001 - the scrape still answers; hotpot_hq_database_ready says 0
        fleet = metrics.Fleet(False, [])
    body, content_type = metrics.render(fleet)
    return Response(body, media_type=content_type)
