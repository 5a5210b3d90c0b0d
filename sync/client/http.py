"""The terminal's HTTP client for HQ: one requests Session, explicit timeouts, signed calls, typed failures."""

from __future__ import annotations

import importlib.metadata
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from sync.protocol.messages import BACKLOG_HEADER, SIGNATURE_HEADER, SignatureHeader, request_digest

CONNECT_TIMEOUT_S, READ_TIMEOUT_S = 5.0, 60.0


class SyncError(Exception):
    """A failed exchange with HQ. `retryable` ones are tried again later with backoff."""

    retryable = True

    def __init__(self, message: str, status: int | None = None, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.body = status, body


class Refused(SyncError):
    """HQ understood and said no (a 4xx other than 429): trying again unchanged will not help."""

    retryable = False


def _version() -> str:
    try:
        return importlib.metadata.version("hotpotspot")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "dev"


class HQClient:
    def __init__(self, base_url: str, terminal_id: str, sign_digest: Callable[[bytes], bytes] | None = None,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.terminal_id = terminal_id
        self.sign_digest = sign_digest
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = f"hotpot-terminal/{_version()}"
        # Records not acknowledged by HQ yet, sent with each call for HQ's monitoring (None: not known, not sent).
        self.backlog: int | None = None
        # A connection that cannot even be opened is retried at once, twice; everything else is the Syncer's call
        # (with backoff), since only it knows what is safe to send again.
        adapter = HTTPAdapter(max_retries=Retry(total=2, connect=2, read=0, status=0, redirect=0, other=0,
                                                backoff_factor=0.2, raise_on_status=False))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def _call(self, method: str, path: str, body: Any = None, *, signed: bool = False,
              ok_statuses: tuple[int, ...] = (200,), raw: bytes | None = None,
              content_type: str = "application/json") -> tuple[int, dict[str, Any]]:
        data = raw if raw is not None else b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"content-type": content_type} if data else {}
        if self.backlog is not None:
            headers[BACKLOG_HEADER] = str(self.backlog)
        if signed:
            if self.sign_digest is None:
                raise Refused("this call must be signed, and the wallet is locked")
            ts, nonce = time.time_ns() // 1_000_000, secrets.token_urlsafe(18)
            digest = request_digest(method, path, data, ts, nonce, self.terminal_id)
            headers[SIGNATURE_HEADER] = SignatureHeader(ts, nonce, self.sign_digest(digest)).encode()
        try:
            response = self.session.request(method, self.base_url + path, data=data or None, headers=headers,
                                            timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
        except requests.RequestException as exc:  # refused, reset, timed out, truncated: all worth another try
            # Forget pooled connections: after a reset or a cut-off answer, the next call must not reuse them.
            for adapter in self.session.adapters.values():
                adapter.close()
            raise SyncError(f"HQ unreachable: {type(exc).__name__}") from None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code in ok_statuses and isinstance(payload, dict):
            return response.status_code, payload
        error = (payload or {}).get("error", {}) if isinstance(payload, dict) else {}
        message = f"HQ answered {response.status_code}: {error.get('message') or response.reason}"
        if response.status_code == 429 or response.status_code >= 500 or not isinstance(payload, dict):
            raise SyncError(message, response.status_code, payload if isinstance(payload, dict) else None)
        raise Refused(message, response.status_code, payload)

    def enroll(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/api/v1/enroll", body)[1]

    def push(self, encoded_blocks: list[bytes]) -> dict[str, Any]:
        """Per-block results come with 200, 409 (a fork) and 422 (an invalid block) alike. The blocks go as they
        were encoded at the terminal (canonical JSON), spliced into the request body without re-encoding."""
        body = b'{"blocks":[' + b",".join(encoded_blocks) + b"]}"
        return self._call("POST", f"/api/v1/terminals/{self.terminal_id}/blocks", raw=body,
                          ok_statuses=(200, 409, 422))[1]

    def put_kyc_case(self, case_id: str, envelope: bytes) -> dict[str, Any]:
        """Upload a sealed KYC case (idempotent); HQ answers with its signed receipt."""
        return self._call("PUT", f"/api/v1/terminals/{self.terminal_id}/kyc/{case_id}", raw=envelope, signed=True,
                          content_type="application/octet-stream")[1]

    def evidence_status(self, sha256: str) -> dict[str, Any]:
        """How much of a camera segment HQ holds already (an upload resumes there)."""
        return self._call("GET", f"/api/v1/terminals/{self.terminal_id}/evidence/{sha256}", signed=True)[1]

    def put_evidence(self, sha256: str, offset: int, piece: bytes) -> dict[str, Any]:
        """A piece of a camera segment's sealed bytes at `offset`. Refused (409 wrong_offset, with HQ's `received`)
        when HQ holds another amount; Refused (422 segment_mismatch) when the whole does not hash to the ledger's."""
        return self._call("PUT", f"/api/v1/terminals/{self.terminal_id}/evidence/{sha256}?offset={offset}",
                          raw=piece, signed=True, content_type="application/octet-stream")[1]

    def put_evidence_key(self, sha256: str, envelope: bytes) -> dict[str, Any]:
        """The segment's key sealed to HQ's KYC key; HQ answers with its signed receipt."""
        return self._call("PUT", f"/api/v1/terminals/{self.terminal_id}/evidence/{sha256}/key", raw=envelope,
                          signed=True, content_type="application/octet-stream")[1]

    def evidence_missing(self, sha256: str) -> dict[str, Any]:
        return self._call("POST", f"/api/v1/terminals/{self.terminal_id}/evidence/{sha256}/missing", signed=True)[1]

    def head(self) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/terminals/{self.terminal_id}/head", signed=True)[1]

    def updates(self, cursor: int, claims_after: int = 0, kyc_after: int = 0) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/terminals/{self.terminal_id}/updates?cursor={cursor}"
                                 f"&claims_after={claims_after}&kyc_after={kyc_after}", signed=True)[1]

