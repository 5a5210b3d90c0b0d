"""Prometheus metrics of HQ: requests and latency by route, blocks and records ingested, rejections, the pool."""

from __future__ import annotations

import os
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
POOL = Gauge("hotpot_hq_pool_connections", "Database pool connections", ["state"], multiprocess_mode="livesum")
_pools: list[Any] = []


def observe(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(route).observe(seconds)


def watch_pool(pool: Any) -> None:
    _pools.append(pool)


def render() -> tuple[bytes, str]:
    for pool in _pools:
        stats = pool.get_stats()
        POOL.labels("size").set(stats.get("pool_size", 0))
        POOL.labels("available").set(stats.get("pool_available", 0))
        POOL.labels("waiting").set(stats.get("requests_waiting", 0))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # several workers: add up every process's numbers
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
