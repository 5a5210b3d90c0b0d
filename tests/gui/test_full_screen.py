"""The counter app opens full-screen at the screen's real size, and in a window with --windowed: the real program
on a real X server (Xvfb) at 1024x768, the smallest screen a till has."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from terminal.setup import create_terminal
from tests.conftest import TEST_PASSPHRASE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed: run scripts/test-deps.sh (make test does)")
    number = 90 + os.getpid() % 100
    server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        socket = Path(f"/tmp/.X11-unix/X{number}")
        deadline = time.monotonic() + 10
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert socket.exists(), "Xvfb did not start"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def start(display: str, data: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(DISPLAY=display, HOTPOT_GUI_EXIT_AFTER_START="1", HOTPOT_PASSPHRASE=TEST_PASSPHRASE)
    proc = subprocess.run([sys.executable, "-m", "terminal", "--data-dir", str(data), "gui", *args], env=env,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return next(line for line in proc.stdout.splitlines() if line.startswith("gui-ready"))


def test_full_screen_by_default_windowed_on_request(display: str, tmp_path: Path) -> None:
    data = tmp_path / "term"
    term, _ = create_terminal(data, franchise="Vake", terminal_name="Counter 1", demo=True,
                              passphrase=TEST_PASSPHRASE)
    term.close()
    assert start(display, data) == "gui-ready 1024x768 full-screen"
    assert start(display, data, "--windowed") == "gui-ready 1024x768 windowed"  # 1280x800 does not fit: the screen
