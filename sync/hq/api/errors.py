"""HQ's one error type and how every error becomes {"error": {"code", "message"}} with a fitting status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from psycopg import errors
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """Refused: `status` is the HTTP status; `code`, the message and any `extra` fields go into the error body."""

    def __init__(self, status: int, code: str, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, **self.extra)


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


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


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    retry = exc.extra.get("retry_after_s")
    headers = {"Retry-After": str(int(retry))} if isinstance(retry, int) else None
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


async def _invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
    return JSONResponse(error_body("invalid_request", f"{where or 'request'}: {first.get('msg', 'invalid')}"),
                        status_code=422)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)


async def _unstorable(_: Request, __: Exception) -> JSONResponse:
    # The database refused a value the client sent (a NUL character in text, an out-of-range number).
    return JSONResponse(error_body("invalid_request", "The request holds a value HQ cannot store (for example a "
                                                      "NUL character in text)."), status_code=422)


CONSOLE_FAULT = ("<!doctype html><meta charset=utf-8><title>HQ fault</title><link rel=stylesheet "
                 "href=/console/static/console.css><main class=narrow><section class=card><h1>Something went wrong"
                 "</h1><p>HQ hit an unexpected fault; it has been logged. Try again, or go back to the "
                 "<a href=/console/>dashboard</a>.</p></section></main>")


async def _fault(request: Request, exc: Exception) -> Response:
    logger.exception("fault on %s %s", request.method, request.url.path)
    status = 503 if isinstance(exc, errors.OperationalError) else 500
    if request.url.path.startswith("/console/"):  # a person at a browser: a page, not JSON
        return HTMLResponse(CONSOLE_FAULT, status_code=status)
    return JSONResponse(error_body("internal", "HQ hit an unexpected fault; it has been logged."),
                        status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(errors.DataError, _unstorable)
    app.add_exception_handler(Exception, _fault)
