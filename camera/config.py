"""A camera's settings, validated: an unknown key or a bad value is refused with the key's name."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time as dtime
from typing import Any

KINDS = ("security", "kitchen", "customer_table")
PRIVACY_MODES = ("off", "blur_faces")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_HOURS_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class CameraConfigError(ValueError):
    """A camera setting that cannot be used; the message names the key."""


@dataclass(frozen=True)
class OpeningHours:
    opens: dtime
    closes: dtime

    def is_open(self, at: dtime) -> bool:
        if self.opens <= self.closes:
            return self.opens <= at < self.closes
        return at >= self.opens or at < self.closes  # past midnight, e.g. 10:00-02:00


@dataclass(frozen=True)
class CameraConfig:
    id: str
    name: str
    kind: str
    source: str  # "usb:0", "rtsp://...", "http(s)://..." (MJPEG), or a video file path
    width: int = 640
    height: int = 480
    fps: int = 15
    recording: bool = True
    segment_s: int = 60
    retention_days: int = 14
    quota_mb: int = 2048
    privacy: str = "off"
    masks: tuple[tuple[int, int, int, int], ...] = ()  # x, y, w, h in pixels of the configured size
    motion_min_area: int = 1500  # pixels of the configured size
    motion_cooldown_s: int = 30
    opening_hours: OpeningHours | None = None  # motion outside them raises an alert
    loop: bool = False  # a file source starts again at its end (demos)
    upload_all: bool = False  # every finished segment goes to HQ as evidence (when the uplink allows)
    roles: tuple[str, ...] = ("manager", "owner")  # who may watch it
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def blurs_faces(self) -> bool:
        return self.privacy == "blur_faces" or self.kind == "customer_table"

    def source_kind(self) -> str:
        if self.source.startswith("usb:"):
            return "usb"
        if self.source.startswith(("rtsp://", "rtsps://")):
            return "rtsp"
        if self.source.startswith(("http://", "https://")):
            return "http"
        return "file"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in _FIELDS if k != "opening_hours"}
        out["masks"] = [list(m) for m in self.masks]
        out["roles"] = list(self.roles)
        if self.opening_hours is not None:
            out["opening_hours"] = (f"{self.opening_hours.opens:%H:%M}-{self.opening_hours.closes:%H:%M}")
        return out


MAX_USB_INDEX = 63  # /dev/video0 .. /dev/video63
_FIELDS = ("id", "name", "kind", "source", "width", "height", "fps", "recording", "segment_s", "retention_days",
           "quota_mb", "privacy", "masks", "motion_min_area", "motion_cooldown_s", "opening_hours", "loop",
           "upload_all", "roles")
_REQUIRED = ("id", "name", "kind", "source")
_INT_RANGES = {"width": (64, 7680), "height": (48, 4320), "fps": (1, 60), "segment_s": (5, 3600),
               "retention_days": (1, 3650), "quota_mb": (10, 10_000_000), "motion_min_area": (1, 10_000_000)}
ROLES = ("manager", "owner")  # cashiers never see cameras (DOMAIN.md)


def _int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CameraConfigError(f"camera setting {key!r} must be a whole number, not {value!r}")
    low, high = _INT_RANGES[key]
    if not low <= value <= high:
        raise CameraConfigError(f"camera setting {key!r} must be between {low} and {high}, not {value}")
    return value


def parse_camera_config(data: Mapping[str, Any]) -> CameraConfig:
    """Build a CameraConfig from a dict (the store's JSON, a settings screen, a file); refuse what is wrong."""
    if not isinstance(data, Mapping):
        raise CameraConfigError("a camera's settings must be a mapping of keys to values")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise CameraConfigError(f"unknown camera setting {unknown[0]!r} (known: {', '.join(_FIELDS)})")
    for key in _REQUIRED:
        if key not in data or data[key] in (None, ""):
            raise CameraConfigError(f"camera setting {key!r} is required")
    values: dict[str, Any] = {}
    cam_id = data["id"]
    if not isinstance(cam_id, str) or not _ID_RE.fullmatch(cam_id):
        raise CameraConfigError(f"camera setting 'id' must be 1-40 lowercase letters, digits or dashes, not {cam_id!r}")
    values["id"] = cam_id
    name = data["name"]
    if not isinstance(name, str) or not name.strip() or len(name) > 80:
        raise CameraConfigError("camera setting 'name' must be a text of 1-80 characters")
    values["name"] = name.strip()
    if data["kind"] not in KINDS:
        raise CameraConfigError(f"camera setting 'kind' must be one of {', '.join(KINDS)}, not {data['kind']!r}")
    values["kind"] = data["kind"]
    source = data["source"]
    if not isinstance(source, str) or len(source) > 1000:
        raise CameraConfigError("camera setting 'source' must be a text: usb:N, an rtsp:// or http:// URL, or a file")
    if source.startswith("usb:") and not (source[4:].isascii() and source[4:].isdigit()
                                          and int(source[4:]) <= MAX_USB_INDEX and len(source) <= 6):
        raise CameraConfigError(f"camera setting 'source' {source!r}: a USB camera is usb:N with N its index "
                                f"(0-{MAX_USB_INDEX})")
    if any(ch in source for ch in "!\n\r\t\x00") or source.startswith(("appsrc", "v4l2src", "gst", "pipeline:")):
        raise CameraConfigError(f"camera setting 'source' {source!r}: a camera is usb:N, an rtsp:// or http:// URL or "
                                "a video file, never a media pipeline")
    values["source"] = source
    for key in _INT_RANGES:
        if key in data:
            values[key] = _int(key, data[key])
    for key in ("recording", "loop", "upload_all"):
        if key in data:
            if not isinstance(data[key], bool):
                raise CameraConfigError(f"camera setting {key!r} must be true or false, not {data[key]!r}")
            values[key] = data[key]
    if "privacy" in data:
        if data["privacy"] not in PRIVACY_MODES:
            raise CameraConfigError(f"camera setting 'privacy' must be one of {', '.join(PRIVACY_MODES)}, "
                                    f"not {data['privacy']!r}")
        values["privacy"] = data["privacy"]
    if "motion_cooldown_s" in data:
        value = data["motion_cooldown_s"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 86_400:
            raise CameraConfigError("camera setting 'motion_cooldown_s' must be whole seconds, 0-86400")
        values["motion_cooldown_s"] = value
    width, height = values.get("width", 640), values.get("height", 480)
    if "masks" in data:
        masks = []
        if not isinstance(data["masks"], list | tuple):
            raise CameraConfigError("camera setting 'masks' must be a list of [x, y, w, h] rectangles")
        for mask in data["masks"]:
            if (not isinstance(mask, list | tuple) or len(mask) != 4
                    or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in mask)):
                raise CameraConfigError(f"camera setting 'masks': {mask!r} is not an [x, y, w, h] rectangle")
            x, y, w, h = mask
            if w == 0 or h == 0 or x + w > width or y + h > height:
                raise CameraConfigError(f"camera setting 'masks': {list(mask)} does not fit a {width}x{height} "
                                        "picture")
            masks.append((x, y, w, h))
        values["masks"] = tuple(masks)
    if data.get("opening_hours") is not None:
        match = _HOURS_RE.fullmatch(str(data["opening_hours"]))
        if not match:
            raise CameraConfigError(f"camera setting 'opening_hours' must look like 10:00-23:00, not "
                                    f"{data['opening_hours']!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        values["opening_hours"] = OpeningHours(dtime(h1, m1), dtime(h2, m2))
    if "roles" in data:
        roles = data["roles"]
        if not isinstance(roles, list | tuple) or any(r not in ROLES for r in roles):
            raise CameraConfigError(f"camera setting 'roles' must list roles among {', '.join(ROLES)} (cashiers never "
                                    "see cameras)")
        values["roles"] = tuple(roles)
    return CameraConfig(**values)
