"""The HQ app assembled: the pool and keys on app.state, the error handlers, the routers, the middleware."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from sync.hq import db, evidence, metrics, tokens
from sync.hq import kyc as hq_kyc
from sync.hq.api import consolekit
from sync.hq.api.errors import ERROR_RESPONSES, install_error_handlers
from sync.hq.api.middleware import BodyLimit, Observe, RateLimiter
from sync.hq.api.routes import console, customers, kyc, operations, pages, reports, staff, terminals
from sync.hq.config import Settings
from sync.hq.keys import HQKeys


def create_app(settings: Settings, keys: HQKeys, jwt_secret: str) -> FastAPI:
    pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
        settings.require_database(), min_size=settings.pool_min, max_size=settings.pool_max, open=False,
        kwargs={"autocommit": True})

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await pool.open(wait=False)
        metrics.watch_pool(pool)
        jobs = [asyncio.create_task(tokens.mint_job(pool, keys, settings.mint_job_interval_s)),
                asyncio.create_task(hq_kyc.retention_job(pool, settings.kyc_dir, keys.kyc)),
                asyncio.create_task(evidence.retention_job(pool, settings.kyc_dir, settings.footage_days)),
                asyncio.create_task(db.partition_job(pool))]
        try:
            yield
        finally:
            for job in jobs:
                job.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await job
            await pool.close()

    app = FastAPI(title="HotPot Spot HQ", version="1", lifespan=lifespan, responses=ERROR_RESPONSES,
                  description="Ingest of terminals' signed blocks, enrollment, updates, staff API. Every error is "
                              '{"error": {"code", "message"}} with a fitting status.')
    app.state.pool, app.state.keys, app.state.settings, app.state.jwt_secret = pool, keys, settings, jwt_secret
    install_error_handlers(app)
    consolekit.install(app)
    for area in (operations, terminals, staff, kyc, reports, customers, pages, console):
        app.include_router(area.router)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(Observe, limiter=RateLimiter(settings.public_rate_per_minute),
                       claim_limiter=RateLimiter(settings.claim_rate_per_minute),
                       recycle_every=settings.recycle_connections_every)
    # Pushes whose signature does not verify: counted per source, refused for a minute past the allowance.
    app.state.unsigned_pushes = RateLimiter(settings.public_rate_per_minute)
    return app
