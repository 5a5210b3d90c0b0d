"""Benchmark: HQ's per-block latency under an open-loop load (issue: latency that means something).

20 terminals with pre-sealed 500-record blocks push to `hotpot-hq serve --workers 2` on a real PostgreSQL. First the
closed loop (each terminal sends its next block when the last is answered) measures the capacity in blocks/s and
its p95. Then blocks arrive on a schedule (Poisson, spread over the terminals, each terminal's blocks in order) at
fractions of that capacity, and each block's latency counts from when it was due, so a queue at HQ shows. Target:
p95 <= 200 ms at half the capacity. Draws p95 against offered load as docs/performance-latency.png (BENCH_CHART=0
to skip). Run: .venv/bin/pytest tests/bench/test_bench_latency.py -s
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from pathlib import Path

import httpx

from tests.bench import test_bench_hq
from tests.hqkit import prepare_hq_database, running_hq
from tests.pg import PgServer

ROOT = Path(__file__).resolve().parents[2]
LEVELS = (0.25, 0.5, 0.75, 0.9, 1.0)
LEVEL_S = float(os.environ.get("BENCH_LEVEL_S", "12"))
CLOSED_BLOCKS = 4  # per terminal


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * (len(ordered) - 1)))] * 1000


async def _send(client: httpx.AsyncClient, terminal_id: str, body: bytes) -> None:
    answer = await client.post(f"/api/v1/terminals/{terminal_id}/blocks", content=body,
                               headers={"content-type": "application/json"})
    assert answer.status_code == 200 and answer.json()["results"][0]["status"] == "accepted", answer.text[:300]


async def _closed(client: httpx.AsyncClient, queues: list[tuple[str, list[bytes]]],
                  n: int) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def one(terminal_id: str, bodies: list[bytes]) -> None:
        for _ in range(n):
            body = bodies.pop(0)
            t0 = time.perf_counter()
            await _send(client, terminal_id, body)
            latencies.append(time.perf_counter() - t0)

    began = time.perf_counter()
    await asyncio.gather(*(one(t, b) for t, b in queues))
    return len(latencies) / (time.perf_counter() - began), latencies


async def _open(client: httpx.AsyncClient, queues: list[tuple[str, list[bytes]]], rate: float,
                seconds: float, rng: random.Random) -> list[float]:
    """Blocks due at Poisson times at `rate` a second, dealt to the terminals in turn; a terminal sends its blocks
    in order, so a block due while its terminal's previous one is in flight waits (and that wait counts)."""
    latencies: list[float] = []
    locks = [asyncio.Lock() for _ in queues]

    async def due(index: int, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        terminal_id, bodies = queues[index]
        async with locks[index]:
            await _send(client, terminal_id, bodies.pop(0))
        latencies.append(time.perf_counter() - at)

    start = time.perf_counter() + 0.2
    at, tasks, n = start, [], 0
    while at < start + seconds:
        tasks.append(asyncio.create_task(due(n % len(queues), at)))
        n += 1
        at += rng.expovariate(rate)
    await asyncio.gather(*tasks)
    return latencies


def _chart(points: list[tuple[float, float]], capacity: float, path: Path) -> None:
    from PIL import Image, ImageDraw

    w, h, left, bottom, top, right = 760, 420, 70, 50, 30, 20
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    y_max = max(400.0, max(p for _, p in points) * 1.1)
    x_max = max(x for x, _ in points) * 1.05

    def xy(x: float, y: float) -> tuple[float, float]:
        return left + x / x_max * (w - left - right), h - bottom - min(y, y_max) / y_max * (h - bottom - top)

    d.line([xy(0, 0), xy(x_max, 0)], fill="black")
    d.line([xy(0, 0), xy(0, y_max)], fill="black")
    for step in range(0, int(y_max) + 1, 100 if y_max <= 1000 else 250):
        d.line([xy(0, step), xy(x_max, step)], fill=(230, 230, 230))
        d.text((8, xy(0, step)[1] - 6), f"{step} ms", fill="black")
    d.line([xy(0, 200), xy(x_max, 200)], fill=(200, 60, 40), width=2)
    d.text((xy(0, 200)[0] + 6, xy(0, 200)[1] - 16), "target p95 200 ms", fill=(200, 60, 40))
    d.line([xy(capacity / 2, 0), xy(capacity / 2, y_max)], fill=(120, 120, 220))
    d.text((xy(capacity / 2, 0)[0] + 4, top), "half capacity", fill=(120, 120, 220))
    d.line([xy(x, y) for x, y in points], fill=(30, 30, 30), width=3)
    for x, _ in points:
        tx, ty = xy(x, 0)
        d.line([(tx, ty), (tx, ty + 5)], fill="black")
        d.text((tx - 10, ty + 8), f"{x:.1f}", fill="black")
    for x, y in points:
        cx, cy = xy(x, y)
        d.ellipse([cx - 4, cy - 4, cx + 4, cy + 4], fill=(30, 30, 30))
        d.text((cx + 6, cy - 14), f"{y:.0f}", fill="black")
    d.text((left, h - 16), f"offered load, blocks of 500 records a second (closed-loop capacity {capacity:.1f})",
           fill="black")
    d.text((left, 8), "HQ per-block p95 latency against offered load (open loop, serve --workers 2)", fill="black")
    img.save(path, optimize=True)


def test_bench_open_loop_latency(tmp_path: Path, pg_server: PgServer) -> None:
    name = f"bench_latency_{uuid.uuid4().hex[:6]}"
    db = pg_server.create_database(name)
    try:
        prepare_hq_database(db)
        with running_hq(db, tmp_path, workers=2, extra_env={"HOTPOT_HQ_PUBLIC_RATE": "100000",
                                                            "HOTPOT_HQ_POOL_MAX": "12"}) as hq:
            def prepare(blocks_each: int) -> list[tuple[str, list[bytes]]]:
                """Fresh terminals with their blocks sealed before the clock starts (each level gets its own)."""
                test_bench_hq.BLOCKS_EACH = blocks_each
                return [(t, list(b)) for t, b in test_bench_hq._prepare(hq.url, db)]

            async def run() -> tuple[float, list[float], list[tuple[float, float, float, int]]]:
                limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
                async with httpx.AsyncClient(base_url=hq.url, timeout=120, limits=limits) as client:
                    capacity, closed = await _closed(client, await asyncio.to_thread(prepare, CLOSED_BLOCKS),
                                                     CLOSED_BLOCKS)
                    rows = []
                    rng = random.Random(11)
                    for level in LEVELS:
                        rate = capacity * level
                        queues = await asyncio.to_thread(prepare, int(rate * LEVEL_S * 1.5 /
                                                                      test_bench_hq.TERMINALS) + 3)
                        lat = await _open(client, queues, rate, LEVEL_S, rng)
                        rows.append((level, _pct(lat, 50), _pct(lat, 95), len(lat)))
                    return capacity, closed, rows

            capacity, closed, rows = asyncio.run(run())
        print(f"[bench latency] closed loop, 20 terminals back to back: {capacity:.1f} blocks/s = "
              f"{capacity * 500:,.0f} records/s; p50 {_pct(closed, 50):.0f} ms, p95 {_pct(closed, 95):.0f} ms")
        print(f"[bench latency] {'offered':>8} {'blocks/s':>9} {'records/s':>10} {'blocks':>7} {'p50 ms':>7} "
              f"{'p95 ms':>7}")
        for level, p50, p95, n in rows:
            print(f"[bench latency] {level:>7.0%} {capacity * level:>9.1f} {capacity * level * 500:>10,.0f} "
                  f"{n:>7} {p50:>7.0f} {p95:>7.0f}")
        half = next(p95 for level, _, p95, _ in rows if level == 0.5)
        print(f"[bench latency] p95 at half capacity: {half:.0f} ms (target <= 200 ms)")
        if os.environ.get("BENCH_CHART", "1") != "0":
            _chart([(capacity * level, p95) for level, _, p95, _ in rows], capacity,
                   ROOT / "docs" / "performance-latency.png")
            print("[bench latency] chart: docs/performance-latency.png")
    finally:
        pg_server.drop_database(name)
