"""PINs are slow salted hashes; three wrong PINs lock a user for five minutes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from terminal.core.errors import InvalidInput, NotAllowed, UserLocked
from terminal.core.users import LOCKOUT_MS, Role, User, attempt_login, hash_pin, pin_matches, require_role


@pytest.fixture(scope="module")
def user() -> User:
    return User(7, "Giorgi", Role.CASHIER, hash_pin("4821"))


def test_pin_hash_is_salted_and_verifies(user: User) -> None:
    other = hash_pin("4821")
    assert other != user.pin_hash  # a fresh salt each time
    alg, n, r, p, salt, digest = user.pin_hash.split("$")
    assert (alg, n, r, p, len(bytes.fromhex(salt)), len(bytes.fromhex(digest))) == ("scrypt", "16384", "8", "1", 16, 32)
    assert hashlib.scrypt(b"4821", salt=bytes.fromhex(salt), n=16384, r=8, p=1, dklen=32).hex() == digest
    assert pin_matches("4821", user.pin_hash) and not pin_matches("4822", user.pin_hash)
    assert not pin_matches("4821", "garbage")


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "", "1234\n", "١٢٣٤"])
def test_bad_pins_refused(pin: str) -> None:
    with pytest.raises(InvalidInput):
        hash_pin(pin)


def test_three_wrong_pins_lock_for_five_minutes(user: User) -> None:
    t = 1_000_000
    r1 = attempt_login(user, "0000", t)
    assert not r1.ok and "2 attempts left" in r1.message
    r2 = attempt_login(r1.user, "0000", t + 1)
    assert not r2.ok and "1 attempt left" in r2.message
    r3 = attempt_login(r2.user, "0000", t + 2)
    assert not r3.ok and r3.user.locked_until_ms == t + 2 + LOCKOUT_MS and "locked for 5 minutes" in r3.message
    with pytest.raises(UserLocked, match=r"try again in 4 min 59 s") as exc:
        attempt_login(r3.user, "4821", t + 1002)  # even the right PIN is refused while locked
    assert exc.value.locked_until_ms == t + 2 + LOCKOUT_MS
    ok = attempt_login(r3.user, "4821", t + 2 + LOCKOUT_MS)
    assert ok.ok and ok.user.failed_attempts == 0 and ok.user.locked_until_ms == 0


def test_success_resets_the_counter(user: User) -> None:
    r1 = attempt_login(user, "0000", 0)
    r2 = attempt_login(r1.user, "4821", 1)
    assert r2.ok and r2.user.failed_attempts == 0


def test_roles() -> None:
    cashier = User(1, "C", Role.CASHIER, "x")
    with pytest.raises(NotAllowed, match="Only a manager"):
        require_role(cashier, Role.MANAGER, "refund a sale")
    require_role(User(2, "O", Role.OWNER, "x"), Role.MANAGER, "refund a sale")


def test_parallel_guessers_share_three_tries(tmp_path: Path) -> None:
    """Eight processes guess Giorgi's PIN at the same moment: three of them get their guess checked, the others are
    told the user is locked (before, each process had three tries of its own)."""
    import subprocess
    import sys

    from terminal.setup import create_terminal
    from tests.conftest import TEST_PASSPHRASE

    data = tmp_path / "t"
    create_terminal(data, franchise="V", terminal_name="C", demo=True, passphrase=TEST_PASSPHRASE)[0].close()
    root = Path(__file__).resolve().parents[2]
    guessers = [subprocess.Popen([sys.executable, "-m", "terminal", "--data-dir", str(data), "--user", "Giorgi",
                                  "--pin", f"{n:04d}", "shift", "report"], cwd=root, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for n in range(8)]
    errors = [g.communicate(timeout=120)[1] for g in guessers]
    checked = [e for e in errors if "Wrong PIN" in e]
    locked = [e for e in errors if "is locked after 3 wrong PINs" in e]
    assert len(checked) == 3 and len(locked) == 5, errors
