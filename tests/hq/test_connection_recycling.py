"""A worker closes every N-th connection it answers (HOTPOT_HQ_RECYCLE_EVERY), so that kept-alive clients spread over
the workers again after one restarts: the fleet soak saw 28 connections stay on the surviving worker and 1 reach its
replacement. Against a real `hotpot-hq serve`."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.hqkit import running_hq


def test_every_nth_response_closes_its_connection_and_the_client_carries_on(hq_db: str, tmp_path: Path) -> None:
    with running_hq(hq_db, tmp_path, extra_env={"HOTPOT_HQ_RECYCLE_EVERY": "3"}) as hq:
        session = requests.Session()
        answers = [session.get(f"{hq.url}/api/health", timeout=10) for _ in range(12)]
    assert all(a.status_code == 200 for a in answers)  # a closed connection is reopened: nothing fails
    closed = [a.headers.get("connection", "").lower() == "close" for a in answers]
    assert sum(closed) == 4 and not any(closed[i] and closed[i + 1] for i in range(11))  # every third, not more
