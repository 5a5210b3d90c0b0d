from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from terminal.core.users import User
from terminal.services import Terminal
from terminal.setup import create_terminal
from terminal.store import repos
from tests.conftest import TEST_PASSPHRASE


@pytest.fixture
def term(data_dir: Path) -> Iterator[Terminal]:
    """A fresh demo terminal (demo menu, demo staff) in this test's own data folder."""
    terminal, _ = create_terminal(data_dir, franchise="Vake", terminal_name="Counter 1", demo=True,
                                  passphrase=TEST_PASSPHRASE)
    yield terminal
    terminal.close()


def staff(term: Terminal, name: str) -> User:
    user = repos.get_user(term.store, name)
    assert user is not None
    return user


@pytest.fixture
def cashier(term: Terminal) -> User:
    return staff(term, "Giorgi")


@pytest.fixture
def manager(term: Terminal) -> User:
    return staff(term, "Nino")
