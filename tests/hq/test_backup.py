"""The backup drill, for real: terminals sell, sync and a customer claims; `hotpot-hq backup` runs while HQ serves
(three times, keeping two); HQ stops, the database is dropped and created empty, a wrong passphrase and a damaged
backup are refused without touching it; `hotpot-hq restore` brings back the database, the keys and the KYC case
files; every terminal's chain and the token ledger verify, and the counts and token balances are what they were.
Then HQ starts again on the restored keys and the terminals carry on syncing to it."""

from __future__ import annotations

import shutil
import stat
import time
from collections.abc import Callable
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

from sync.hq import backup
from terminal.kyc import submit_case
from tests.hq.conftest import Till, sql
from tests.hq.test_claims import Phone, _sell, _sync
from tests.hq.test_kyc_desk import DETAILS, IMAGES
from tests.hqkit import HQServer, running_hq
from tests.hqkit import hq as hq_cli
from tests.pg import PgServer

PASSPHRASE = "onion soup at midnight 42"
BALANCES = "SELECT holder, balance FROM token_balances ORDER BY holder"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_backup_drop_restore_verify(make_till: Callable[..., Till], hq: HQServer, pg_server: PgServer,
                                    tmp_path: Path) -> None:
    url = hq.database_url
    tills = [make_till("Vake"), make_till("Rustaveli")]
    manager = tills[0].term.login("Nino", "2222")
    submit_case(tills[0].term, manager, DETAILS, IMAGES, analysis={"match_score": 0.9})
    sales = [_sell(till, 3) for till in tills]
    for till in tills:
        _sync(till)
    phone = Phone()
    claimed = phone.claim(hq, sales[0][0].sale.check.id, token=sales[0][0].secret.token)
    assert claimed.status_code == 200, claimed.text
    env = {"HOTPOT_HQ_KEY_DIR": str(hq.key_dir), "HOTPOT_HQ_KYC_DIR": str(hq.kyc_dir),
           "HOTPOT_HQ_BACKUP_PASSPHRASE": PASSPHRASE}
    hq_cli(url, "tokens", "enter", env=env)
    assert any(hq.kyc_dir.rglob("*")), "the KYC case file reached HQ"

    dest = tmp_path / "backups"
    for n in range(3):  # while HQ serves; three backups, two kept
        out = hq_cli(url, "backup", str(dest), "--keep", "2", env=env).stdout
        assert "Backed up to" in out and "2 terminal(s)" in out and "6 sales" in out, out
        if n < 2:
            time.sleep(1.1)  # one backup per second (the folder is named by the second)
    kept = backup.backups_in(dest)
    assert len(kept) == 2 and not list(dest.glob(".*partial"))
    latest = kept[-1]
    assert stat.S_IMODE(latest.stat().st_mode) == 0o700
    for name, data in _files(latest).items():
        assert stat.S_IMODE((latest / name).stat().st_mode) == 0o600, name
        # Nothing readable: no key, no dump, no names, no case file in the clear.
        for plain in (b"PRIVATE KEY", b"PGDMP", b"Giorgi", b"udon", b"ustar"):
            assert plain not in data or name == backup.MANIFEST, (name, plain)
    before = backup.figures(url)
    balances = sql(url, BALANCES)
    keys_before, kyc_before = _files(hq.key_dir), _files(hq.kyc_dir)
    assert before.counts["sales"] == 6 and before.counts["claims"] == 1 and before.token_supply > 0

    hq.stop()
    name = conninfo_to_dict(url)["dbname"]
    pg_server.drop_database(name)
    pg_server.create_database(name)
    restored_keys, restored_kyc = tmp_path / "restored-keys", tmp_path / "restored-kyc"
    env2 = {"HOTPOT_HQ_KEY_DIR": str(restored_keys), "HOTPOT_HQ_KYC_DIR": str(restored_kyc),
            "HOTPOT_HQ_BACKUP_PASSPHRASE": PASSPHRASE}
    empty = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"

    wrong = hq_cli(url, "restore", str(latest), env={**env2, "HOTPOT_HQ_BACKUP_PASSPHRASE": "not the passphrase"},
                   check=False)
    assert wrong.returncode == 2 and "wrong key or passphrase" in wrong.stderr, wrong.stderr
    assert "Traceback" not in wrong.stderr and sql(url, empty) == [(0,)] and not restored_keys.exists()

    damaged = tmp_path / "damaged"
    shutil.copytree(latest, damaged)
    dump = bytearray((damaged / backup.DUMP).read_bytes())
    dump[len(dump) // 2] ^= 0x01
    (damaged / backup.DUMP).write_bytes(bytes(dump))
    refused = hq_cli(url, "restore", str(damaged), env=env2, check=False)
    assert refused.returncode == 2 and "does not match its checksum" in refused.stderr, refused.stderr
    assert sql(url, empty) == [(0,)]

    out = hq_cli(url, "restore", str(latest), env=env2).stdout
    assert "Restored the backup" in out and "6 sales" in out, out
    for till in tills:
        assert "OK" in hq_cli(url, "verify-chain", till.id, env=env2).stdout
    assert "Token ledger OK" in hq_cli(url, "verify-ledger", env=env2).stdout
    assert backup.figures(url) == before and sql(url, BALANCES) == balances
    assert _files(restored_keys) == keys_before and _files(restored_kyc) == kyc_before
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in restored_keys.iterdir())

    again = hq_cli(url, "restore", str(latest), env=env2, check=False)
    assert again.returncode == 2 and "not empty" in again.stderr

    # HQ again, on the restored keys and the same address: the terminals carry on where they were.
    port = int(hq.url.rsplit(":", 1)[1])
    with running_hq(url, tmp_path / "hq-again", extra_env={**env2, "HOTPOT_HQ_PUBLIC_RATE": "1000"},
                    port=port):
        _sell(tills[1], 2)
        _sync(tills[1])
        assert sql(url, "SELECT count(*) FROM sales WHERE terminal_id = %s", (tills[1].id,)) == [(5,)]
