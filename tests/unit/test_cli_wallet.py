"""The CLI of the wallet and the chain: init's words, seal, verify, export-blocks, backup check, restore."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from terminal.store.db import DB_FILENAME
from terminal.wallet.keystore import KEYSTORE_FILENAME
from tests.unit.test_cli import Cli


@pytest.fixture
def cli(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(data_dir, capsys)


@pytest.fixture
def words(cli: Cli) -> str:
    init = cli.json("init", "--franchise", "Vake", "--terminal", "C1", "--demo-menu")
    assert isinstance(init, dict)
    assert len(init["mnemonic"].split()) == 24 and init["account_xpub"].startswith("xpub")
    cli("shift", "open", "--float", "10000")
    for item in ("udon:2", "tofu", "greens"):
        cli("sell", item)
    return str(init["mnemonic"])


def test_init_prints_the_words_once(cli: Cli) -> None:
    code, out, _ = cli("init", "--franchise", "Vake", "--terminal", "C1")
    assert code == 0 and "24 recovery words" in out and " 1. " in out and "24. " in out
    code, out, _ = cli("wallet", "show")
    assert code == 0 and "backed_up: False" in out and "xpub" in out


def test_init_without_a_passphrase_when_nobody_can_be_asked(cli: Cli, monkeypatch: pytest.MonkeyPatch,
                                                            data_dir: Path) -> None:
    monkeypatch.delenv("HOTPOT_PASSPHRASE")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = cli("init", "--franchise", "Vake", "--terminal", "C1")
    assert code == 2 and "HOTPOT_PASSPHRASE" in err
    assert not (data_dir / KEYSTORE_FILENAME).exists()
    monkeypatch.setenv("HOTPOT_PASSPHRASE", "short")
    code, _, err = cli("init", "--franchise", "Vake", "--terminal", "C1")
    assert code == 2 and "at least 8 characters" in err and not (data_dir / KEYSTORE_FILENAME).exists()


def test_seal_verify_export(cli: Cli, words: str) -> None:
    sealed = cli.json("seal")
    assert isinstance(sealed, dict) and sealed["head"]["height"] == 0
    status = cli.json("status")
    assert status["unsealed_records"] == 0 and status["head"] == sealed["head"]  # type: ignore[index]
    verified = cli.json("verify")
    assert verified["ok"] is True and verified["records"] == status["records"]  # type: ignore[index]
    code, out, _ = cli("export-blocks")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 1 and json.loads(lines[0])["hash"] == sealed["head"]["hash"]
    code, out, _ = cli("export-blocks", "--from", "1")
    assert code == 0 and out == ""


def test_verify_exits_1_and_names_the_height(cli: Cli, words: str, data_dir: Path) -> None:
    cli("seal")
    conn = sqlite3.connect(data_dir / DB_FILENAME)
    conn.execute("UPDATE ledger_records SET body = CAST(REPLACE(CAST(body AS TEXT), 'Udon', 'Pho!') AS BLOB)")
    conn.commit()
    conn.close()
    code, out, _ = cli("verify")
    assert code == 1 and out.startswith("verify failed at block 0:") and "merkle_mismatch" in out


def test_wrong_passphrase_and_foreign_keystore(cli: Cli, words: str, data_dir: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOTPOT_PASSPHRASE", "not the passphrase")
    code, _, err = cli("seal")
    assert code == 2 and "Wrong wallet passphrase" in err
    monkeypatch.undo()
    monkeypatch.setenv("HOTPOT_PASSPHRASE", "correct horse battery")
    other = Cli(tmp_path / "other", capsys)
    other("init", "--franchise", "Saburtalo", "--terminal", "C9")
    shutil.copy(tmp_path / "other" / KEYSTORE_FILENAME, data_dir / KEYSTORE_FILENAME)
    code, _, err = cli("seal")
    assert code == 2 and "belongs to terminal" in err
    assert cli.json("status")["unsealed_records"] > 0  # type: ignore[index]


def test_backup_check(cli: Cli, words: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from terminal.wallet import backup

    monkeypatch.setattr(backup, "backup_challenge", lambda n=24: [2, 9, 24])
    monkeypatch.setattr("terminal.services.backup_challenge", lambda n=24: [2, 9, 24])
    w = words.split()
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{w[1]}\n{w[8]}\nwrong\n"))
    code, _, err = cli("wallet", "backup-check")
    assert code == 2 and "do not match" in err
    assert cli.json("status")["wallet_backed_up"] is False  # type: ignore[index]
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{w[1]}\n{w[8]}\n{w[23].upper()}\n"))
    code, out, _ = cli("wallet", "backup-check")
    assert code == 0 and "backed up" in out
    assert cli.json("status")["wallet_backed_up"] is True  # type: ignore[index]


def test_restore(cli: Cli, words: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keystore = data_dir / KEYSTORE_FILENAME
    original = keystore.read_bytes()
    bad = words.split()
    bad[5] = "zoo" if bad[5] != "zoo" else "abandon"
    monkeypatch.setenv("HOTPOT_MNEMONIC", " ".join(bad))
    code, _, err = cli("wallet", "restore")
    assert code == 2 and ("checksum" in err or "another wallet" in err)
    monkeypatch.setenv("HOTPOT_MNEMONIC", " ".join(["abandon"] * 23 + ["art"]))
    code, _, err = cli("wallet", "restore")
    assert code == 2 and "another wallet" in err
    monkeypatch.setenv("HOTPOT_MNEMONIC", words)
    code, _, err = cli("wallet", "restore")
    assert code == 2 and "intact" in err
    assert keystore.read_bytes() == original  # nothing overwritten by any refusal
    keystore.write_bytes(original[:40])  # the keystore is damaged: restoring is what the words are for
    code, _, err = cli("seal")
    assert code == 2 and "damaged" in err
    monkeypatch.setenv("HOTPOT_PASSPHRASE", "a new passphrase")
    code, _, err = cli("wallet", "restore")
    assert code == 0, err
    assert cli.json("seal")["head"]["height"] == 0  # type: ignore[index]
    assert cli.json("verify")["ok"] is True  # type: ignore[index]


def test_damaged_keystores_and_ledger_are_one_line_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Each of these once ended in "internal error": a float in the keystore's KDF parameters, a folder where the
    keystore should be, a ledger record whose bytes were turned into text."""
    import json
    import shutil
    import sqlite3

    from terminal.cli import main

    data = tmp_path / "t"
    monkeypatch.setenv("HOTPOT_PASSPHRASE", "long enough passphrase")
    assert main(["--data-dir", str(data), "init", "--franchise", "V", "--terminal", "C", "--demo-menu"]) == 0
    keystore = data / KEYSTORE_FILENAME
    original = keystore.read_bytes()
    doc = json.loads(original)
    doc["kdf"]["n"] = float(doc["kdf"]["n"])
    keystore.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["--data-dir", str(data), "seal"]) == 2
    assert "damaged (fields missing or of the wrong kind)" in capsys.readouterr().err
    keystore.unlink()
    keystore.mkdir()
    assert main(["--data-dir", str(data), "seal"]) == 2
    assert "cannot be read (Is a directory)" in capsys.readouterr().err
    shutil.rmtree(keystore)
    keystore.write_bytes(original)
    assert main(["--data-dir", str(data), "seal"]) == 0
    assert main(["--data-dir", str(data), "shift", "open", "--float", "100"]) == 0
    conn = sqlite3.connect(data / DB_FILENAME)
    conn.execute("UPDATE ledger_records SET body = CAST(body AS TEXT) WHERE seq = 2")  # a sealed one
    conn.execute("UPDATE ledger_records SET body = CAST(body AS TEXT) WHERE seq = (SELECT MAX(seq) FROM "
                 "ledger_records)")  # one still to seal
    conn.commit()
    conn.close()
    capsys.readouterr()
    assert main(["--data-dir", str(data), "seal"]) == 1
    assert main(["--data-dir", str(data), "verify"]) == 1
    out, err = capsys.readouterr()
    assert "internal error" not in out + err and "stored as str" in err and "stored as str" in out
