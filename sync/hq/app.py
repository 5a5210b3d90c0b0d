"""The HQ HTTP API: thin async routes over ingest, auth and reports; errors as {"error": {"code", "message"}}."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

from bip32 import BIP32
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from psycopg import AsyncConnection, errors
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.hq import metrics, reports
from sync.hq.auth import AuthError, check_terminal_request, issue_token, password_matches, read_token, terminal_row
from sync.hq.config import Settings
from sync.hq.db import pending_migrations
from sync.hq.ingest import head_of, ingest_blocks
from sync.hq.keys import HQKeys
from sync.protocol.blocks import Block, BlockError, block_from_wire
from sync.protocol.keys import verify_signature
from sync.protocol.messages import SIGNATURE_HEADER, enrollment_digest

logger = logging.getLogger(__name__)
MAX_BLOCKS_PER_REQUEST = 100
PUBLIC_PATHS = frozenset({"/api/v1/enroll", "/api/v1/staff/login"})


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra or {}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


class BodyLimit:
    """Refuses a request body over the limit with 413, whether or not it announces its length."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _send_json(send, 413, error_body("body_too_large", f"The request body is over {self.limit} bytes."))
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise ApiError(413, "body_too_large", f"The request body is over {self.limit} bytes.")
            return message

        await self.app(scope, limited, send)


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


class Observe:
    """Pure ASGI (a BaseHTTPMiddleware halves the throughput of small requests): metrics by route for every
    request, and the rate limit of public endpoints before any validation, so malformed attempts count too."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app, self.limiter = app, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            if scope["path"] in PUBLIC_PATHS:
                client = scope.get("client")
                try:
                    self.limiter.check(client[0] if client else "unknown")
                except ApiError as exc:
                    await _send_json(record_status, exc.status, error_body(exc.code, exc.message, **exc.extra))
                    return
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            metrics.observe(scope["method"], getattr(route, "path", "unmatched"), status, time.perf_counter() - start)


class RateLimiter:
    """Per-client sliding window for public endpoints (enrollment, staff login): 429 beyond N a minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.seen: dict[str, deque[float]] = defaultdict(deque)

    def check(self, client: str) -> None:
        now = time.monotonic()
        window = self.seen[client]
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= self.per_minute:
            raise ApiError(429, "rate_limited", "Too many attempts from this address; wait a minute.",
                           {"retry_after_s": int(60 - (now - window[0])) + 1})
        window.append(now)


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in (
        (400, "Malformed request"), (401, "Not authenticated"), (403, "Not allowed"), (404, "Not found"),
        (405, "Method not allowed"), (409, "Conflict"), (410, "Gone"), (413, "Body too large"),
        (415, "Unsupported media type"), (422, "Invalid request"), (429, "Too many requests"),
        (500, "Server fault"), (503, "Not ready"))}


class EnrollRequest(BaseModel):
    code: str = Field(min_length=4, max_length=64)
    terminal_id: str = Field(pattern=r"^[0-9A-Z]{4,32}$")
    account_xpub: str = Field(min_length=100, max_length=120)
    signing_public_key: str = Field(pattern=r"^0[23][0-9a-f]{64}$")
    signature: str = Field(pattern=r"^[0-9a-f]{16,200}$")


class LoginRequest(BaseModel):
    username: str = Field(pattern=r"^[a-z0-9._-]{3,40}$")
    password: str = Field(min_length=1, max_length=200)


class FranchiseIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class NodeIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    node_type: str = Field(pattern=r"^(own|franchise)$")


class MenuItemIn(BaseModel):
    name: dict[str, str]
    category: str = Field(min_length=1, max_length=40)
    price: int = Field(gt=0, le=100_000_000)
    available: int = Field(ge=0, le=10_000_000)
    description: dict[str, str] = Field(default_factory=dict)
    priority: int = Field(default=5, ge=1, le=10)
    cooking_minutes: int = Field(default=15, ge=0, le=240)
    ingredients: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    active: bool = True


class PolicyIn(BaseModel):
    rate_num: int = Field(ge=0, le=1_000_000)
    rate_den: int = Field(ge=1, le=1_000_000)
    shares: dict[str, dict[str, int]]


def create_app(settings: Settings, keys: HQKeys, jwt_secret: str) -> FastAPI:
    pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
        settings.require_database(), min_size=settings.pool_min, max_size=settings.pool_max, open=False,
        kwargs={"autocommit": True})
    limiter = RateLimiter(settings.public_rate_per_minute)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await pool.open(wait=False)
        metrics.watch_pool(pool)
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(title="HotPot Spot HQ", version="1", lifespan=lifespan, responses=ERROR_RESPONSES,
                  description="Ingest of terminals' signed blocks, enrollment, updates, staff API. Every error is "
                              '{"error": {"code", "message"}} with a fitting status.')
    app.state.pool = pool

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, **exc.extra), status_code=exc.status)

    @app.exception_handler(AuthError)
    async def _auth_error(_: Request, exc: AuthError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return JSONResponse(error_body("invalid_request", f"{where or 'request'}: {first.get('msg', 'invalid')}"),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(errors.DataError)
    async def _unstorable(_: Request, exc: errors.DataError) -> JSONResponse:
        # The database refused a value the client sent (a NUL character in text, an out-of-range number).
        return JSONResponse(error_body("invalid_request", "The request holds a value HQ cannot store (for example a "
                                                          "NUL character in text)."), status_code=422)

    @app.exception_handler(Exception)
    async def _fault(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("fault on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal", "HQ hit an unexpected fault; it has been logged."),
                            status_code=503 if isinstance(exc, errors.OperationalError) else 500)

    async def body_json(request: Request) -> Any:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise ApiError(415, "unsupported_media_type", "Send JSON with Content-Type: application/json.")
        raw = await request.body()
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiError(400, "bad_json", "The request body is not valid JSON.") from None

    def client_of(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    async def signed_terminal(request: Request, conn: AsyncConnection[Any], terminal_id: str) -> dict[str, Any]:
        terminal = await terminal_row(conn, terminal_id)
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        await check_terminal_request(conn, terminal, request.headers.get(SIGNATURE_HEADER), request.method, path,
                                     await request.body())
        return terminal

    def staff(request: Request, *roles: str) -> dict[str, Any]:
        return read_token(jwt_secret, request.headers.get("authorization"), roles or ("hq_admin",))

    async def audit(conn: AsyncConnection[Any], actor: str, action: str, target: str | None,
                    detail: dict[str, Any] | None = None) -> None:
        await conn.execute("INSERT INTO audit_log (actor, action, target, detail) VALUES (%s, %s, %s, %s)",
                           (actor, action, target, json.dumps(detail or {})))

    # --- operations ---------------------------------------------------------------------------------------------

    @app.get("/api/health", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/ready", tags=["operations"])
    async def ready() -> JSONResponse:
        try:
            async with pool.connection(timeout=3) as conn:
                await conn.execute("SELECT 1")
            pending = await asyncio.to_thread(pending_migrations, settings.database_url)
        except Exception as exc:  # noqa: BLE001 - any failure means not ready, and says why
            return JSONResponse(error_body("not_ready", f"database unreachable: {type(exc).__name__}"), 503)
        if pending:
            return JSONResponse(error_body("not_ready", f"migrations pending: {', '.join(pending)}"), 503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["operations"],
             responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}})
    async def metrics_page() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    # --- terminals ----------------------------------------------------------------------------------------------

    @app.post("/api/v1/enroll", tags=["terminals"])
    async def enroll(request: Request, body: EnrollRequest) -> dict[str, Any]:
        try:
            derived = BIP32.from_xpub(body.account_xpub).get_pubkey_from_path([0, 0]).hex()
        except Exception:  # noqa: BLE001 - any malformed xpub is the client's mistake
            raise ApiError(422, "bad_xpub", "account_xpub is not a valid extended public key.") from None
        if derived != body.signing_public_key:
            raise ApiError(422, "key_mismatch", "signing_public_key is not the key m/0/0 of account_xpub.")
        digest = enrollment_digest(body.code, body.terminal_id, body.account_xpub, body.signing_public_key)
        if not verify_signature(bytes.fromhex(body.signing_public_key), digest, bytes.fromhex(body.signature)):
            raise ApiError(401, "bad_signature", "The enrollment is not signed by the key it registers.")
        code_hash = reports.hash_code(body.code)
        async with pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT node_id, terminal_name, expires_at < now(), used_at IS NOT NULL FROM enrollment_codes "
                "WHERE code_hash = %s FOR UPDATE", (code_hash,))
            row = await cur.fetchone()
            if row is None:
                raise ApiError(404, "unknown_code", "This enrollment code is not known at HQ.")
            node_id, name, expired, used = row
            if used:
                raise ApiError(409, "code_used", "This enrollment code has already been used.")
            if expired:
                raise ApiError(410, "code_expired", "This enrollment code has expired; ask HQ for a new one.")
            try:
                async with conn.transaction():
                    await conn.execute(
                        "INSERT INTO terminals (id, node_id, name, account_xpub, signing_public_key) "
                        "VALUES (%s, %s, %s, %s, %s)",
                        (body.terminal_id, node_id, name, body.account_xpub, bytes.fromhex(body.signing_public_key)))
            except errors.UniqueViolation:
                raise ApiError(409, "terminal_exists", f"Terminal {body.terminal_id} is already enrolled.") from None
            await conn.execute("UPDATE enrollment_codes SET used_at = now(), terminal_id = %s WHERE code_hash = %s",
                               (body.terminal_id, code_hash))
            await audit(conn, f"terminal:{body.terminal_id}", "enroll", body.terminal_id, {"node_id": node_id})
            updates = await reports.updates_since(conn, 0)
            cur = await conn.execute("SELECT node_type FROM nodes WHERE id = %s", (node_id,))
            node_row = await cur.fetchone()
        return {"terminal_id": body.terminal_id, "node_type": node_row[0] if node_row else None,
                "hq_receipt_public_key": keys.receipt_public.hex(), "hq_kyc_public_key": keys.kyc_public.hex(),
                "policy": updates["policies"][-1] if updates["policies"] else None, "menu": updates["menu"],
                "cursor": updates["cursor"]}

    @app.post("/api/v1/terminals/{terminal_id}/blocks", tags=["terminals"])
    async def push_blocks(terminal_id: str, request: Request) -> JSONResponse:
        async with pool.connection() as conn:
            terminal = await terminal_row(conn, terminal_id)
        doc = await body_json(request)
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
        outcome = await ingest_blocks(pool, keys, terminal, blocks, stated)
        for result in outcome.results:
            if result.status == "accepted":
                metrics.BLOCKS.inc()
            elif result.reason:
                metrics.REJECTIONS.labels(result.reason).inc()
        metrics.RECORDS.inc(outcome.records)
        return JSONResponse({"results": [r.to_dict() for r in outcome.results], "head": outcome.head},
                            status_code=outcome.http_status)

    @app.get("/api/v1/terminals/{terminal_id}/head", tags=["terminals"])
    async def terminal_head(terminal_id: str, request: Request) -> dict[str, Any]:
        async with pool.connection() as conn:
            await signed_terminal(request, conn, terminal_id)
            return {"terminal_id": terminal_id, "head": await head_of(conn, terminal_id)}

    @app.get("/api/v1/terminals/{terminal_id}/updates", tags=["terminals"])
    async def terminal_updates(terminal_id: str, request: Request, cursor: int = 0) -> dict[str, Any]:
        if cursor < 0:
            raise ApiError(422, "invalid_request", "cursor must be 0 or more.")
        async with pool.connection() as conn:
            await signed_terminal(request, conn, terminal_id)
            return await reports.updates_since(conn, cursor)

    # --- staff --------------------------------------------------------------------------------------------------

    @app.post("/api/v1/staff/login", tags=["staff"])
    async def login(request: Request, body: LoginRequest) -> dict[str, Any]:
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT password_hash, role, active FROM staff_users WHERE username = %s",
                                     (body.username,))
            row = await cur.fetchone()
            ok = row is not None and row[2] and await asyncio.to_thread(password_matches, body.password, row[0])
            await audit(conn, body.username, "login" if ok else "login_failed", None)
        if not ok or row is None:
            raise ApiError(401, "bad_credentials", "Wrong username or password.")
        return {"access_token": issue_token(jwt_secret, body.username, row[1], settings.jwt_ttl_s),
                "token_type": "bearer", "expires_in": settings.jwt_ttl_s, "role": row[1]}

    @app.get("/api/v1/staff/franchises", tags=["staff"])
    async def list_franchises(request: Request) -> list[dict[str, Any]]:
        staff(request, "hq_admin", "auditor")
        async with pool.connection() as conn:
            return await reports.franchises(conn)

    @app.post("/api/v1/staff/franchises", tags=["staff"], status_code=201)
    async def create_franchise(request: Request, body: FranchiseIn) -> dict[str, Any]:
        who = staff(request, "hq_admin")
        async with pool.connection() as conn, conn.transaction():
            try:
                cur = await conn.execute("INSERT INTO franchises (name) VALUES (%s) RETURNING id", (body.name,))
            except errors.UniqueViolation:
                raise ApiError(409, "exists", f"A franchise called {body.name!r} exists.") from None
            row = await cur.fetchone()
            await audit(conn, who["sub"], "create_franchise", body.name)
        return {"id": row[0] if row else None, "name": body.name}

    @app.post("/api/v1/staff/franchises/{franchise_id}/nodes", tags=["staff"], status_code=201)
    async def create_node(franchise_id: int, request: Request, body: NodeIn) -> dict[str, Any]:
        who = staff(request, "hq_admin")
        async with pool.connection() as conn, conn.transaction():
            try:
                cur = await conn.execute("INSERT INTO nodes (franchise_id, name, node_type) VALUES (%s, %s, %s) "
                                         "RETURNING id", (franchise_id, body.name, body.node_type))
            except errors.ForeignKeyViolation:
                raise ApiError(404, "not_found", f"No franchise {franchise_id}.") from None
            except errors.UniqueViolation:
                raise ApiError(409, "exists", f"The franchise already has a node {body.name!r}.") from None
            row = await cur.fetchone()
            await audit(conn, who["sub"], "create_node", body.name, {"franchise_id": franchise_id})
        return {"id": row[0] if row else None, "name": body.name, "node_type": body.node_type}

    @app.get("/api/v1/staff/terminals", tags=["staff"])
    async def list_terminals(request: Request) -> list[dict[str, Any]]:
        staff(request, "hq_admin", "auditor")
        async with pool.connection() as conn:
            return await reports.terminals(conn)

    @app.post("/api/v1/staff/terminals/{terminal_id}/revoke", tags=["staff"])
    async def revoke(terminal_id: str, request: Request) -> dict[str, Any]:
        who = staff(request, "hq_admin")
        async with pool.connection() as conn, conn.transaction():
            cur = await conn.execute("UPDATE terminals SET status = 'revoked', revoked_at = now() WHERE id = %s "
                                     "RETURNING id", (terminal_id,))
            if await cur.fetchone() is None:
                raise ApiError(404, "not_found", f"No terminal {terminal_id}.")
            await audit(conn, who["sub"], "revoke_terminal", terminal_id)
        return {"terminal_id": terminal_id, "status": "revoked"}

    @app.put("/api/v1/staff/menu/{item_id}", tags=["staff"])
    async def put_menu_item(item_id: str, request: Request, body: MenuItemIn) -> dict[str, Any]:
        who = staff(request, "hq_admin")
        item = {"id": item_id, **body.model_dump()}
        problem = reports.menu_item_problem(item)
        if problem:
            raise ApiError(422, "invalid_menu_item", problem)
        async with pool.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO menu_items (id, data, active, update_seq) VALUES (%s, %s, %s, nextval('update_seq')) "
                "ON CONFLICT (id) DO UPDATE SET data = excluded.data, active = excluded.active, "
                "update_seq = excluded.update_seq", (item_id, json.dumps(item, ensure_ascii=False), body.active))
            await audit(conn, who["sub"], "put_menu_item", item_id)
        return item

    @app.delete("/api/v1/staff/menu/{item_id}", tags=["staff"])
    async def retire_menu_item(item_id: str, request: Request) -> dict[str, Any]:
        """Menu items are retired (inactive), never deleted: old sales still name them."""
        who = staff(request, "hq_admin")
        async with pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "UPDATE menu_items SET active = false, data = jsonb_set(data, '{active}', 'false'), "
                "update_seq = nextval('update_seq') WHERE id = %s RETURNING id", (item_id,))
            if await cur.fetchone() is None:
                raise ApiError(404, "not_found", f"No menu item {item_id!r}.")
            await audit(conn, who["sub"], "retire_menu_item", item_id)
        return {"id": item_id, "active": False}

    @app.get("/api/v1/staff/menu", tags=["staff"])
    async def get_menu(request: Request) -> list[dict[str, Any]]:
        staff(request, "hq_admin", "auditor")
        async with pool.connection() as conn:
            menu: list[dict[str, Any]] = (await reports.updates_since(conn, 0))["menu"]
            return menu

    @app.post("/api/v1/staff/policies", tags=["staff"], status_code=201)
    async def new_policy(request: Request, body: PolicyIn) -> dict[str, Any]:
        who = staff(request, "hq_admin")
        problem = reports.policy_problem(body.shares)
        if problem:
            raise ApiError(422, "invalid_policy", problem)
        async with pool.connection() as conn, conn.transaction():
            await conn.execute("LOCK TABLE token_policies IN EXCLUSIVE MODE")
            cur = await conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM token_policies")
            row = await cur.fetchone()
            version = int(row[0]) if row else 1
            policy = {"version": version, **body.model_dump()}
            await conn.execute("INSERT INTO token_policies (version, data, update_seq) "
                               "VALUES (%s, %s, nextval('update_seq'))", (version, json.dumps(policy)))
            await audit(conn, who["sub"], "new_policy", str(version))
        return policy

    @app.get("/api/v1/staff/reports/sales", tags=["reports"])
    async def sales_report(request: Request, group: str = "day", since: date | None = None,
                           until: date | None = None) -> list[dict[str, Any]]:
        staff(request, "hq_admin", "auditor")
        if group not in ("franchise", "node", "day"):
            raise ApiError(422, "invalid_request", "group is franchise, node or day.")
        async with pool.connection() as conn:
            return await reports.sales(conn, group, since, until)

    @app.get("/api/v1/staff/reports/tokens", tags=["reports"])
    async def token_report(request: Request) -> dict[str, Any]:
        staff(request, "hq_admin", "auditor", "compliance")
        async with pool.connection() as conn:
            return await reports.token_balances(conn)

    @app.get("/api/v1/staff/reports/alerts", tags=["reports"])
    async def alert_report(request: Request) -> dict[str, Any]:
        staff(request, "hq_admin", "auditor", "compliance")
        async with pool.connection() as conn:
            return {"caps": await reports.cap_alerts(conn), "alerts": await reports.alerts(conn)}

    @app.get("/api/v1/staff/exports/sales.csv", tags=["reports"],
             responses={200: {"content": {"text/csv": {}}, "description": "Sales as CSV"}})
    async def sales_csv(request: Request, since: date, until: date) -> Response:
        who = staff(request, "hq_admin", "auditor")
        if until < since or until - since > timedelta(days=366):
            raise ApiError(422, "invalid_request", "The range must run forwards and span at most a year.")
        async with pool.connection() as conn:
            rows = await reports.sales_rows(conn, since, until)
            await audit(conn, who["sub"], "export_sales", f"{since}..{until}", {"rows": len(rows)})
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(reports.SALES_CSV_COLUMNS)
        writer.writerows(rows)
        name = f"sales-{since}-{until}.csv"
        return Response(out.getvalue(), media_type="text/csv",
                        headers={"content-disposition": f'attachment; filename="{name}"'})

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(Observe, limiter=limiter)
    return app
