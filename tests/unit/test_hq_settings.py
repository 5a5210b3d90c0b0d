"""HQ's settings: the key folder never defaults to the folder HQ was started in; numbers from the environment are
checked with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.hq.config import Settings


def test_key_dir_defaults_to_the_users_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HOTPOT_HQ_KEY_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path / ".." if (tmp_path / "..").exists() else tmp_path)
    assert Settings().key_dir == tmp_path / "hotpot-hq" / "keys"
    monkeypatch.setenv("HOTPOT_HQ_KEY_DIR", str(tmp_path / "elsewhere"))
    assert Settings().key_dir == tmp_path / "elsewhere"


def test_enroll_code_lifetime_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTPOT_HQ_ENROLL_CODE_TTL_S", raising=False)
    assert Settings().enroll_code_ttl_s == 24 * 3600
    monkeypatch.setenv("HOTPOT_HQ_ENROLL_CODE_TTL_S", "600")
    assert Settings().enroll_code_ttl_s == 600
    monkeypatch.setenv("HOTPOT_HQ_ENROLL_CODE_TTL_S", "ten minutes")
    with pytest.raises(SystemExit, match="HOTPOT_HQ_ENROLL_CODE_TTL_S must be a whole number"):
        Settings()
