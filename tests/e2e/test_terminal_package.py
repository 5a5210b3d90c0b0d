"""The hotpot-terminal Debian package, for real: the PyInstaller bundle and the .deb built by
packaging/deb/build-terminal.sh (lintian with no error), installed with apt, then the installed command's
`--version`, the headless demo (a terminal set up, shifts and sales made, the chain verified: the bundled
multiprocessing verifier runs), and the counter app on an Xvfb screen, whose window is looked for by name and
photographed; then purged, leaving nothing of the package behind. Needs root (CI runs as root)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = {"HOTPOT_PASSPHRASE": "a passphrase for the demo", "HOTPOT_KEYSTORE_SCRYPT_N": "4096"}

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="installing a Debian package needs root (CI runs as root)")


def _run(*args: str, timeout: float = 900, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "QT_QPA_PLATFORM")}
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, cwd="/",
                          env={**clean, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin", **(env or {})})


@pytest.fixture(scope="module")
def installed() -> Iterator[Path]:
    began = time.monotonic()
    built = subprocess.run(["bash", "packaging/deb/build-terminal.sh"], capture_output=True, text=True,
                           timeout=1200, cwd=ROOT)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "lintian found no error" in built.stdout, built.stdout + built.stderr
    [deb] = sorted((ROOT / "dist").glob("hotpot-terminal_*_amd64.deb"))
    print(f"\n[package] built {deb.name} ({deb.stat().st_size / 1e6:.0f} MB) in {time.monotonic() - began:.0f} s")
    _run("dpkg", "-P", "hotpot-terminal")
    began = time.monotonic()
    done = _run("apt-get", "install", "-y", "-qq", "--no-install-recommends", str(deb),
                env={"DEBIAN_FRONTEND": "noninteractive"})
    assert done.returncode == 0, done.stdout + done.stderr
    print(f"[package] apt-get install of {deb.name} took {time.monotonic() - began:.1f} s")
    try:
        yield deb
    finally:
        _run("dpkg", "-P", "hotpot-terminal")


def test_the_installed_terminal_runs_headless_and_on_a_screen_and_purges_cleanly(installed: Path,
                                                                                 tmp_path: Path) -> None:
    assert Path("/usr/bin/hotpot-terminal").resolve() == Path("/opt/hotpot-terminal/hotpot-terminal")
    assert Path("/usr/share/applications/hotpot-terminal.desktop").is_file()
    assert Path("/usr/share/icons/hicolor/scalable/apps/hotpot-terminal.svg").is_file()
    assert Path("/usr/lib/systemd/user/hotpot-terminal-kiosk.service").is_file()
    desktop = _run("desktop-file-validate", "/usr/share/applications/hotpot-terminal.desktop") \
        if shutil.which("desktop-file-validate") else None
    assert desktop is None or desktop.returncode == 0, desktop.stdout if desktop else ""

    version = _run("hotpot-terminal", "--version")
    assert version.returncode == 0 and version.stdout.strip().startswith("hotpot-terminal 0."), version

    data = tmp_path / "till"
    demo = _run("hotpot-terminal", "--data-dir", str(data), "demo", env=ENV, timeout=300)
    assert demo.returncode == 0 and "Sold check" in demo.stdout, demo.stdout + demo.stderr
    verified = _run("hotpot-terminal", "--data-dir", str(data), "verify", env=ENV)
    assert verified.returncode == 0 and "Chain OK" in verified.stdout, verified.stdout + verified.stderr

    # The counter app on a real (virtual) X screen: its window appears with its title, and is photographed.
    display = ":93"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "QT_QPA_PLATFORM")}
        app = subprocess.Popen(["hotpot-terminal", "--data-dir", str(data), "gui"], cwd="/",
                               env={**clean, "PATH": "/usr/bin:/bin", "DISPLAY": display, **ENV},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 60
            windows = ""
            while "HotPot Spot" not in windows:
                assert app.poll() is None, app.stdout.read() if app.stdout else ""
                assert time.monotonic() < deadline, f"no window appeared: {windows}"
                time.sleep(0.5)
                windows = _run("xwininfo", "-root", "-tree", env={"DISPLAY": display}).stdout
            time.sleep(2)  # painted
            from PIL import ImageGrab

            shot = ImageGrab.grab(xdisplay=display)
            shot.save(tmp_path / "installed-terminal.png")
            colours = shot.convert("RGB").getcolors(1 << 20) or []
            assert len(colours) > 20, "the screen is blank"  # a drawn login screen, not an empty display
        finally:
            app.terminate()
            app.wait(timeout=30)
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=30)

    purged = _run("dpkg", "-P", "hotpot-terminal")
    assert purged.returncode == 0, purged.stdout + purged.stderr
    for gone in ("/opt/hotpot-terminal", "/usr/bin/hotpot-terminal", "/usr/share/applications/hotpot-terminal.desktop",
                 "/usr/lib/systemd/user/hotpot-terminal-kiosk.service"):
        assert not os.path.lexists(gone), gone
    assert (data / "terminal.db").is_file()  # a till's data is never the package's to remove
