"""The ASGI app as uvicorn's workers import it: built from the environment (the CLI sets it before it starts them)."""

from __future__ import annotations

import json
import logging
import time

from sync.hq.api.app import create_app
from sync.hq.auth import load_or_create_jwt_secret
from sync.hq.config import Settings
from sync.hq.keys import load_or_create_keys


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


configure_logging()
_settings = Settings()
app = create_app(_settings, load_or_create_keys(_settings.key_dir),
                 load_or_create_jwt_secret(_settings.jwt_secret, _settings.key_dir))
