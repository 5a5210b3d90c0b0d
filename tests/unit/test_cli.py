"""The CLI contract of ARCHITECTURE.md, in process, against a real data folder."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from terminal.cli import main
from terminal.store.db import DB_FILENAME


class Cli:
    def __init__(self, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.data_dir = data_dir
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = main(["--data-dir", str(self.data_dir), *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> object:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        lines = out.strip().splitlines()
        assert len(lines) == 1, out  # exactly one JSON value
        return json.loads(lines[0])

    def db_dump(self) -> list[str]:
        conn = sqlite3.connect(self.data_dir / DB_FILENAME)
        try:
            return list(conn.iterdump())
        finally:
            conn.close()


@pytest.fixture
def cli(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(data_dir, capsys)


@pytest.fixture
def ready(cli: Cli) -> Cli:
    assert cli("init", "--franchise", "Vake", "--terminal", "Counter 1", "--demo-menu")[0] == 0
    assert cli("shift", "open", "--float", "20000")[0] == 0
    return cli


def test_init_menu_sell_status(cli: Cli) -> None:
    init = cli.json("init", "--franchise", "Saburtalo", "--terminal", "C2", "--node-type", "own", "--demo-menu")
    assert isinstance(init, dict) and len(init["terminal_id"]) == 8 and init["users"]["Giorgi"] == "3333"
    menu = cli.json("menu")
    assert isinstance(menu, list) and len(menu) >= 15
    udon = next(i for i in menu if i["id"] == "udon")
    assert {"id", "name", "price", "available"} <= set(udon) and udon["price"] == 700 and udon["available"] == 500
    assert cli.json("menu", "--lang", "ka")[0]["name"] != menu[0]["name"]  # type: ignore[index]
    assert cli.json("shift", "open", "--float", "20000")["shift_id"]  # type: ignore[index]
    sale = cli.json("sell", "udon:2", "tofu", "--pay", "cash:5000")
    assert isinstance(sale, dict)
    assert (sale["total"], sale["change"]) == (2200, 2800)
    assert set(sale["check"]) >= {"id", "short_code", "claim_url"} and sale["sale_id"]
    assert sale["tokens"]["parts"] == {"owner": 1056, "charity": 66, "customer": 1078}  # own node
    status = cli.json("status")
    assert isinstance(status, dict)
    for key in ("terminal_id", "shift", "sales", "records", "unsealed_records", "head", "pending_blocks", "last_ack",
                "last_error", "quarantined"):
        assert key in status
    assert status["sales"] == 1 and status["shift"]["float"] == 20000 and status["head"] is None
    assert status["records"] == status["unsealed_records"] > 2


def test_split_tender_refund_and_close_by_cli(ready: Cli) -> None:
    sale = ready.json("sell", "broth-duo", "shrimp", "--pay", "card:AUTH-7:3000", "--pay", "cash:2000")
    assert isinstance(sale, dict) and sale["total"] == 5000 and sale["change"] == 0
    code, _, err = ready("--user", "Giorgi", "--pin", "3333", "refund", sale["sale_id"], "--reason", "cold")
    assert code == 2 and "Only a manager" in err
    refund = ready.json("--user", "Nino", "--pin", "2222", "refund", sale["check"]["id"], "--reason", "cold",
                        "--amount", "1000")
    assert refund["amount"] == 1000 and refund["method"] == "card"  # type: ignore[index]  # back to the card first
    x = ready.json("shift", "report")
    assert x["expected_cash"] == 20000 + 2000 and x["card_refunds"] == 1000  # type: ignore[index]
    # The rest of the card part and then the cash part, as paid: 2000 to the card, 1000 in cash.
    rest = ready.json("--user", "Nino", "--pin", "2222", "refund", sale["check"]["id"], "--reason", "cold",
                      "--amount", "3000")
    assert rest["method"] == "card+cash" and [r["amount"] for r in rest["refunds"]] == [2000, 1000]  # type: ignore
    # A manager may choose otherwise.
    sale2 = ready.json("sell", "udon", "--pay", "card:AUTH-8")
    chosen = ready.json("--user", "Nino", "--pin", "2222", "refund", sale2["sale_id"], "--reason", "no card",  # type: ignore[index]
                        "--method", "cash")
    assert chosen["method"] == "cash"  # type: ignore[index]
    x = ready.json("shift", "report")
    assert x["expected_cash"] == 20000 + 2000 - 1000 - 700 and x["cash_refunds"] == 1700  # type: ignore[index]
    z = ready.json("shift", "close", "--counted", "20200")
    assert z["variance"] == -100  # type: ignore[index]
    code, _, err = ready("shift", "close", "--counted", "0")
    assert code == 2 and err.strip() == "error: There is no open shift to close."


def test_manager_approves_a_big_discount(ready: Cli) -> None:
    sale = ready.json("--user", "Giorgi", "--pin", "3333", "sell", "udon:2", "--discount", "700", "--reason",
                      "birthday", "--approver", "Nino", "--approver-pin", "2222")
    assert sale["total"] == 700 and sale["discount"] == 700  # type: ignore[index]


def test_order_flow_by_cli(ready: Cli) -> None:
    sale = ready.json("sell", "udon")
    sale_id = sale["sale_id"]  # type: ignore[index]
    assert [o["id"] for o in ready.json("order", "list")] == [sale_id]  # type: ignore[union-attr]
    for expected in ("confirmed", "in_progress", "ready", "completed"):
        assert ready.json("order", "advance", sale_id)["status"] == expected  # type: ignore[index]
    assert ready.json("order", "list") == []


BAD = [
    (["sell", "pizza"], "no menu item 'pizza'"),
    (["sell", "udon:0"], "at least 1"),
    (["sell", "udon:-3"], "digits 0-9"),
    (["sell", "udon:\u0663"], "digits 0-9"),  # Arabic-Indic three
    (["sell", "udon:\uff11\uff12"], "digits 0-9"),  # full-width twelve
    (["sell", "udon:1_0"], "digits 0-9"),
    (["sell", "udon:+5"], "digits 0-9"),
    (["sell", "udon:"], "digits 0-9"),
    (["shift", "cash", "in", "500", "--reason", "change \u202efrom bank"], "text-direction"),
    (["shift", "cash", "in", "500", "--reason", "bell\x07"], "control"),
    (["sell", "udon:1000"], "more than 999"),
    (["sell", "udon:two"], "must be a whole number"),
    (["sell", "udon", "--pay", "cash:ten"], "whole number of tetri"),
    (["sell", "udon", "--pay", "cash:12.50"], "whole number of tetri"),
    (["sell", "udon:3", "--pay", "cash:1000"], "less than the total"),
    (["sell", "udon", "--pay", "bitcoin"], "must be cash"),
    (["--user", "Giorgi", "--pin", "3333", "sell", "udon:2", "--discount", "700", "--reason", "friend"],
     "needs a manager"),
    (["--user", "Giorgi", "--pin", "3333", "sell", "udon:2", "--discount", "700", "--reason", "friend",
      "--approver", "Giorgi", "--approver-pin", "3333"], "needs a manager"),
    (["--user", "Giorgi", "--pin", "1234", "sell", "udon"], "Wrong PIN"),
    (["--user", "Nobody", "--pin", "1234", "sell", "udon"], "no user 'Nobody'"),
    (["shift", "open", "--float", "100"], "already open"),
    (["shift", "cash", "out", "-5", "--reason", "x"], "whole number of tetri"),
    (["shift", "cash", "out", "9999999", "--reason", "x"], "more cash than the drawer"),
    (["refund", "nope", "--reason", "x"], "no sale 'nope'"),
    (["sell"], None),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_user_errors_exit_2_with_one_line_and_write_nothing(ready: Cli, args: list[str], message: str | None) -> None:
    before = ready.db_dump()
    with pytest.raises(SystemExit) if message is None else _no_raise():
        code, out, err = ready(*args)
        assert code == 2, (out, err)
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and message in err
        assert out == ""
    after = ready.db_dump()
    if "Wrong PIN" in (message or ""):  # the failed-attempt counter and its audit record are meant to be written
        assert any("login_failed" in line for line in after) and len(after) == len(before) + 1
        return
    assert after == before


class _no_raise:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


def test_usage_errors_exit_2(cli: Cli) -> None:
    with pytest.raises(SystemExit) as exc:
        cli("sell")
    assert exc.value.code == 2


def test_sale_without_open_shift(cli: Cli) -> None:
    cli("init", "--franchise", "Vake", "--terminal", "C", "--demo-menu")
    code, _, err = cli("sell", "udon")
    assert code == 2 and "Open a shift" in err
    assert cli.json("status")["sales"] == 0  # type: ignore[index]


def test_commands_before_init_and_double_init(cli: Cli) -> None:
    code, _, err = cli("status")
    assert code == 2 and "Run 'hotpot-terminal init'" in err
    assert cli("init", "--franchise", "Vake", "--terminal", "C")[0] == 0
    code, _, err = cli("init", "--franchise", "Other", "--terminal", "C")
    assert code == 2 and "already set up" in err
    assert cli.json("status")["franchise"] == "Vake"  # type: ignore[index]


def test_foreign_and_corrupt_database_files(cli: Cli, data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    db = data_dir / DB_FILENAME
    db.write_bytes(b"this is a spreadsheet, not a database" * 100)
    original = db.read_bytes()
    for args in (["status"], ["init", "--franchise", "F", "--terminal", "T"]):
        code, _, err = cli(*args)
        assert code == 2 and "not a HotPot Spot terminal database" in err
    assert db.read_bytes() == original
    db.unlink()
    other = sqlite3.connect(db)
    other.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    other.commit()
    other.close()
    before = db.read_bytes()
    code, _, err = cli("init", "--franchise", "F", "--terminal", "T")
    assert code == 2 and "some other program" in err
    assert db.read_bytes() == before


def test_damaged_database(cli: Cli, data_dir: Path) -> None:
    cli("init", "--franchise", "F", "--terminal", "T", "--demo-menu")
    db = data_dir / DB_FILENAME
    raw = bytearray(db.read_bytes())
    raw[100:4096] = b"\xff" * (4096 - 100)  # smash the schema page after the header
    db.write_bytes(bytes(raw))
    for f in data_dir.glob(DB_FILENAME + "-*"):
        f.unlink()
    code, _, err = cli("status")
    assert code == 2 and ("damaged" in err or "not a HotPot Spot" in err), err


def test_unwritable_data_dir(cli: Cli, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = Path("/sys")  # exists, and even root cannot create files there
    else:
        target = tmp_path / "ro"
        target.mkdir()
        target.chmod(0o500)
    code = main(["--data-dir", str(target), "init", "--franchise", "F", "--terminal", "T"])
    err = cli.capsys.readouterr().err
    assert code == 2 and "not writable" in err, err
    assert not (target / DB_FILENAME).exists()


def test_console_entry_point_runs(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "terminal", "--data-dir", str(tmp_path / "d"), "status", "--json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("error: No terminal is set up")


def test_cameras_by_cli_managers_only_and_bad_settings_refused(ready: Cli) -> None:
    door = '{"id": "door", "name": "Door", "kind": "security", "source": "usb:0"}'
    before = ready.db_dump()
    code, _, err = ready("camera", "set", door.replace('"usb:0"', '"usb:0", "colour": "red"'))
    assert code == 2 and "'colour'" in err and ready.db_dump() == before
    code, _, err = ready("camera", "set", "{not json")
    assert code == 2 and "not valid JSON" in err
    code, _, err = ready("--user", "Giorgi", "--pin", "3333", "camera", "set", door)
    assert code == 2 and "managers and owners only" in err and ready.db_dump() == before
    saved = ready.json("camera", "set", door)
    assert saved["id"] == "door" and saved["fps"] == 15  # type: ignore[index]
    assert [c["id"] for c in ready.json("camera", "list")] == ["door"]  # type: ignore[index, union-attr]
    code, _, err = ready("--user", "Giorgi", "--pin", "3333", "camera", "list")
    assert code == 2 and "Giorgi is a cashier" in err


def test_cancelling_a_card_order_refunds_the_card_not_the_drawer(ready: Cli) -> None:
    """The money bug: a 14.00 card order cancelled took 14.00 out of the expected cash (100.00 -> 86.00)."""
    before = ready.json("shift", "report")["expected_cash"]  # type: ignore[index]
    sale = ready.json("sell", "udon:2", "--pay", "card:AUTH-9")
    cancelled = ready.json("--user", "Nino", "--pin", "2222", "order", "cancel", sale["sale_id"],  # type: ignore[index]
                           "--reason", "customer left")
    assert cancelled["refunds"] == [{"amount": 1400, "method": "card"}]  # type: ignore[index]
    x = ready.json("shift", "report")
    assert x["expected_cash"] == before and x["card_refunds"] == 1400 and x["cash_refunds"] == 0  # type: ignore


def test_footage_upload_rate_is_a_managers_setting(ready: Cli) -> None:
    assert ready.json("settings")["evidence_rate_kib"] == 256  # type: ignore[index]
    code, _, err = ready("--user", "Giorgi", "--pin", "3333", "settings", "--evidence-rate", "512")
    assert code != 0 and "manager" in err.lower()
    code, _, err = ready("settings", "--evidence-rate", "5")
    assert code == 2 and "16 to 102400 KiB/s" in err
    assert ready.json("--user", "Nino", "--pin", "2222", "settings", "--evidence-rate", "512")[
        "evidence_rate_kib"] == 512  # type: ignore[index]
