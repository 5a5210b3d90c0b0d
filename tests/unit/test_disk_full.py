"""A full disk, on a real (small) tmpfs: the cashier is told the disk is full and that nothing was lost; every sale
that was confirmed is there once space is freed; the database is not called damaged."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from terminal.core.errors import UserFacingError
from terminal.core.orders import Tender
from terminal.services import Terminal
from terminal.setup import create_terminal
from tests.conftest import TEST_PASSPHRASE


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"this machine cannot mount a tmpfs here (not root?): {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    """Take all but a few pages of the disk."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass  # the disk is full
    finally:
        os.close(fd)
    return filler


def test_selling_onto_a_full_disk_says_so_and_loses_nothing(small_disk: Path) -> None:
    data = small_disk / "terminal"
    term, _ = create_terminal(data, franchise="V", terminal_name="C", demo=True, passphrase=TEST_PASSPHRASE)
    cashier = term.login("Giorgi", "3333")
    term.open_shift(cashier, 10_000)
    filler = _fill(small_disk)
    sold: list[str] = []
    refusal: UserFacingError | None = None
    for _ in range(2000):
        try:
            sold.append(term.sell(cashier, [("udon", 1)], [Tender("cash")]).sale.id)
        except UserFacingError as exc:
            refusal = exc
            break
    assert refusal is not None, "the disk never filled"
    assert "disk" in refusal.message and "is full" in refusal.message and "nothing saved before was lost" in \
        refusal.message and "damaged" not in refusal.message
    term.close()
    os.unlink(filler)  # space freed: the terminal opens, every confirmed sale is there, the file is sound
    term = Terminal.open(data)
    try:
        ids = {s["id"] for s in term.recent_sales(10_000)}
        assert set(sold) <= ids and len(ids) == len(sold)
        assert term.store.integrity_ok()
        term.sell(cashier, [("udon", 1)], [Tender("cash")])
    finally:
        term.close()


def test_opening_on_a_full_disk_is_not_called_damage(small_disk: Path) -> None:
    from terminal.store.db import open_store

    data = small_disk / "terminal"
    term, _ = create_terminal(data, franchise="V", terminal_name="C", demo=True, passphrase=TEST_PASSPHRASE)
    term.close()
    filler = _fill(small_disk)
    try:
        store = open_store(data)  # reading works on a full disk; opening must not claim damage either way
        store.close()
    except UserFacingError as exc:
        assert "damaged" not in exc.message and "is full" in exc.message
    finally:
        os.unlink(filler)
