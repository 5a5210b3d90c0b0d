"""HQ settings in one place: environment variables, overridable from the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def default_key_dir() -> Path:
    """HQ's keys live in the service user's data folder, never in whatever folder HQ happened to start in."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hotpot-hq" / "keys"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise SystemExit(f"hotpot-hq: {name} must be a whole number, not {value!r}") from None


@dataclass
class Settings:
    database_url: str = field(default_factory=lambda: os.environ.get("HOTPOT_DATABASE_URL", ""))
    key_dir: Path = field(default_factory=lambda: Path(os.environ.get("HOTPOT_HQ_KEY_DIR") or default_key_dir()))
    jwt_secret: str = field(default_factory=lambda: os.environ.get("HOTPOT_HQ_JWT_SECRET", ""))
    jwt_ttl_s: int = field(default_factory=lambda: _env_int("HOTPOT_HQ_JWT_TTL_S", 900))
    max_body_bytes: int = field(default_factory=lambda: _env_int("HOTPOT_HQ_MAX_BODY", 32 * 2**20))
    # Every N-th response of a worker closes its connection, so kept-alive clients spread over the workers again
    # after one restarts (0: never).
    recycle_connections_every: int = field(default_factory=lambda: _env_int("HOTPOT_HQ_RECYCLE_EVERY", 200))
    public_rate_per_minute: int = field(default_factory=lambda: _env_int("HOTPOT_HQ_PUBLIC_RATE", 30))
    # Claims and transfers from one address a minute (a phone claims a check or two; a shop's Wi-Fi shares one).
    claim_rate_per_minute: int = field(default_factory=lambda: _env_int("HOTPOT_HQ_CLAIM_RATE", 120))
    # How often new mints enter the token ledger (seconds; a claim enters its own mint at once).
    mint_job_interval_s: float = field(default_factory=lambda: float(_env_int("HOTPOT_HQ_MINT_JOB_S", 10)))
    pool_min: int = 2
    pool_max: int = field(default_factory=lambda: _env_int("HOTPOT_HQ_POOL_MAX", 10))
    # Addresses of the reverse proxies whose X-Forwarded-For HQ believes (comma-separated); none by default, so a
    # client cannot dodge the rate limits by sending the header itself.
    trusted_proxies: str = field(default_factory=lambda: os.environ.get("HOTPOT_HQ_TRUSTED_PROXIES", ""))
    # Where customers reach HQ (its claim page is {public_url}/c); default: the address a terminal enrolled through.
    public_url: str = field(default_factory=lambda: os.environ.get("HOTPOT_HQ_PUBLIC_URL", "").rstrip("/"))
    # Where KYC envelopes are kept, each named by its SHA-256 (sealed to HQ's KYC key; never opened here).
    kyc_dir: Path = field(default_factory=lambda: Path(os.environ.get("HOTPOT_HQ_KYC_DIR") or default_key_dir().parent
                                                        / "kyc"))
    # Footage uploaded as evidence is deleted this many days after it arrived, unless a request holding it is on hold.
    footage_days: int = field(default_factory=lambda: _env_int("HOTPOT_HQ_FOOTAGE_DAYS", 90))
    enroll_code_ttl_s: int = field(default_factory=lambda: _env_int("HOTPOT_HQ_ENROLL_CODE_TTL_S", 24 * 3600))

    def require_database(self) -> str:
        if not self.database_url:
            raise SystemExit("hotpot-hq: set HOTPOT_DATABASE_URL or pass --database-url")
        return self.database_url
