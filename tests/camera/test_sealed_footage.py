"""Footage sealed at rest (issue 21, item 5): every segment is encrypted as it is written, under a key of its own
wrapped to the terminal's recording key (the wallet's; its public half is all recording needs), in 64 KiB chunks.
No JPEG frame is on disk; the ledger's hash is of the sealed bytes; playback decrypts in memory with the wallet; a
crash mid-segment loses at most the chunk being filled; another terminal's wallet opens nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from camera.config import parse_camera_config
from camera.recorder import Recorder, file_sha256, parse_frames
from sync.protocol import footage
from sync.protocol.stream import CHUNK
from terminal.cameras import Cameras
from terminal.core.errors import WrongState
from terminal.setup import create_terminal
from terminal.store import repos
from tests.camera.conftest import scene
from tests.conftest import TEST_PASSPHRASE

JFIF = b"\xff\xd8\xff\xe0\x00\x10JFIF"  # how every JPEG frame OpenCV writes begins


def test_segments_are_sealed_as_written_and_open_only_with_the_wallet(tmp_path: Path) -> None:
    term, _ = create_terminal(tmp_path / "t", franchise="Vake", terminal_name="C1", demo=True,
                              passphrase=TEST_PASSPHRASE)
    owner = repos.get_user(term.store, "Owner")
    config = parse_camera_config({"id": "door", "name": "Door", "kind": "security", "source": "usb:0",
                                  "width": 320, "height": 240, "fps": 15, "segment_s": 600})
    cams = Cameras(term.data_dir)
    try:
        recorder = Recorder(config, cams.recordings, sealer=cams._seal)
        for i in range(150):
            recorder.write(scene(i), 1_000.0 + i / 15)
        segment = recorder.close()
        assert segment is not None and segment.path.suffix == ".hpv" and segment.frames == 150
        sealed = segment.path.read_bytes()
        assert JFIF not in sealed and segment.sha256 == file_sha256(segment.path)  # the hash covers the ciphertext
        assert segment.path.stat().st_mode & 0o777 == 0o600

        with pytest.raises(WrongState, match="unlock the ledger"):
            cams.open_recording(owner, str(segment.path), None)
        wallet = term.unlock(TEST_PASSPHRASE)
        plain = cams.open_recording(owner, str(segment.path), wallet)
        (fps, width, height), frames = parse_frames(plain)
        assert (fps, width, height, len(frames)) == (15, 320, 240, 150) and JFIF in plain
        assert footage.frames_of(plain) == parse_frames(plain)  # HQ reads the frames as the camera package does

        # A crash in the middle of a segment: the file as the disk holds it, the last chunk never sealed.
        crashing = Recorder(config, cams.recordings, sealer=cams._seal)
        for i in range(150):
            crashing.write(scene(i), 2_000.0 + i / 15)
        assert crashing._file is not None and crashing.current is not None
        crashing._file.flush()
        left = tmp_path / "after-the-crash.hpv"
        shutil.copyfile(crashing.current, left)
        recovered = parse_frames(cams.open_recording(owner, str(left), wallet))[1]
        per_chunk = CHUNK // (len(plain) // 150) + 1
        assert 0 < 150 - len(recovered) <= per_chunk  # every frame but those of the chunk being filled
        crashing.close()

        other, _ = create_terminal(tmp_path / "other", franchise="Vake", terminal_name="C2", demo=True,
                                   passphrase=TEST_PASSPHRASE)
        try:
            with pytest.raises(WrongState, match="does not open with this terminal's key"):
                cams.open_recording(owner, str(segment.path), other.unlock(TEST_PASSPHRASE))
        finally:
            other.close()
    finally:
        cams.close()
        term.close()
