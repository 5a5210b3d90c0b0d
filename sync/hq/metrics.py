"""Prometheus metrics of HQ: requests and latency by route, blocks, records, sales and ST ingested, rejections, the
pool; and, read from the database at each scrape, the fleet (each terminal's last contact and backlog, terminals by
state) and whether the database answers. The alert rules and dashboards are in packaging/monitoring/."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("hotpot_hq_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("hotpot_hq_request_seconds", "HTTP request latency", ["route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.5, 1, 2.5, 5))
BLOCKS = Counter("hotpot_hq_blocks_ingested_total", "Blocks accepted")
RECORDS = Counter("hotpot_hq_records_ingested_total", "Records accepted")
REJECTIONS = Counter("hotpot_hq_block_rejections_total", "Blocks refused, by reason", ["reason"])
UNSIGNED_PUSHES = Counter("hotpot_hq_unsigned_pushes_total",
                          "Pushes refused because a block is not signed by the terminal's enrolled key")
SALES = Counter("hotpot_hq_sales_ingested_total", "Sales accepted (in verified blocks)")
MINTED = Counter("hotpot_hq_tokens_minted_total", "ST units minted by the sales accepted")
POOL = Gauge("hotpot_hq_pool_connections", "Database pool connections", ["state"], multiprocess_mode="livesum")
_pools: list[Any] = []


def observe(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(route).observe(seconds)


def watch_pool(pool: Any) -> None:
    _pools.append(pool)


@dataclass
class Fleet:
    """What the database says at scrape time (None: it did not answer)."""

    database_ready: bool
    terminals: list[tuple[Any, ...]]  # id, franchise, status, last seen (unix time or None), backlog (or None)


def _fleet_text(fleet: Fleet, now: float) -> bytes:
    registry = CollectorRegistry()
    ready = Gauge("hotpot_hq_database_ready", "1 when PostgreSQL answered this scrape", registry=registry)
    ready.set(1 if fleet.database_ready else 0)
    seen = Gauge("hotpot_hq_terminal_last_seen_timestamp_seconds",
                 "When HQ last heard from the terminal (a signed request or verified blocks)",
                 ["terminal", "franchise"], registry=registry)
    backlog = Gauge("hotpot_hq_terminal_backlog_records", "Records the terminal said it had not had acknowledged",
                    ["terminal", "franchise"], registry=registry)
    states = Gauge("hotpot_hq_terminals", "Enrolled terminals by state (online: heard from in 15 minutes)",
                   ["state"], registry=registry)
    counts = {"online": 0, "silent": 0, "revoked": 0}
    for terminal_id, franchise, status, last_seen, pending in fleet.terminals:
        if status == "revoked":
            counts["revoked"] += 1
            continue
        counts["online" if last_seen is not None and now - last_seen <= 900 else "silent"] += 1
        if last_seen is not None:
            seen.labels(terminal_id, franchise).set(last_seen)
        if pending is not None:
            backlog.labels(terminal_id, franchise).set(pending)
    for state, n in counts.items():
        states.labels(state).set(n)
    return generate_latest(registry)


def render(fleet: Fleet | None = None) -> tuple[bytes, str]:
    for pool in _pools:
        stats = pool.get_stats()
        POOL.labels("size").set(stats.get("pool_size", 0))
        POOL.labels("available").set(stats.get("pool_available", 0))
        POOL.labels("waiting").set(stats.get("requests_waiting", 0))
    extra = _fleet_text(fleet, time.time()) if fleet is not None else b""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # several workers: add up every process's numbers
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry) + extra, CONTENT_TYPE_LATEST
    return generate_latest() + extra, CONTENT_TYPE_LATEST
