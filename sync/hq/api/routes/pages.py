"""The customer's page at /c/: plain HTML, CSS and JavaScript served by HQ (no build step). The page makes the
customer's account key in the browser (WebCrypto, kept in IndexedDB) and talks to the customer API; a claim link
`/c/claim/{check_id}#{token}` opens the same page (the token stays in the fragment: it never reaches a server log).
The account's QR code is drawn here (segno), as SVG: an account id is public."""

from __future__ import annotations

import io
import re
from pathlib import Path

import segno
from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from sync.hq.api.deps import Keys
from sync.hq.api.errors import ApiError

router = APIRouter(tags=["customer page"], include_in_schema=False)
WEB = Path(__file__).resolve().parents[2] / "web" / "customer"
ASSETS = {"app.js": "text/javascript", "style.css": "text/css", "i18n.js": "text/javascript"}
_ACCOUNT_ID = re.compile(r"^HC[0-9A-Z]{32}$")
# The page runs only its own files; nothing may frame it; no referrer leaves it.
HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                                      "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
           "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}


def _page() -> FileResponse:
    return FileResponse(WEB / "index.html", media_type="text/html", headers=HEADERS)


@router.get("/c")
@router.get("/c/")
async def home() -> FileResponse:
    return _page()


@router.get("/c/claim/{check_id}")
async def claim_page(check_id: str) -> FileResponse:
    return _page()


@router.get("/c/static/{name}")
async def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise ApiError(404, "not_found", "No such file.")
    return FileResponse(WEB / name, media_type=ASSETS[name], headers=HEADERS)


@router.get("/c/config.json")
async def config(keys: Keys) -> dict[str, str]:
    """What the page needs to check HQ's receipts: HQ's Ed25519 public key (hex)."""
    return {"hq_receipt_public_key": keys.receipt_public.hex()}


@router.get("/c/qr/{account_id}.svg")
async def account_qr(account_id: str) -> Response:
    if not _ACCOUNT_ID.fullmatch(account_id):
        raise ApiError(404, "not_found", "No such account id.")
    out = io.BytesIO()
    segno.make_qr(account_id, error="m").save(out, kind="svg", scale=8, border=3, dark="#26221f")
    return Response(out.getvalue(), media_type="image/svg+xml", headers=HEADERS)
