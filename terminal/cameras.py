"""The terminal's cameras: their settings in the store, who may see them, the camera hub running them, and the
ledger records of what they produce (each finished segment's SHA-256, motion alerts, acknowledgements, table
consents). Managers and owners only: a cashier is refused here, whatever a screen does."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from camera.capture import grab_frame
from camera.config import CameraConfig, CameraConfigError, parse_camera_config
from camera.demo import write_demo_video
from camera.hub import CameraHub, CameraRunner, CameraStatus
from camera.motion import MotionEvent
from camera.privacy import TableConsent, consent
from camera.recorder import SEALED_SUFFIX, Segment, Sink, enforce_retention, file_sha256, write_playable
from sync.protocol import footage, stream
from terminal.core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from terminal.core.orders import clean_text
from terminal.core.users import Role, User
from terminal.ledger.journal import append_record
from terminal.services import now_ms
from terminal.store import repos
from terminal.store.db import open_store
from terminal.wallet.hd import Wallet

logger = logging.getLogger(__name__)

RECORDINGS = "recordings"
VIDEO = "video"  # video files a manager may play as a camera (a demo, a recorded test feed)
DEMO_VIDEO = "demo-video"
INCIDENT_GAP_MS = 30 * 60_000  # alerts of one camera and kind less than this apart are one incident
DEFAULT_RETENTION_DAYS = CameraConfig.retention_days  # a removed camera's recordings: as long as a new camera's
PLAYBACK_MARGIN_MS = 5_000  # the footage of an incident: its segments from a little before to a little after


def require_camera_access(user: User | None) -> User:
    if user is None or not user.role.at_least(Role.MANAGER):
        who = f"{user.name} is a {user.role.value}" if user else "nobody is logged in"
        raise NotAllowed("Cameras are for managers and owners only; {who}.", who=who)
    return user


class Cameras:
    """Camera settings and the running hub, over a database connection of its own (camera threads write here)."""

    def __init__(self, data_dir: Path) -> None:
        self.store = open_store(data_dir)
        self.terminal_id = self.store.terminal_id()
        self.data_dir = Path(data_dir)
        self.recordings = self.data_dir / RECORDINGS
        self.hub: CameraHub | None = None
        self._lock = threading.Lock()  # camera threads and the GUI share this connection

    def close(self) -> None:
        self.stop()
        self.store.close()

    # --- settings ---

    def configs(self) -> list[CameraConfig]:
        with self._lock:
            configs = repos.camera_configs(self.store)
        return [parse_camera_config(c) for c in configs]

    def visible_to(self, user: User | None) -> list[CameraConfig]:
        who = require_camera_access(user)
        return [c for c in self.configs() if who.role.value in c.roles]

    def save(self, user: User | None, settings: dict[str, Any]) -> CameraConfig:
        who = require_camera_access(user)
        cam = self._checked(settings)
        at = now_ms()
        with self._lock, self.store.transaction() as conn:
            repos.save_camera(conn, cam.id, cam.to_dict(), at, who.name)
            append_record(conn, self.terminal_id, "camera_configured",
                          {"camera_id": cam.id, "user": who.name, "config": cam.to_dict()}, at)
        if self.hub is not None:
            self.hub.apply(cam)  # the running wall takes it now, not at the next start
        return cam

    def remove(self, user: User | None, camera_id: str) -> None:
        """Take a camera off: it stops now; its recordings stay (evidence) until the default retention passes."""
        who = require_camera_access(user)
        at = now_ms()
        with self._lock, self.store.transaction() as conn:
            if not repos.delete_camera(conn, camera_id):
                raise NotFound("There is no camera {camera_id!r}.", camera_id=camera_id)
            append_record(conn, self.terminal_id, "camera_removed", {"camera_id": camera_id, "user": who.name}, at)
        if self.hub is not None:
            self.hub.remove(camera_id)

    def test_source(self, user: User | None, settings: dict[str, Any]) -> np.ndarray:
        """A picture from the source these (unsaved) settings name: the editor's "test connection"."""
        require_camera_access(user)
        cam = self._checked(settings)
        try:
            return grab_frame(cam)
        except OSError as exc:
            raise WrongState("No picture from the camera: {problem}.", problem=str(exc)) from None

    def _checked(self, settings: dict[str, Any]) -> CameraConfig:
        """Settings as `camera set`, the editor and its "test connection" take them: the shared rules, and a file
        source only from the video folders."""
        try:
            cam = parse_camera_config(settings)
        except CameraConfigError as exc:
            raise InvalidInput("Camera settings refused: {exc}.", exc=exc) from None
        if cam.source_kind() == "file":
            self._check_video_file(cam.source)
        return cam

    def video_folders(self) -> tuple[Path, ...]:
        """Where a file source may be: the data folder's video folder (and the demo's), nowhere else."""
        return (self.data_dir / VIDEO, self.data_dir / DEMO_VIDEO)

    def _check_video_file(self, source: str) -> None:
        path = Path(source)
        resolved = path.resolve()  # ".." and links followed: where the file really is
        if not path.is_absolute() or not any(resolved.is_relative_to(f.resolve()) for f in self.video_folders()):
            raise InvalidInput("Camera settings refused: a video file source is a full path inside {folder} (not "
                               "{source!r}).",
                               folder=self.data_dir / VIDEO, source=source)

    def install_demo(self, user: User) -> list[CameraConfig]:
        """Two demo cameras fed by generated looping videos, so a newcomer sees the wall work."""
        folder = self.data_dir / DEMO_VIDEO
        made = []
        for cam_id, name, kind, scene in (("counter", "Counter", "security", "counter"),
                                          ("kitchen", "Kitchen", "kitchen", "kitchen")):
            video = folder / f"{scene}.avi"
            if not video.exists():
                write_demo_video(video, scene)
            made.append(self.save(user, {"id": cam_id, "name": name, "kind": kind, "source": str(video),
                                         "loop": True, "width": 640, "height": 360, "fps": 15, "segment_s": 60,
                                         "quota_mb": 200, "retention_days": 2, "opening_hours": "10:00-23:00",
                                         "masks": [[560, 0, 80, 40]] if kind == "kitchen" else []}))
        return made

    # --- running ---

    def start(self) -> None:
        if self.hub is not None:
            return
        self.hub = CameraHub(self.recordings, sealer=self._seal, on_segment=self._segment, on_motion=self._motion,
                             on_state=self._state)
        configs = self.configs()
        self.hub.start(configs)
        self._retire_removed({c.id for c in configs})

    def _retire_removed(self, running: set[str]) -> None:
        """Recordings of cameras taken off still go when the default retention has passed."""
        if not self.recordings.is_dir():
            return
        for folder in self.recordings.iterdir():
            if folder.is_dir() and folder.name not in running and not folder.name.startswith("."):
                enforce_retention(folder, retention_days=DEFAULT_RETENTION_DAYS, quota_bytes=2**62, now=time.time(),
                                  min_free_bytes=0)

    # --- footage sealed at rest ---

    def _seal(self, out: BinaryIO) -> Sink:
        """A new segment's encrypting writer: a key of its own (X25519 with a fresh ephemeral key against the
        terminal's recording key, HKDF), the STREAM construction over it in 64 KiB chunks."""
        with self._lock:
            value = self.store.meta("recording_public_key")
        if not value:
            raise OSError("footage is not recorded until the terminal's wallet has been unlocked once")
        public = bytes.fromhex(value)
        ephemeral = X25519PrivateKey.generate()
        ephemeral_public = ephemeral.public_key().public_bytes_raw()
        key = footage.segment_key(ephemeral.exchange(X25519PublicKey.from_public_bytes(public)), ephemeral_public,
                                  public)
        out.write(footage.SEALED_MAGIC + ephemeral_public)
        return stream.Writer(out, key=key)

    def open_recording(self, user: User | None, path: str, wallet: Wallet | None) -> bytes:
        """A sealed segment's frames, decrypted in memory (never to disk). A segment a crash cut short gives back
        every chunk that verifies: at most the last one is lost."""
        require_camera_access(user)
        if wallet is None:
            raise WrongState("Recordings are sealed: unlock the ledger (the wallet) to play them.")
        with open(path, "rb") as fh:
            data = fh.read()
        try:
            key = footage.key_for(data[:footage.HEAD_LEN], wallet.recording_key())
        except footage.FootageError:
            raise WrongState("{path} is not a sealed recording.", path=Path(path).name) from None
        try:
            plain, complete = footage.open_sealed(data, key)
        except footage.FootageError as exc:
            raise WrongState("The recording does not open with this terminal's key ({problem}).",
                             problem=str(exc)) from None
        if not complete:
            logger.warning("%s was cut short (a crash while recording?): playing every chunk that verifies", path)
        return plain

    def stop(self) -> None:
        if self.hub is not None:
            self.hub.stop()
            self.hub = None

    def runner(self, user: User | None, camera_id: str) -> CameraRunner:
        who = require_camera_access(user)
        if self.hub is None or camera_id not in self.hub.runners:
            raise NotFound("Camera {camera_id!r} is not running.", camera_id=camera_id)
        if who.role.value not in self.hub.runners[camera_id].config.roles:
            raise NotAllowed("{name} may not watch camera {camera_id}.", name=who.name, camera_id=camera_id)
        return self.hub.runners[camera_id]

    def still(self, user: User | None, camera_id: str) -> np.ndarray:
        """The camera's newest frame (a copy), for the KYC desk: from the running stream, never a second open of
        the device. A customer_table camera blurs faces, so it cannot take a KYC photo."""
        runner = self.runner(user, camera_id)
        if runner.config.kind == "customer_table":
            raise InvalidInput("{name} blurs faces (a table camera): take KYC photos with the desk's own camera.",
                               name=runner.config.name)
        assert self.hub is not None
        try:
            return self.hub.still(camera_id)
        except LookupError:
            raise WrongState("{name} shows no live picture right now; look at it on the camera wall.",
                             name=runner.config.name) from None

    def statuses(self, user: User | None) -> list[CameraStatus]:
        require_camera_access(user)
        return [] if self.hub is None else self.hub.statuses()

    def grant_consent(self, user: User | None, camera_id: str, minutes: int) -> TableConsent:
        who = require_camera_access(user)
        runner = self.runner(who, camera_id)
        if runner.config.kind != "customer_table":
            raise InvalidInput("Table consent is for customer_table cameras.")
        try:
            given = consent(camera_id, minutes, who.name)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        with self._lock, self.store.transaction() as conn:
            append_record(conn, self.terminal_id, "table_consent",
                          {"camera_id": camera_id, "minutes": minutes, "until_ms": int(given.until * 1000),
                           "user": who.name}, now_ms())
        runner.set_consent(given)
        return given

    # --- what the cameras produce (called on camera threads) ---

    def _segment(self, seg: Segment) -> None:
        started_ms, ended_ms = int(seg.started_at * 1000), int(seg.ended_at * 1000)
        record = {"camera_id": seg.camera_id, "file": seg.path.name, "day": seg.path.parent.name,
                  "started_at_ms": started_ms, "ended_at_ms": ended_ms, "frames": seg.frames, "bytes": seg.bytes,
                  "sha256": seg.sha256}
        runner = self.hub.runners.get(seg.camera_id) if self.hub is not None else None
        with self._lock, self.store.transaction() as conn:
            repos.insert_camera_segment(conn, str(seg.path.relative_to(self.recordings)), seg.camera_id,
                                        started_ms, ended_ms, seg.frames, seg.bytes, seg.sha256)
            append_record(conn, self.terminal_id, "camera_segment", record, now_ms())
            if runner is not None and runner.config.upload_all:  # sent to HQ after its record, when the uplink allows
                repos.want_evidence(conn, [seg.sha256], "auto", now_ms())

    def _motion(self, event: MotionEvent) -> None:
        """Motion outside opening hours is an alert, unless a shift is open (staff at work late or early)."""
        if event.after_hours:
            with self._lock:
                working = repos.open_shift_row(self.store) is not None
            if not working:
                self._alert(event.camera_id, "motion_after_hours", int(event.at * 1000), {"area": event.area})

    def _state(self, camera_id: str, state: str, error: str) -> None:
        if state == "failed":
            self._alert(camera_id, "camera_failed", now_ms(), {"error": error})

    def _alert(self, camera_id: str, kind: str, at_ms: int, detail: dict[str, Any]) -> None:
        with self._lock, self.store.transaction() as conn:  # every event in the ledger; on screen, one incident
            alert_id = repos.insert_camera_alert(conn, camera_id, at_ms, kind, detail, INCIDENT_GAP_MS)
            append_record(conn, self.terminal_id, "camera_alert",
                          {"alert_id": alert_id, "camera_id": camera_id, "kind": kind, "at_ms": at_ms,
                           **detail}, now_ms())

    # --- the manager's screens ---

    def alerts(self, user: User | None, *, include_acknowledged: bool = False) -> list[dict[str, Any]]:
        """Incidents, newest first: how many events, from when to when, and the segments that hold the footage
        (paths relative to the recordings folder; `file` where it is still on disk)."""
        require_camera_access(user)
        with self._lock:
            incidents = repos.camera_alerts(self.store, include_acknowledged=include_acknowledged)
            for incident in incidents:
                last = incident["last_at_ms"] or incident["at_ms"]
                segments = repos.camera_segments_between(self.store, incident["camera_id"],
                                                         incident["at_ms"] - PLAYBACK_MARGIN_MS,
                                                         last + PLAYBACK_MARGIN_MS)
                incident["segments"] = [{**seg, "file": str(self.recordings / seg["path"])} for seg in segments
                                        if (self.recordings / seg["path"]).exists()]
                incident["hq"] = _evidence_state(repos.evidence_of(self.store, [s["sha256"] for s in segments]))
        return incidents

    def acknowledge(self, user: User | None, alert_id: int, note: str = "") -> None:
        who = require_camera_access(user)
        note = clean_text(note, "note", required=False)
        at = now_ms()
        with self._lock, self.store.transaction() as conn:
            if not repos.acknowledge_camera_alert(conn, alert_id, at, who.name, note):
                raise NotFound("There is no open alert {alert_id}.", alert_id=alert_id)
            append_record(conn, self.terminal_id, "camera_alert_acknowledged",
                          {"alert_id": alert_id, "user": who.name, **({"note": note} if note else {})}, at)

    def acknowledge_all(self, user: User | None, note: str = "") -> int:
        """Every open incident acknowledged with the same note; returns how many."""
        ids = [a["id"] for a in self.alerts(user)]
        for alert_id in ids:
            self.acknowledge(user, alert_id, note)
        return len(ids)

    def recordings_of(self, user: User | None, camera_id: str) -> list[dict[str, Any]]:
        """A camera's finished segments still on disk, newest first."""
        require_camera_access(user)
        with self._lock:
            rows = repos.camera_segments(self.store, camera_id)
        return [{**r, "file": str(self.recordings / r["path"])} for r in rows
                if (self.recordings / r["path"]).exists()]

    def segment_proof(self, user: User | None, path: str) -> dict[str, Any]:
        """What proves a recording: its SHA-256 as the ledger recorded it, the record, and the block that seals it
        (None until sealed)."""
        require_camera_access(user)
        full = Path(path)
        relative = str(full.relative_to(self.recordings))
        with self._lock:
            row = self.store.one("SELECT * FROM camera_segments WHERE path = ?", (relative,))
            if row is None:
                raise NotFound("There is no recording {path}.", path=relative)
            seq = self.store.scalar("SELECT seq FROM ledger_records WHERE type = 'camera_segment' AND "
                                    "instr(body, ?) > 0 ORDER BY seq LIMIT 1", (row["sha256"].encode(),))
            block = repos.block_holding(self.store, int(seq)) if seq is not None else None
        return {"terminal_id": self.terminal_id, "camera_id": row["camera_id"], "file": full.name,
                "started_at_ms": row["started_at_ms"], "ended_at_ms": row["ended_at_ms"], "frames": row["frames"],
                "bytes": row["bytes"], "sha256": row["sha256"], "record_seq": seq,
                "block": None if block is None else {"height": block["height"], "hash": block["hash"]}}

    def export_segment(self, user: User | None, path: str, folder: Path, wallet: Wallet | None = None) -> Path:
        """Copy a recording and its proof (`<file>.proof.json`) to a folder or a USB stick; the copy is checked
        against the ledger's hash before the proof is written. A sealed recording goes as it is (the hash is of
        those bytes) and, with the wallet open, also as a playable AVI beside it."""
        proof = self.segment_proof(user, path)
        if path.endswith(SEALED_SUFFIX) and wallet is not None:
            playable = Path(folder) / f"{proof['camera_id']}-{Path(path).stem}.avi"
            write_playable(self.open_recording(user, path, wallet), playable)
            proof["playable_copy"] = playable.name
        folder = Path(folder)
        if not folder.is_dir():
            raise InvalidInput("{folder} is not a folder.", folder=folder)
        target = folder / f"{proof['camera_id']}-{proof['file']}"
        tmp = target.with_suffix(target.suffix + ".part")
        shutil.copyfile(path, tmp)
        if file_sha256(tmp) != proof["sha256"]:
            tmp.unlink()
            raise WrongState("The recording does not match the hash sealed in the ledger; it was not exported.")
        os.replace(tmp, target)
        target.with_suffix(target.suffix + ".proof.json").write_text(json.dumps(proof, indent=2), encoding="utf-8")
        return target

    def verify_segment(self, user: User | None, path: str) -> bool:
        """Does the file still hash to what the ledger recorded when it was finished?"""
        require_camera_access(user)
        full = Path(path)
        with self._lock:
            recorded = repos.camera_segment_sha256(self.store, str(full.relative_to(self.recordings)))
        return recorded is not None and full.exists() and file_sha256(full) == recorded


def _evidence_state(uploads: list[dict[str, Any]]) -> str | None:
    """What HQ has of an incident's footage: None (not asked for), 'sending', 'refused' (HQ found a segment differs
    from the ledger), 'sent' (all it asked for is verified there)."""
    if not uploads:
        return None
    if any(u["outcome"] == "refused" for u in uploads):
        return "refused"
    return "sending" if any(u["done_at_ms"] is None for u in uploads) else "sent"
