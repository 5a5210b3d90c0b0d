"""What a customer's phone calls (docs/protocol.md section 11): claim a check's share into an account, and read an
account's balance and entries. Every account action is signed by the account's own key, with a nonce and a time."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter

from sync.hq import kyc, tokens
from sync.hq.api.deps import JsonBody, Keys, Pool
from sync.hq.api.errors import ApiError
from sync.protocol import accounts

router = APIRouter(tags=["customers"])
_CHECK_ID = re.compile(r"^[0-9A-Z]{4,32}-[0-9]{1,12}$")
_ACCOUNT_ID = re.compile(r"^HC[0-9A-Z]{32}$")
CLAIM_FIELDS = {"check_id", "account", "nonce", "ts", "signature"}


def _signed(body: Any, fields: set[str], optional: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    """A signed account request, checked before anything is looked up: its fields, the account's key, the
    signature, the nonce's form and the time (within 5 minutes of HQ's clock)."""
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_request", "The body is a JSON object.")
    missing = sorted(fields - set(body))
    unknown = sorted(set(body) - fields - optional)
    if missing or unknown:
        raise ApiError(422, "invalid_request", f"Missing field {missing[0]!r}." if missing
                       else f"Unknown field {unknown[0]!r}.")
    if not isinstance(body["account"], str) or not isinstance(body["signature"], str):
        raise ApiError(422, "invalid_request", "account and signature are base64url text.")
    try:
        accounts.public_key(body["account"])
    except ValueError:
        raise ApiError(422, "invalid_request", "account is the base64url of a 65-byte uncompressed P-256 "
                                               "public key.") from None
    if not isinstance(body["ts"], int) or isinstance(body["ts"], bool):
        raise ApiError(422, "invalid_request", "ts is the request's time in milliseconds.")
    if not accounts.nonce_ok(body["nonce"]):
        raise ApiError(422, "invalid_request", "nonce is 16 to 64 random bytes in base64url.")
    if not accounts.verify(body["account"], body):
        raise ApiError(401, "bad_signature", "The signature does not match this account's key and request.")
    if abs(body["ts"] - tokens.now_ms()) > accounts.CLOCK_SKEW_MS:
        raise ApiError(401, "stale", "The request's time is more than 5 minutes from HQ's clock: check the "
                                     "phone's clock, then try again.")
    return body


@router.post("/api/v1/claims")
async def claim(body: JsonBody, pool: Pool, keys: Keys) -> dict[str, Any]:
    if isinstance(body, dict):  # the request's shape first, then whose it is
        if ("token" in body) == ("short_code" in body):
            raise ApiError(422, "invalid_request", "Send the claim link's token or the check's short code (one).")
        secret = body.get("token", body.get("short_code"))
        if not isinstance(body.get("check_id"), str) or not _CHECK_ID.fullmatch(body["check_id"]) or \
                not isinstance(secret, str) or len(secret) > 64:
            raise ApiError(422, "invalid_request", "check_id is the check's id as printed (TERMINAL-NUMBER); the "
                                                   "token or short code is text.")
    doc = _signed(body, CLAIM_FIELDS, {"token", "short_code"})
    request = tokens.ClaimRequest(doc["check_id"], doc["account"], doc["nonce"], doc["ts"],
                                  token=doc.get("token"), short_code=doc.get("short_code"))
    async with pool.connection() as conn, conn.transaction():
        outcome = await tokens.claim(conn, keys, request)  # a refusal commits too: a wrong code counts
    if isinstance(outcome, tokens.Refusal):
        raise ApiError(outcome.status, outcome.code, outcome.message, outcome.extra)
    return outcome


@router.get("/api/v1/accounts/{account_id}")
async def account(account_id: str, pool: Pool) -> dict[str, Any]:
    if not _ACCOUNT_ID.fullmatch(account_id):
        raise ApiError(422, "invalid_request", "An account id is HC and 32 letters and digits.")
    async with pool.connection() as conn:
        return {**await tokens.account_view(conn, account_id), "kyc": await kyc.account_kyc(conn, account_id)}


TRANSFER_FIELDS = {"to", "amount", "account", "nonce", "ts", "signature"}


@router.post("/api/v1/transfers")
async def transfer(body: JsonBody, pool: Pool, keys: Keys) -> dict[str, Any]:
    """Moving ST out of an account needs the holder's KYC case approved at HQ within a year, for someone 18 or
    older (DOMAIN.md), after the request itself was checked like any other (shape, signature, time, nonce). The
    receiver must be an account that exists, below its cap."""
    if isinstance(body, dict):
        if not isinstance(body.get("to"), str) or not _ACCOUNT_ID.fullmatch(body["to"]):
            raise ApiError(422, "invalid_request", "to is the receiving account's id (HC and 32 characters).")
        amount = body.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= 2**53 - 1:
            raise ApiError(422, "invalid_request", "amount is a whole number of ST units above zero.")
    doc = _signed(body, TRANSFER_FIELDS)
    account_id = accounts.account_id(doc["account"])
    async with pool.connection() as conn:
        async with conn.transaction():
            if not await tokens.use_nonce(conn, account_id, doc["nonce"]):
                raise ApiError(409, "replayed", "This request was already sent once; a new one needs a new nonce.")
        # DOMAIN.md: moving ST out needs an approved KYC case (not older than a year) of someone 18 or older.
        # (An approval lapses at 365 days: the retention job marks it expired, and this reads only approved ones.)
        state = await kyc.account_kyc(conn, account_id)
        if state["state"] != "verified":
            raise ApiError(403, "kyc_required", "Sending tokens needs a verified identity: ask at any HotPot Spot "
                                                "counter for the KYC check (bring your ID card or passport).")
        if not state["transfers"]:
            raise ApiError(403, "kyc_required", "Sending tokens is for customers 18 or older.")
        async with conn.transaction():
            outcome = await tokens.transfer(conn, keys, account_id, doc["to"], doc["amount"])
    if isinstance(outcome, tokens.Refusal):
        raise ApiError(outcome.status, outcome.code, outcome.message, outcome.extra)
    return outcome
