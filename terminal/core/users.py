"""Terminal users, roles and PIN login: PINs are kept only as slow salted hashes; 3 wrong PINs lock for 5 minutes."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field, replace
from enum import StrEnum

from terminal.core.errors import InvalidInput, NotAllowed, UserLocked

MAX_PIN_ATTEMPTS = 3
LOCKOUT_MS = 5 * 60 * 1000
_PIN_RE = re.compile(r"^[0-9]{4,8}$")
_NAME_RE = re.compile(r"^[\w .'-]{1,40}$")
# scrypt cost: about 60 ms per PIN check on this class of machine; a PIN is short, so the hash must be slow.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


class Role(StrEnum):
    CASHIER = "cashier"
    MANAGER = "manager"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return {"cashier": 1, "manager": 2, "owner": 3}[self.value]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


def parse_role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise InvalidInput("Unknown role {text!r}; expected cashier, manager or owner.", text=text) from None


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    pin_hash: str
    failed_attempts: int = 0
    locked_until_ms: int = 0
    active: bool = True


def validate_user_name(name: str) -> str:
    cleaned = name.strip()
    if not _NAME_RE.fullmatch(cleaned):
        raise InvalidInput("A user name must be 1-40 letters, digits, spaces, dots, dashes or apostrophes.")
    return cleaned


def validate_pin(pin: str) -> str:
    if not isinstance(pin, str) or not _PIN_RE.fullmatch(pin):
        raise InvalidInput("A PIN must be 4 to 8 digits.")
    return pin


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    validate_pin(pin)
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    try:
        alg, n, r, p, salt_hex, digest_hex = stored.split("$")
        if alg != "scrypt":
            return False
        digest = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p), dklen=32)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(digest, bytes.fromhex(digest_hex))


# Why a PIN was refused, as error templates (the counter app shows them translated).
LOGIN_MESSAGES = ("Wrong PIN. {name} is now locked for {minutes} minutes.",
                  "Wrong PIN. {left} attempts left before {name} is locked.",
                  "Wrong PIN. 1 attempt left before {name} is locked.")


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    user: User  # the user's state after this attempt, to be stored
    template: str = ""  # why not, as an error template with its parameters (the GUI translates it)
    params: dict[str, object] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.template.format(**self.params)


def reserve_attempt(user: User, now_ms: int) -> User:
    """Count a PIN attempt before the PIN is checked (the caller stores it under the write lock), so that processes
    guessing at once get MAX_PIN_ATTEMPTS tries between them, not each. Refuses a disabled or locked user, and one
    whose attempts are all taken by checks still under way."""
    if not user.active:
        raise NotAllowed("User {name} is disabled.", name=user.name)
    if user.locked_until_ms > now_ms or user.failed_attempts >= MAX_PIN_ATTEMPTS:
        # Locked, or every try taken by checks still under way (which will lock it if they are wrong).
        until = user.locked_until_ms if user.locked_until_ms > now_ms else now_ms + LOCKOUT_MS
        wait_s = -(-(until - now_ms) // 1000)
        raise UserLocked("{name} is locked after {attempts} wrong PINs; try again in {minutes} min {seconds} s.",
                         until, name=user.name, attempts=MAX_PIN_ATTEMPTS, minutes=wait_s // 60,
                         seconds=wait_s % 60)
    return replace(user, failed_attempts=user.failed_attempts + 1)


def settle_attempt(current: User, matched: bool, now_ms: int) -> LoginResult:
    """The outcome of a reserved attempt, from the user's state as stored now (its attempts already counted)."""
    if matched:
        return LoginResult(True, replace(current, failed_attempts=0, locked_until_ms=0))
    if current.failed_attempts >= MAX_PIN_ATTEMPTS:
        locked = replace(current, failed_attempts=0, locked_until_ms=now_ms + LOCKOUT_MS)
        return LoginResult(False, locked, LOGIN_MESSAGES[0], {"name": current.name, "minutes": LOCKOUT_MS // 60_000})
    left = MAX_PIN_ATTEMPTS - current.failed_attempts
    return LoginResult(False, current, LOGIN_MESSAGES[1] if left > 1 else LOGIN_MESSAGES[2],
                       {"left": left, "name": current.name})


def attempt_login(user: User, pin: str, now_ms: int) -> LoginResult:
    """One attempt in one step (reserve, check, settle): raises UserLocked while the user is locked."""
    reserved = reserve_attempt(user, now_ms)
    return settle_attempt(reserved, pin_matches(pin, user.pin_hash), now_ms)


def require_role(user: User, role: Role, action: str) -> None:
    if not user.role.at_least(role):
        raise NotAllowed("Only a {role} or above may {action}; {name} is a {their_role}.",
                         role=role.value, action=action, name=user.name, their_role=user.role.value)
