"""Helpers for the console tests: staff users made with `hotpot-hq create-user`, a plain HTTP client that signs in
like a browser (the session cookie is Secure, so it is sent by hand over the test's http://127.0.0.1), and
Debian's chromium at 1366x768."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright import sync_api as playwright

from tests.hqkit import HQServer
from tests.hqkit import hq as hq_cli

CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1366, "height": 768}
PASSWORD = "a long enough password 42"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(hq: HQServer, username: str, role: str, franchise: str | None = None) -> str:
    args = ["create-user", "--username", username, "--role", role] + (["--franchise", franchise] if franchise else [])
    hq_cli(hq.database_url, *args, env={"HOTPOT_HQ_PASSWORD": PASSWORD, "HOTPOT_HQ_KEY_DIR": str(hq.key_dir)})
    return username


class Client:
    """Signs in through /console/login and keeps the session cookie (sent by hand: it is Secure)."""

    def __init__(self, hq: HQServer, username: str, password: str = PASSWORD) -> None:
        self.url, self.http = hq.url, requests.Session()
        form = self.http.get(f"{self.url}/console/login", timeout=10)
        csrf = _CSRF.search(form.text)
        assert csrf and form.cookies.get("hq_login"), form.text
        answer = self.http.post(f"{self.url}/console/login", data={
            "csrf_token": csrf.group(1), "username": username, "password": password},
            headers={"Cookie": f"hq_login={form.cookies['hq_login']}"}, allow_redirects=False, timeout=30)
        self.signed_in = answer.status_code == 303
        self.cookie = answer.cookies.get("hq_console", "")
        self.login_answer = answer

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.http.get(self.url + path, headers={"Cookie": f"hq_console={self.cookie}"},
                             allow_redirects=False, timeout=30, **kw)

    def csrf(self, path: str = "/console/") -> str:
        found = _CSRF.search(self.get(path).text)
        assert found, "no CSRF field on the page"
        return found.group(1)

    def post(self, path: str, data: dict[str, str], csrf: bool = True) -> requests.Response:
        fields = {**data, **({"csrf_token": self.csrf()} if csrf else {})}
        return self.http.post(self.url + path, data=fields, headers={"Cookie": f"hq_console={self.cookie}"},
                              allow_redirects=False, timeout=30)


@contextmanager
def browser(locale: str = "en-US") -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (scripts/test-deps.sh installs it)")
    p = playwright.sync_playwright().start()
    chrome = p.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"])
    errors: list[str] = []
    try:
        context = chrome.new_context(viewport=DESKTOP, locale=locale)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # Script errors and CSP refusals count; a 4xx page the test asks for (a wrong password) is no error.
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and
                not msg.text.startswith("Failed to load resource") else None)
        yield page
    finally:
        chrome.close()
        p.stop()
    assert errors == [], errors


def shot(page: Any, name: str) -> None:
    folder = Path(os.environ.get("HOTPOT_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"console-{name}.png"), full_page=True)
