"""The console's plumbing: who is signed in (sessions.py), roles per page, CSRF on every POST, the Jinja2 templates,
the three languages, money and token formatting, and the chart. Pages themselves are routes/console.py."""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from sync.hq import sessions
from sync.hq.api.deps import JwtSecret, Pool
from sync.hq.consoletext import CATALOG
from sync.protocol.vocabulary import LANGUAGES

WEB = Path(__file__).resolve().parents[1] / "web"
ROLE_NAMES = {"hq_admin": "HQ admin", "auditor": "Auditor", "compliance": "Compliance officer",
              "franchise_manager": "Franchise manager"}
EVERYONE = ("hq_admin", "auditor", "compliance", "franchise_manager")
# The pages of the console: path, title, who may open it.
NAV = (
    ("/console/", "Dashboard", EVERYONE),
    ("/console/terminals", "Terminals", ("hq_admin", "auditor", "franchise_manager")),
    ("/console/franchises", "Franchises", ("hq_admin", "auditor", "franchise_manager")),
    ("/console/menu", "Menu", ("hq_admin", "auditor", "franchise_manager")),
    ("/console/policies", "Policies", ("hq_admin", "auditor")),
    ("/console/reports", "Reports", ("hq_admin", "auditor", "franchise_manager")),
    ("/console/alerts", "Alerts", EVERYONE),
    ("/console/tokens", "Tokens", ("hq_admin", "auditor")),
    ("/console/footage", "Footage", ("hq_admin", "auditor", "franchise_manager")),
    ("/console/kyc", "KYC", ("hq_admin", "compliance")),
    ("/console/audit", "Audit log", ("hq_admin", "auditor", "compliance")),
    ("/console/staff", "Staff", ("hq_admin",)),
)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
    "X-Frame-Options": "DENY"}
LOGIN_COOKIE = "hq_login"
# What each alert kind is called on the page (the kinds are HQ's and the terminals' codes).
ALERT_NAMES = {"invalid_block": "Block refused", "fork": "Fork", "update_refused": "Update refused",
               "motion_after_hours": "Motion after hours", "camera_failure": "Camera failure",
               "silent": "Silent terminal", "cap": "Cap passed", "kyc_rescreen_hit": "Approved customer on a new list",
               "kyc_mismatch": "KYC upload differs from the ledger",
               "evidence_mismatch": "Footage upload differs from the ledger"}


class SignInFirst(Exception):
    """No live session: the visitor goes to the sign-in page (and comes back after)."""


class Refused(Exception):
    """A page or action this viewer may not have: a 403 page with a sentence, never a stack trace."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def translate(lang: str, text: str, **fields: Any) -> str:
    entry = CATALOG.get(text)
    out = entry.get(lang, text) if entry and lang != "en" else text
    return out.format(**fields) if fields else out


def money(tetri: int | None) -> str:
    """Tetri as lari: 123456 -> '1,234.56 GEL' (the ISO code: Chromium on Debian draws no glyph for the lari sign
    even where DejaVu has one)."""
    if tetri is None:
        return "—"
    sign = "-" if tetri < 0 else ""
    lari, rest = divmod(abs(int(tetri)), 100)
    return f"{sign}{lari:,}.{rest:02d} GEL"


def units(value: int | None) -> str:
    return "—" if value is None else f"{int(value):,}"


def when(value: datetime | date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def clock(ms: int | None) -> str:
    """A till's time in ms (UTC, as the console shows every time), to the second."""
    return "—" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def bar_chart(days: list[dict[str, Any]], key: str, label: Callable[[int], str], title: str) -> Markup:
    """A bar per day, drawn as SVG on the server (no script); each bar has its figure as a tooltip."""
    width, height, left, right, bottom, top_pad = 1120, 170, 90, 24, 22, 16
    top = max((int(d[key]) for d in days), default=0) or 1
    step = (width - left - right) / max(len(days), 1)
    base = height - bottom
    parts = []
    for i, day in enumerate(days):
        value = int(day[key])
        h = (base - top_pad) * value / top
        x = left + i * step
        parts.append(f'<rect x="{x + 1:.1f}" y="{base - h:.1f}" width="{step - 2:.1f}" height="{h:.1f}" '
                     f'class="bar"><title>{html.escape(str(day["day"]))}: {html.escape(label(value))}</title></rect>')
        if i % 5 == 0 or i == len(days) - 1:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{height - 4}" text-anchor="middle" class="axis">'
                         f'{html.escape(day["day"].strftime("%d.%m"))}</text>')
    return Markup(f'<svg viewBox="0 0 {width} {height}" class="chart" role="img" aria-label="{html.escape(title)}">'
                  f'<text x="{left - 8}" y="{top_pad + 4}" text-anchor="end" class="axis">{html.escape(label(top))}'
                  f'</text><text x="{left - 8}" y="{base}" text-anchor="end" class="axis">0</text>'
                  f'<line x1="{left}" y1="{top_pad}" x2="{width - right}" y2="{top_pad}" class="grid"/>'
                  f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" class="base"/>'
                  + "".join(parts) + "</svg>")


ENV = Environment(loader=FileSystemLoader(WEB / "templates"), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)
# The parts of a KYC risk score and of a screening hit's score, as the case page names them.
RISK_PART_NAMES = {"base": "Base", "nationality": "Nationality AF, IR, KP or SY", "age": "Age under 18 or over 80",
                   "pep": "Politically exposed person", "sanctions": "On a sanctions list"}
HIT_PART_NAMES = {"name": "Name", "date_of_birth": "Date of birth", "nationality": "Nationality"}
ENV.globals.update(alert_names=ALERT_NAMES, risk_names=RISK_PART_NAMES, hit_names=HIT_PART_NAMES)
ENV.filters.update(money=money, units=units, when=when, clock=clock,
                   tojson_pretty=lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True))


def render(request: Request, session: sessions.Session | None, template: str, status: int = 200,
           **context: Any) -> HTMLResponse:
    lang = session.language if session else _guest_language(request)

    def t(text: str, **fields: Any) -> str:
        return translate(lang, text, **fields)

    nav = [(path, t(title)) for path, title, roles in NAV if session and session.role in roles]
    body = ENV.get_template(f"console/{template}").render(
        request=request, session=session, lang=lang, t=t, nav=nav, path=request.url.path,
        csrf=session.csrf if session else context.pop("login_csrf", ""), role_name=t(
            ROLE_NAMES.get(session.role, "")) if session else "", languages=LANGUAGES, **context)
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def _guest_language(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("hq_lang") or "en"
    return lang if lang in LANGUAGES else "en"


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers=SECURITY_HEADERS)


# --- who is signed in -----------------------------------------------------------------------------------------------


async def _session(request: Request, pool: Pool, secret: JwtSecret) -> sessions.Session:
    async with pool.connection() as conn:
        session = await sessions.current(conn, secret, request.cookies.get(sessions.COOKIE))
    if session is None:
        raise SignInFirst()
    request.state.console_session = session
    return session


Viewer = Annotated[sessions.Session, Depends(_session)]


def allowed(*roles: str) -> Callable[[sessions.Session], Awaitable[sessions.Session]]:
    async def check(session: Viewer) -> sessions.Session:
        if session.role not in roles:
            raise Refused("Your role does not open this page.")
        return session

    return check


def page_roles(path: str) -> tuple[str, ...]:
    return next(roles for p, _, roles in NAV if p == path)


async def form(request: Request, session: Viewer) -> dict[str, str]:
    """A posted form (urlencoded), CSRF-checked against the session: the hidden field or htmx's header."""
    raw = await request.body()
    try:
        fields = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
    except UnicodeDecodeError:
        raise Refused("The form could not be read; reload the page and try again.", 400) from None
    sent = fields.pop("csrf_token", None) or request.headers.get("x-csrf-token")
    if not sessions.csrf_ok(session, sent):
        raise Refused("This form has expired or did not come from the console; reload the page and try again.")
    return fields


Form = Annotated[dict[str, str], Depends(form)]


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def install(app: FastAPI) -> None:
    async def sign_in_first(request: Request, _: Exception) -> Response:
        target = request.url.path if request.method == "GET" else "/console/"
        return redirect(f"/console/login?next={target}")

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        session = getattr(request.state, "console_session", None)
        return render(request, session, "refused.html", status=exc.status, message=exc.message,
                      status_code=exc.status)

    app.add_exception_handler(SignInFirst, sign_in_first)
    app.add_exception_handler(Refused, refused)


def choice(fields: Mapping[str, str], name: str, options: tuple[str, ...] | list[str], message: str) -> str:
    value = fields.get(name, "")
    if value not in options:
        raise ValueError(message)
    return value
