"""Rotating HQ's session secret as docs/operations.md says (stop HQ, move `jwt.secret` aside, start it again): every
staff token and console session issued before is refused, signing in again works, and the receipt and KYC keys
(which terminals pinned) are untouched."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.hqkit import running_hq
from tests.web.consolekit import PASSWORD, Client, make_user


def _token(url: str, username: str) -> str:
    answer = requests.post(f"{url}/api/v1/staff/login", json={"username": username, "password": PASSWORD}, timeout=10)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def test_rotating_the_session_secret_ends_every_session_and_keeps_the_terminal_keys(hq_db: str,
                                                                                    tmp_path: Path) -> None:
    env = {"HOTPOT_HQ_PUBLIC_RATE": "1000"}
    with running_hq(hq_db, tmp_path / "hq", extra_env=env) as hq:
        make_user(hq, "rota.admin", "hq_admin")
        token = _token(hq.url, "rota.admin")
        console = Client(hq, "rota.admin")
        assert console.signed_in
        staff = {"Authorization": f"Bearer {token}"}
        assert requests.get(f"{hq.url}/api/v1/staff/terminals", headers=staff, timeout=10).status_code == 200
        key_dir = hq.key_dir
        pinned = {name: (key_dir / name).read_bytes() for name in ("receipt-ed25519.pem", "kyc-x25519.pem")}
        port = int(hq.url.rsplit(":", 1)[1])
    (key_dir / "jwt.secret").rename(key_dir / "jwt.secret.old")  # the rotation: HQ is stopped
    with running_hq(hq_db, tmp_path / "hq", extra_env=env, port=port) as hq:
        assert (key_dir / "jwt.secret").read_bytes() != (key_dir / "jwt.secret.old").read_bytes()
        old = requests.get(f"{hq.url}/api/v1/staff/terminals", headers=staff, timeout=10)
        assert old.status_code == 401
        page = console.get("/console/")  # (the client does not follow redirects)
        assert page.status_code in (302, 303) and "/console/login" in page.headers["Location"], page.status_code
        fresh = {"Authorization": f"Bearer {_token(hq.url, 'rota.admin')}"}
        assert requests.get(f"{hq.url}/api/v1/staff/terminals", headers=fresh, timeout=10).status_code == 200
        assert {name: (key_dir / name).read_bytes() for name in pinned} == pinned
