"""The HQ console at /console/: server-rendered pages (Jinja2, one stylesheet, htmx for partial updates) for HQ admins,
auditors, compliance officers and franchise managers. Every page checks the role; every query is scoped to a
franchise manager's franchise; every POST carries the session's CSRF token; every write goes through writes.py (one
transaction with its audit entry), as the JSON API's do."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from markupsafe import Markup

from sync.hq import console, sessions, writes
from sync.hq import evidence as hq_evidence
from sync.hq import kyc as hq_kyc
from sync.hq.api.consolekit import (
    LOGIN_COOKIE,
    ROLE_NAMES,
    SECURITY_HEADERS,
    WEB,
    Form,
    Refused,
    Viewer,
    allowed,
    bar_chart,
    money,
    new_login_csrf,
    page_roles,
    redirect,
    render,
    translate,
    units,
)
from sync.hq.api.deps import AppSettings, JwtSecret, Keys, Pool
from sync.hq.api.errors import ApiError
from sync.hq.auth import ROLES, login_matches
from sync.protocol.vocabulary import CATEGORIES, LANGUAGES, NODE_TYPES, PARTIES

router = APIRouter(prefix="/console", include_in_schema=False)
STATIC = {"console.css": "text/css", "htmx-2.0.11.min.js": "text/javascript", "footage.js": "text/javascript"}
_TERMINAL_ID = re.compile(r"^[0-9A-Z]{4,32}$")
_ITEM_ID = re.compile(r"^[a-z0-9-]{1,40}$")


def _viewer(path: str) -> Any:
    return Depends(allowed(*page_roles(path)))


Admin = Annotated[sessions.Session, Depends(allowed("hq_admin"))]


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() and len(raw) < 7 else 1


def _done(request: Request) -> str | None:
    """The sentence confirming what the last action did (redirect after POST carries its key)."""
    return {"enrolled": "Enrollment code made: give it to the terminal's owner; it works once, for 24 hours.",
            "revoked": "Terminal revoked: HQ refuses its blocks and requests from now on.",
            "franchise": "Franchise saved.", "node": "Node saved.", "menu": "Menu item saved; terminals get it "
            "with their next update.", "retired": "Menu item retired; terminals stop selling it after their next "
            "update.", "policy": "New policy version saved; terminals get it with their next update.",
            "acknowledged": "Alert acknowledged.", "staff": "Staff user saved; it takes effect at once.",
            "language": "Language changed.",
            "confirmed": "Early sales confirmed: their tokens are booked.",
            "kyc_decided": "Decision saved; the terminal hears it with its next sync.",
            "kyc_waiting": "First approval saved: a high-risk case needs a second compliance officer.",
            "dismissed": "Hit dismissed as another person; the risk score is updated.",
            "rescreened": "Approved customers screened again; new hits are on the alerts page.",
            "requested": "Footage requested: the till uploads it with its next sync (sales first).",
            "held": "Footage on hold: retention keeps it until the hold is released.",
            "released": "Hold released: the footage goes when its retention period has passed."
            }.get(request.query_params.get("done", ""))


# --- static files, sign-in, sign-out, language --------------------------------------------------------------------


@router.get("/static/{name}")
async def static(name: str) -> FileResponse:
    if name not in STATIC:
        raise ApiError(404, "not_found", "No such file.")
    folder = WEB / "static" / ("vendor" if name.startswith("htmx") else "")
    return FileResponse(folder / name, media_type=STATIC[name],
                        headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"})


def _login_page(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
    token = new_login_csrf()
    target = request.query_params.get("next", "/console/")
    response = render(request, None, "login.html", status=status, login_csrf=token, error=error,
                      next=target if target.startswith("/console/") else "/console/")
    response.set_cookie(LOGIN_COOKIE, token, max_age=1800, path="/console/login", httponly=True, secure=True,
                        samesite="strict")
    return response


@router.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    return _login_page(request)


@router.post("/login")
async def login(request: Request, pool: Pool, secret: JwtSecret) -> Response:
    raw = (await request.body()).decode("utf-8", "replace")
    from urllib.parse import parse_qs

    fields = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
    sent, expected = fields.get("csrf_token", ""), request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hashlib.sha256(sent.encode()).digest() == hashlib.sha256(expected.encode()).digest():
        return _login_page(request, "The sign-in form expired; please sign in again.", 403)
    username, password = fields.get("username", "").strip().lower(), fields.get("password", "")
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT password_hash, role, active FROM staff_users WHERE username = %s",
                                 (username,))
        row = await cur.fetchone()
        matches = await asyncio.to_thread(login_matches, password, row[0] if row else None)
        ok = row is not None and bool(row[2]) and matches
        await writes.audit(conn, username or "-", "login" if ok else "login_failed", None, {"via": "console"})
        if not ok or row is None:
            return _login_page(request, "Wrong username or password.", 401)
        cookie = await sessions.start(conn, secret, username, row[1])
    target = fields.get("next", "/console/")
    response = redirect(target if target.startswith("/console/") and "//" not in target else "/console/")
    response.set_cookie(sessions.COOKIE, cookie, max_age=int(sessions.SESSION_TTL.total_seconds()), path="/console",
                        httponly=True, secure=True, samesite="strict")
    response.delete_cookie(LOGIN_COOKIE, path="/console/login")
    return response


@router.post("/logout")
async def logout(session: Viewer, _: Form, pool: Pool) -> Response:
    async with pool.connection() as conn:
        await sessions.end(conn, session)
        await writes.audit(conn, session.username, "logout", None, {"via": "console"})
    response = redirect("/console/login")
    response.delete_cookie(sessions.COOKIE, path="/console")
    return response


@router.post("/language")
async def language(request: Request, session: Viewer, fields: Form, pool: Pool) -> Response:
    lang = fields.get("lang", "")
    if lang not in LANGUAGES:
        raise Refused("Unknown language.", 422)
    async with pool.connection() as conn:
        await writes.set_language(conn, session.username, lang)
    back = fields.get("back", "/console/")
    return redirect(back if back.startswith("/console/") and "//" not in back else "/console/")


# --- dashboard -----------------------------------------------------------------------------------------------------


@router.get("/")
async def dashboard(request: Request, session: Annotated[sessions.Session, _viewer("/console/")],
                    pool: Pool) -> HTMLResponse:
    async with pool.connection() as conn:
        board = await console.dashboard(conn, session.franchise_id)
    t = _t(session)
    charts = (bar_chart(board.days, "total", money, t("Sales per day, last 30 days")),
              bar_chart(board.days, "minted", lambda v: f"{v:,} ST", t("Tokens minted per day, last 30 days")))
    return render(request, session, "dashboard.html", board=board, charts=charts, done=_done(request))


def _t(session: sessions.Session) -> Any:
    return lambda text, **fields: translate(session.language, text, **fields)


# --- terminals -------------------------------------------------------------------------------------------------------


def _qr_svg(text: str) -> Markup:
    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="svg", scale=5, border=2, dark="#26221f", xmldecl=False,
                                        svgns=True)
    return Markup(out.getvalue().decode())


@router.get("/terminals")
async def terminals(request: Request, session: Annotated[sessions.Session, _viewer("/console/terminals")],
                    pool: Pool) -> HTMLResponse:
    async with pool.connection() as conn:
        found = await console.terminals(conn, session.franchise_id)
        franchises = await console.franchises(conn, None) if session.role == "hq_admin" else []
    return render(request, session, "terminals.html", terminals=found, franchises=franchises,
                  node_types=NODE_TYPES, done=_done(request))


@router.get("/terminals/{terminal_id}")
async def terminal(request: Request, terminal_id: str,
                   session: Annotated[sessions.Session, _viewer("/console/terminals")], pool: Pool) -> HTMLResponse:
    async with pool.connection() as conn:
        if not _TERMINAL_ID.fullmatch(terminal_id) or not await console.terminal_in_scope(conn, terminal_id, None):
            raise Refused("No such terminal.", 404)
        if not await console.terminal_in_scope(conn, terminal_id, session.franchise_id):
            raise Refused("This terminal belongs to another franchise.")
        detail = await console.terminal_detail(conn, terminal_id)
    return render(request, session, "terminal.html", terminal=detail, done=_done(request))


@router.post("/terminals/{terminal_id}/confirm-mints")
async def confirm_mints(request: Request, terminal_id: str, session: Admin, fields: Form, pool: Pool) -> Response:
    """Book the tokens of the sales a terminal made before it enrolled (held until an HQ admin vouches for them)."""
    if not _TERMINAL_ID.fullmatch(terminal_id):
        raise Refused("No such terminal.", 404)
    if fields.get("confirm") != "yes":
        raise Refused("Tick the box to confirm you checked these sales.", 422)
    async with pool.connection() as conn:
        try:
            await writes.confirm_early_mints(conn, session.username, terminal_id)
        except ApiError as exc:
            raise Refused(exc.message, exc.status) from None
    return redirect(f"/console/terminals/{terminal_id}?done=confirmed")


@router.post("/terminals/enroll")
async def enroll(request: Request, session: Admin, fields: Form, pool: Pool, settings: AppSettings) -> HTMLResponse:
    franchise, terminal = fields.get("franchise", "").strip(), fields.get("terminal", "").strip()
    node, node_type = fields.get("node", "").strip() or "Main", fields.get("node_type", "franchise")
    error = None
    if not franchise or not terminal or len(franchise) > 80 or len(terminal) > 80 or len(node) > 80:
        error = "Name the franchise, the node and the terminal (at most 80 characters each)."
    elif node_type not in NODE_TYPES:
        error = "Choose the node type: own or franchise."
    code = None
    async with pool.connection() as conn:
        if error is None:
            try:
                code = await writes.issue_enroll_code(conn, session.username, franchise, terminal, node, node_type,
                                                      settings.enroll_code_ttl_s)
            except ApiError as exc:
                error = exc.message
        found = await console.terminals(conn, session.franchise_id)
        franchises = await console.franchises(conn, None)
    return render(request, session, "terminals.html", status=422 if error else 200, terminals=found,
                  franchises=franchises, node_types=NODE_TYPES, error=error, code=code,
                  code_qr=_qr_svg(code) if code else None,
                  enrolled={"franchise": franchise, "terminal": terminal, "node": node, "node_type": node_type},
                  expires=datetime.now(UTC) + timedelta(seconds=settings.enroll_code_ttl_s))


@router.post("/terminals/{terminal_id}/revoke")
async def revoke(request: Request, terminal_id: str, session: Admin, fields: Form, pool: Pool) -> Response:
    if not _TERMINAL_ID.fullmatch(terminal_id):
        raise Refused("No such terminal.", 404)
    reason = fields.get("reason", "").strip()
    if fields.get("confirm") != "yes" or not reason:
        async with pool.connection() as conn:
            found = await console.terminals(conn, session.franchise_id)
            franchises = await console.franchises(conn, None)
        return render(request, session, "terminals.html", status=422, terminals=found, franchises=franchises,
                      node_types=NODE_TYPES, revoking=terminal_id,
                      error="To revoke, give a reason and tick the box that confirms it.")
    async with pool.connection() as conn:
        try:
            await writes.revoke_terminal(conn, session.username, terminal_id, reason[:500])
        except ApiError as exc:
            raise Refused(exc.message, exc.status) from None
    return redirect("/console/terminals?done=revoked")


# --- franchises and nodes --------------------------------------------------------------------------------------------


async def _franchises_page(request: Request, session: sessions.Session, pool: Pool, error: str | None = None,
                           status: int = 200) -> HTMLResponse:
    async with pool.connection() as conn:
        found = await console.franchises(conn, session.franchise_id)
    return render(request, session, "franchises.html", status=status, franchises=found, node_types=NODE_TYPES,
                  error=error, done=_done(request))


@router.get("/franchises")
async def franchises(request: Request, session: Annotated[sessions.Session, _viewer("/console/franchises")],
                     pool: Pool) -> HTMLResponse:
    return await _franchises_page(request, session, pool)


def _name(fields: dict[str, str], key: str = "name") -> str | None:
    name = " ".join(fields.get(key, "").split())
    return name if 0 < len(name) <= 80 else None


async def _franchise_write(request: Request, session: sessions.Session, pool: Pool, problem: str | None,
                           write: Any, done: str) -> Response:
    """The franchises page's forms: a problem with the form or HQ's refusal back on the page (422), else the write
    (one of writes.py's, with its audit entry) and a confirmation."""
    if problem is None:
        try:
            async with pool.connection() as conn:
                await write(conn)
        except ApiError as exc:
            problem = exc.message
        else:
            return redirect(f"/console/franchises?done={done}")
    return await _franchises_page(request, session, pool, problem, 422)


_FRANCHISE_NAME = "A franchise's name is 1 to 80 characters."
_NODE_FORM = "A node needs a name (1 to 80 characters) and a type."


@router.post("/franchises")
async def create_franchise(request: Request, session: Admin, fields: Form, pool: Pool) -> Response:
    name = _name(fields)
    return await _franchise_write(request, session, pool, None if name else _FRANCHISE_NAME,
                                  lambda conn: writes.create_franchise(conn, session.username, name or ""), "franchise")


@router.post("/franchises/{franchise_id}")
async def rename_franchise(request: Request, franchise_id: int, session: Admin, fields: Form,
                           pool: Pool) -> Response:
    name = _name(fields)
    return await _franchise_write(
        request, session, pool, None if name else _FRANCHISE_NAME,
        lambda conn: writes.rename_franchise(conn, session.username, franchise_id, name or ""), "franchise")


@router.post("/franchises/{franchise_id}/nodes")
async def create_node(request: Request, franchise_id: int, session: Admin, fields: Form, pool: Pool) -> Response:
    name, node_type = _name(fields), fields.get("node_type", "")
    return await _franchise_write(
        request, session, pool, None if name and node_type in NODE_TYPES else _NODE_FORM,
        lambda conn: writes.create_node(conn, session.username, franchise_id, name or "", node_type), "node")


@router.post("/nodes/{node_id}")
async def update_node(request: Request, node_id: int, session: Admin, fields: Form, pool: Pool) -> Response:
    name, node_type = _name(fields), fields.get("node_type", "")
    return await _franchise_write(
        request, session, pool, None if name and node_type in NODE_TYPES else _NODE_FORM,
        lambda conn: writes.update_node(conn, session.username, node_id, name or "", node_type), "node")


# --- menu ------------------------------------------------------------------------------------------------------------


async def _menu_page(request: Request, session: sessions.Session, pool: Pool, error: str | None = None,
                     status: int = 200, draft: dict[str, Any] | None = None) -> HTMLResponse:
    async with pool.connection() as conn:
        items = await console.menu(conn)
        pulls = await console.menu_pulls(conn, session.franchise_id)
    editing = request.query_params.get("edit", "")
    current = next((i["data"] for i in items if i["id"] == editing), None)
    return render(request, session, "menu.html", status=status, items=items, pulls=pulls, error=error,
                  done=_done(request), categories=CATEGORIES, draft=draft or current or {}, editing=bool(current))


@router.get("/menu")
async def menu(request: Request, session: Annotated[sessions.Session, _viewer("/console/menu")],
               pool: Pool) -> HTMLResponse:
    return await _menu_page(request, session, pool)


def _whole(text: str) -> int | None:
    text = text.strip().replace(",", "")
    return int(text) if text.isdigit() and len(text) <= 12 else None


def _tetri(text: str) -> int | None:
    """'12.50' or '12' lari as tetri; None when it is not an amount."""
    match = re.fullmatch(r"\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*", text)
    if not match:
        return None
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


@router.post("/menu")
async def save_menu_item(request: Request, session: Admin, fields: Form, pool: Pool) -> Response:
    draft: dict[str, Any] = {"id": fields.get("id", "").strip(), "category": fields.get("category", ""),
                             "name": {lang: fields.get(f"name_{lang}", "").strip() for lang in LANGUAGES},
                             "price": fields.get("price", ""), "available": fields.get("available", "")}
    price, available = _tetri(fields.get("price", "")), _whole(fields.get("available", "0") or "0")
    if not _ITEM_ID.fullmatch(draft["id"]):
        error = "An item id is 1 to 40 lowercase letters, digits or dashes, like spicy-broth."
    elif price is None:
        error = "The price is an amount in lari, like 12.50."
    elif available is None:
        error = "Availability is a whole number of portions."
    else:
        try:
            async with pool.connection() as conn:
                # An edit keeps what the form does not show (description, ingredients, cooking time, priority).
                cur = await conn.execute("SELECT data FROM menu_items WHERE id = %s", (draft["id"],))
                row = await cur.fetchone()
                item = {**(row[0] if row else {}), **draft, "price": price, "available": available, "active": True}
                await writes.put_menu_item(conn, session.username, item)
        except ApiError as exc:
            error = exc.message
        else:
            return redirect("/console/menu?done=menu")
    return await _menu_page(request, session, pool, error, 422, draft)


@router.post("/menu/{item_id}/retire")
async def retire(request: Request, item_id: str, session: Admin, fields: Form, pool: Pool) -> Response:
    if fields.get("confirm") != "yes":
        return await _menu_page(request, session, pool, "Tick the box to confirm retiring the item.", 422)
    try:
        async with pool.connection() as conn:
            await writes.retire_menu_item(conn, session.username, item_id)
    except ApiError as exc:
        return await _menu_page(request, session, pool, exc.message, 422)
    return redirect("/console/menu?done=retired")


# --- policies --------------------------------------------------------------------------------------------------------


async def _policies_page(request: Request, session: sessions.Session, pool: Pool, error: str | None = None,
                         status: int = 200, draft: dict[str, str] | None = None) -> HTMLResponse:
    async with pool.connection() as conn:
        found = await console.policies(conn)
    return render(request, session, "policies.html", status=status, policies=found, error=error,
                  done=_done(request), parties=PARTIES, node_types=NODE_TYPES, draft=draft or {})


@router.get("/policies")
async def policies(request: Request, session: Annotated[sessions.Session, _viewer("/console/policies")],
                   pool: Pool) -> HTMLResponse:
    return await _policies_page(request, session, pool)


@router.post("/policies")
async def new_policy(request: Request, session: Admin, fields: Form, pool: Pool) -> Response:
    """Shares are typed as percentages with up to two decimals (48.5 = 4850 basis points)."""
    def bp(text: str) -> int | None:
        match = re.fullmatch(r"\s*(\d{1,3})(?:[.,](\d{1,2}))?\s*", text or "0")
        return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0")) if match else None

    shares: dict[str, dict[str, int]] = {}
    error = None
    for node_type in NODE_TYPES:
        shares[node_type] = {}
        for party in PARTIES:
            value = bp(fields.get(f"{node_type}_{party}", ""))
            if value is None:
                error = "Each share is a percentage such as 48 or 2.5."
            elif value:
                shares[node_type][party] = value
    rate_num, rate_den = _whole(fields.get("rate_num", "")), _whole(fields.get("rate_den", ""))
    if error is None and (rate_num is None or rate_den is None):
        error = "The mint rate is two whole numbers: ST units per so many tetri."
    if error is None:
        try:
            async with pool.connection() as conn:
                await writes.new_policy(conn, session.username, {"rate_num": rate_num, "rate_den": rate_den,
                                                                 "shares": shares})
        except ApiError as exc:
            error = exc.message
        else:
            return redirect("/console/policies?done=policy")
    return await _policies_page(request, session, pool, error, 422, fields)


# --- reports ---------------------------------------------------------------------------------------------------------

GROUPS = ("franchise", "node", "day", "item", "hour")


def _period(request: Request) -> tuple[str, date, date]:
    group = request.query_params.get("group", "franchise")
    today = datetime.now(UTC).date()

    def day(name: str, default: date) -> date:
        try:
            return date.fromisoformat(request.query_params.get(name, "") or default.isoformat())
        except ValueError:
            raise Refused("Dates are written as YYYY-MM-DD.", 422) from None

    since, until = day("since", today - timedelta(days=29)), day("until", today)
    if group not in GROUPS:
        raise Refused("Unknown grouping.", 422)
    if since > until or (until - since).days > 3660:
        raise Refused("The period runs from an earlier day to a later one (at most ten years).", 422)
    return group, since, until


@router.get("/reports")
async def reports(request: Request, session: Annotated[sessions.Session, _viewer("/console/reports")],
                  pool: Pool) -> HTMLResponse:
    group, since, until = _period(request)
    async with pool.connection() as conn:
        found = await console.sales_report(conn, session.franchise_id, group, since, until)
        by_party = await console.tokens_by_party(conn, session.franchise_id, since, until)
        from sync.hq import reports as hq_reports

        caps = await hq_reports.cap_alerts(conn) if session.franchise_id is None else []
    return render(request, session, "reports.html", rows=found, group=group, groups=GROUPS, since=since, until=until,
                  by_party=by_party, caps=caps, query=request.url.query)


@router.get("/reports.csv")
async def reports_csv(request: Request, session: Annotated[sessions.Session, _viewer("/console/reports")],
                      pool: Pool) -> Response:
    group, since, until = _period(request)
    async with pool.connection() as conn:
        found = await console.sales_report(conn, session.franchise_id, group, since, until)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([group, "sales", "quantity", "total_tetri", "minted_st"])
    for row in found:
        writer.writerow([row["group"], row["sales"], row["quantity"] if row["quantity"] is not None else "",
                         row["total"], row["minted"] if row["minted"] is not None else ""])
    name = f"hotpot-sales-by-{group}-{since}-{until}.csv"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


# --- alerts ----------------------------------------------------------------------------------------------------------


@router.get("/alerts")
async def alerts(request: Request, session: Annotated[sessions.Session, _viewer("/console/alerts")],
                 pool: Pool) -> HTMLResponse:
    show = request.query_params.get("show", "open")
    page = _page_number(request)
    async with pool.connection() as conn:
        found, total = await console.alerts(conn, session.franchise_id, show, page)
        silent = [t for t in await console.terminals(conn, session.franchise_id) if t["state"] == "silent"]
    return render(request, session, "alerts.html", alerts=found, total=total, page=page, show=show, silent=silent,
                  pages=max(1, -(-total // console.PAGE_SIZE)), done=_done(request),
                  can_ack=session.role in ("hq_admin", "franchise_manager"),
                  can_request_footage=session.role in ("hq_admin", "franchise_manager"),
                  can_view_footage=session.role in page_roles("/console/footage"))


@router.post("/alerts/acknowledge")
async def acknowledge(request: Request, session: Annotated[sessions.Session, Depends(allowed(
        "hq_admin", "franchise_manager"))], fields: Form, pool: Pool) -> Response:
    note = fields.get("note", "").strip()[:500]
    ids: list[int] | None
    if fields.get("all") == "yes":
        ids = None
    else:
        raw = fields.get("id", "")
        if not raw.isdigit():
            raise Refused("Choose an alert to acknowledge.", 422)
        ids = [int(raw)]
    if not note:
        raise Refused("Write a note: what was found, or what was done about it.", 422)
    async with pool.connection() as conn, conn.transaction():
        count = await console.acknowledge(conn, session.franchise_id, ids, session.username, note)
        await writes.audit(conn, session.username, "acknowledge_alerts", ",".join(map(str, ids)) if ids else "all",
                           {"count": count, "note": note})
    if ids is not None and count == 0:
        raise Refused("That alert is not open, or not one of yours.", 404)
    return redirect("/console/alerts?done=acknowledged")


# --- footage: evidence from the tills' cameras ------------------------------------------------------------------


@router.post("/alerts/{alert_id}/footage")
async def request_footage(request: Request, alert_id: int, session: Annotated[sessions.Session, Depends(allowed(
        "hq_admin", "franchise_manager"))], fields: Form, pool: Pool) -> Response:
    reason = " ".join(fields.get("reason", "").split())[:500]
    if not reason:
        raise Refused("Say why the footage is needed (it is personal data: the request is logged).", 422)
    try:
        async with pool.connection() as conn, conn.transaction():
            request_id = await hq_evidence.request_for_alert(conn, session.franchise_id, alert_id, reason,
                                                             session.username)
            await writes.audit(conn, session.username, "request_footage", str(alert_id),
                               {"request": request_id, "reason": reason})
    except ApiError as exc:
        raise Refused(exc.message, exc.status) from None
    return redirect(f"/console/footage/{request_id}?done=requested")


Footage = Annotated[sessions.Session, _viewer("/console/footage")]


@router.get("/footage")
async def footage_list(request: Request, session: Footage, pool: Pool) -> HTMLResponse:
    async with pool.connection() as conn:
        found = await hq_evidence.requests(conn, session.franchise_id)
    return render(request, session, "footage.html", requests=found)


@router.get("/footage/{request_id}")
async def footage_request(request: Request, request_id: int, session: Footage, pool: Pool,
                          settings: AppSettings) -> HTMLResponse:
    """A request's segments, each with its state and proof; stored ones play here (opening the page is logged:
    it shows people)."""
    async with pool.connection() as conn:
        try:
            found = await hq_evidence.request(conn, session.franchise_id, request_id)
        except ApiError as exc:
            raise Refused(exc.message, exc.status) from None
        if any(s["stored_at"] for s in found["segments"]):
            await writes.audit(conn, session.username, "view_footage", str(request_id), {})
    return render(request, session, "footage_request.html", req=found, done=_done(request),
                  footage_days=settings.footage_days, can_hold=session.role == "hq_admin")


@router.post("/footage/{request_id}/hold")
async def footage_hold(request: Request, request_id: int, session: Admin, fields: Form, pool: Pool) -> Response:
    """Keep a request's footage past retention (a reason is required), or let it go again."""
    release = fields.get("release") == "yes"
    reason = " ".join(fields.get("reason", "").split())[:500]
    if not release and not reason:
        raise Refused("Say why the footage must be kept (a claim, the police): the hold is logged.", 422)
    try:
        async with pool.connection() as conn, conn.transaction():
            await hq_evidence.hold(conn, session.franchise_id, request_id, None if release else reason,
                                   session.username)
            await writes.audit(conn, session.username, "release_footage" if release else "hold_footage",
                               str(request_id), {} if release else {"reason": reason})
    except ApiError as exc:
        raise Refused(exc.message, exc.status) from None
    return redirect(f"/console/footage/{request_id}?done={'released' if release else 'held'}")


async def _stored_segment(pool: Any, session: sessions.Session, request_id: int, sha256: str) -> dict[str, Any]:
    async with pool.connection() as conn:
        try:
            return await hq_evidence.segment_of(conn, session.franchise_id, request_id, sha256)
        except ApiError as exc:
            raise Refused(exc.message, exc.status) from None


@router.get("/footage/{request_id}/{sha256}/frames/{number}.jpg")
async def footage_frame(request_id: int, sha256: str, number: int, session: Footage, pool: Pool, keys: Keys,
                        settings: AppSettings) -> Response:
    seg = await _stored_segment(pool, session, request_id, sha256)
    plain, _key = await hq_evidence.plaintext(settings.kyc_dir, keys.kyc, seg)
    try:
        jpeg = hq_evidence.frame(plain, number)
    except ApiError as exc:
        raise Refused(exc.message, exc.status) from None
    return Response(jpeg, media_type="image/jpeg", headers={**SECURITY_HEADERS, "Cache-Control": "private, no-store"})


@router.get("/footage/{request_id}/{sha256}/download")
async def footage_download(request_id: int, sha256: str, session: Footage, pool: Pool, keys: Keys,
                           settings: AppSettings) -> Response:
    """The sealed segment as the ledger hashed it, its frames as Motion-JPEG, and the proof (the download is
    logged)."""
    seg = await _stored_segment(pool, session, request_id, sha256)
    plain, key = await hq_evidence.plaintext(settings.kyc_dir, keys.kyc, seg)
    sealed = await asyncio.to_thread((settings.kyc_dir / seg["blob"]).read_bytes)
    async with pool.connection() as conn:
        await writes.audit(conn, session.username, "download_footage", sha256,
                           {"request": request_id, "terminal_id": seg["terminal_id"], "camera_id": seg["camera_id"]})
    name = f"{seg['terminal_id']}-{seg['camera_id']}-{seg['started_at_ms']}.zip"
    return Response(hq_evidence.bundle(seg, sealed, plain, key), media_type="application/zip",
                    headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


# --- tokens, KYC, audit, staff ---------------------------------------------------------------------------------------


@router.get("/tokens")
async def tokens(request: Request, session: Annotated[sessions.Session, _viewer("/console/tokens")],
                 pool: Pool) -> HTMLResponse:
    async with pool.connection() as conn:
        summary = await console.token_summary(conn)
    return render(request, session, "tokens.html", summary=summary)


@router.get("/kyc")
async def kyc(request: Request, session: Annotated[sessions.Session, _viewer("/console/kyc")],
              pool: Pool) -> HTMLResponse:
    async with pool.connection() as conn:
        cases = await console.kyc_queue(conn, session.franchise_id)
        cur = await conn.execute("SELECT count(*) FROM kyc_cases WHERE rescreen_due")
        row = await cur.fetchone()
    return render(request, session, "kyc.html", cases=cases, done=_done(request), rescreen=int(row[0]) if row else 0)


Compliance = Annotated[sessions.Session, Depends(allowed("compliance"))]
_CASE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def _case_page(request: Request, session: sessions.Session, pool: Pool, keys: Any, settings: Any,
                     case_id: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    """A case for a compliance officer: decrypted in memory in this request (the read is audited), screened on its
    first read, with its hits and risk."""
    if not _CASE.fullmatch(case_id):
        raise Refused("No such KYC case.", 404)
    async with pool.connection() as conn:
        try:
            row = await hq_kyc.case_row(conn, case_id)
            doc = {} if row["data_deleted_at"] else await hq_kyc.open_case(
                conn, settings.kyc_dir, keys.kyc, row, session.username, ["details", "analysis", "images"])
        except ApiError as exc:
            raise Refused(exc.message, exc.status) from None
        if row["screened_at"] is None and doc:
            await hq_kyc.screen_case(conn, row, doc.get("details", {}), await hq_kyc.screening_index(conn),
                                     doc.get("account"))
            row = await hq_kyc.case_row(conn, case_id)
        hits = await hq_kyc.hits_of(conn, case_id)
    images: dict[str, str | None] = {}
    for name, data in (doc.get("images") or {}).items():  # JPEGs as the desk encodes them, shown inline (never saved)
        images[name] = f"data:image/jpeg;base64,{data}" if isinstance(data, str) and data.startswith("/9j/") else None
    return render(request, session, "kyc_case.html", status=status, case=row, details=doc.get("details", {}),
                  analysis=doc.get("analysis", {}), account=doc.get("account"), images=images, hits=hits,
                  error=error, done=_done(request))


@router.post("/kyc/rescreen")
async def kyc_rescreen(request: Request, session: Compliance, _: Form, pool: Pool, keys: Keys,
                       settings: AppSettings) -> Response:
    async with pool.connection() as conn:
        screened, new = await hq_kyc.rescreen_due(conn, settings.kyc_dir, keys.kyc, session.username)
    return redirect(f"/console/kyc?done=rescreened&screened={screened}&new={new}")


@router.get("/kyc/{case_id}")
async def kyc_case(request: Request, case_id: str, session: Compliance, pool: Pool, keys: Keys,
                   settings: AppSettings) -> HTMLResponse:
    return await _case_page(request, session, pool, keys, settings, case_id)


@router.post("/kyc/{case_id}/decision")
async def kyc_decision(request: Request, case_id: str, session: Compliance, fields: Form, pool: Pool, keys: Keys,
                       settings: AppSettings) -> Response:
    if not _CASE.fullmatch(case_id):
        raise Refused("No such KYC case.", 404)
    try:
        async with pool.connection() as conn:
            outcome = await hq_kyc.decide(conn, case_id, session.username, fields.get("decision", ""),
                                          fields.get("reason", ""))
    except ApiError as exc:
        return await _case_page(request, session, pool, keys, settings, case_id, exc.message, 422)
    done = "kyc_waiting" if outcome.get("awaiting") else "kyc_decided"
    return redirect(f"/console/kyc?done={done}")


@router.post("/kyc/{case_id}/hits/{list_format}/{ref}/dismiss")
async def kyc_dismiss(request: Request, case_id: str, list_format: str, ref: str, session: Compliance,
                      fields: Form, pool: Pool, keys: Keys, settings: AppSettings) -> Response:
    reason = " ".join(fields.get("reason", "").split())[:500]
    if not _CASE.fullmatch(case_id):
        raise Refused("No such KYC case.", 404)
    if not reason:
        return await _case_page(request, session, pool, keys, settings, case_id,
                                "Say why this hit is another person.", 422)
    async with pool.connection() as conn, conn.transaction():
        if not await hq_kyc.dismiss_hit(conn, case_id, list_format, ref, session.username, reason):
            raise Refused("That hit is not open on this case.", 404)
    return redirect(f"/console/kyc/{case_id}?done=dismissed")


@router.get("/audit")
async def audit(request: Request, session: Annotated[sessions.Session, _viewer("/console/audit")],
                pool: Pool) -> HTMLResponse:
    actor, action = request.query_params.get("actor", "")[:40], request.query_params.get("action", "")[:40]
    page = _page_number(request)
    async with pool.connection() as conn:
        found, total, actions = await console.audit(conn, actor, action, page)
    return render(request, session, "audit.html", entries=found, total=total, page=page, actor=actor,
                  action=action, actions=actions, pages=max(1, -(-total // console.PAGE_SIZE)))


async def _staff_page(request: Request, session: sessions.Session, pool: Pool, error: str | None = None,
                      status: int = 200) -> HTMLResponse:
    async with pool.connection() as conn:
        users = await console.staff(conn)
        franchises = await console.franchises(conn, None)
    return render(request, session, "staff.html", status=status, users=users, franchises=franchises, roles=ROLES,
                  role_names=ROLE_NAMES, error=error, done=_done(request))


@router.get("/staff")
async def staff(request: Request, session: Annotated[sessions.Session, _viewer("/console/staff")],
                pool: Pool) -> HTMLResponse:
    return await _staff_page(request, session, pool)


def _scope_of(fields: dict[str, str]) -> tuple[str, int | None]:
    role = fields.get("role", "")
    if role not in ROLES:
        raise ValueError("Choose a role.")
    raw = fields.get("franchise_id", "")
    if role == "franchise_manager":
        if not raw.isdigit():
            raise ValueError("A franchise manager needs a franchise.")
        return role, int(raw)
    return role, None


@router.post("/staff")
async def create_staff(request: Request, session: Admin, fields: Form, pool: Pool) -> Response:
    username = fields.get("username", "").strip().lower()
    try:
        role, franchise_id = _scope_of(fields)
        if fields.get("password", "") != fields.get("password2", ""):
            raise ValueError("The two passwords differ.")
        async with pool.connection() as conn:
            await writes.create_staff_user(conn, session.username, username, fields.get("password", ""), role,
                                           franchise_id)
    except ValueError as exc:
        return await _staff_page(request, session, pool, str(exc), 422)
    except ApiError as exc:
        return await _staff_page(request, session, pool, exc.message, 422)
    return redirect("/console/staff?done=staff")


@router.post("/staff/{username}")
async def update_staff(request: Request, username: str, session: Admin, fields: Form, pool: Pool) -> Response:
    try:
        role, franchise_id = _scope_of(fields)
        async with pool.connection() as conn:
            await writes.update_staff_user(conn, session.username, username, role, franchise_id,
                                           fields.get("active") == "yes")
    except ValueError as exc:
        return await _staff_page(request, session, pool, str(exc), 422)
    except ApiError as exc:
        return await _staff_page(request, session, pool, exc.message, 422)
    return redirect("/console/staff?done=staff")


__all__ = ["router", "money", "units"]
