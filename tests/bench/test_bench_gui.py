"""Benchmarks of the counter app (issue 6). Targets: cold start to the PIN screen <= 2 s; GUI event-loop stall
p99 <= 50 ms (a 10 ms timer probe) while 1,000 sales are sealed and pushed to a real HQ in the background; adding an
item to the cart <= 16 ms. Prints its figures.
Run: make bench  (or: .venv/bin/pytest tests/bench/test_bench_gui.py -s)
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sync.hq.cli import enroll_code
from terminal.cameras import Cameras
from terminal.core.orders import Tender
from terminal.gui.app import make_app
from terminal.gui.mainwindow import MainWindow
from terminal.gui.qt import QApplication, QElapsedTimer, QTimer
from terminal.setup import create_terminal
from terminal.store import repos
from terminal.syncing import enroll
from tests.bench.stall import StallProbe
from tests.conftest import TEST_PASSPHRASE
from tests.gui.helpers import dispose
from tests.hqkit import prepare_hq_database, running_hq
from tests.pg import PgServer

ROOT = Path(__file__).resolve().parents[2]
ITEMS = ["udon", "tofu", "greens", "borjomi", "beef-slices", "jasmine-tea", "fish-balls", "glass-noodles"]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def test_bench_cold_start_to_pin_screen(tmp_path: Path) -> None:
    data = tmp_path / "term"
    term, _ = create_terminal(data, franchise="Bench", terminal_name="C1", demo=True, passphrase=TEST_PASSPHRASE)
    term.close()
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base.update(QT_QPA_PLATFORM="offscreen", HOTPOT_GUI_EXIT_AFTER_START="1")

    def starts(env: dict[str, str], runs: int = 6) -> list[float]:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "terminal", "--data-dir", str(data), "gui"], env=env,
                                  capture_output=True, text=True, timeout=60, cwd=ROOT)
            assert "gui-ready" in proc.stdout, proc.stderr
            times.append(time.perf_counter() - start)
        return times

    # As installed: the package ships compiled bytecode (PyInstaller bundles .pyc), so the code is compiled once;
    # here into a cache of this run's own (the first run writes it and is discarded).
    times = starts({**base, "PYTHONPYCACHEPREFIX": str(tmp_path / "pycache")})
    # For comparison, every module of ours compiled from source at each start (PYTHONDONTWRITEBYTECODE=1, as this
    # machine's environment sets it).
    uncached = starts({**base, "PYTHONDONTWRITEBYTECODE": "1"}, runs=3)
    py = []
    for _ in range(3):  # the floor: starting this Python with nothing imported
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        py.append(time.perf_counter() - start)
    print(f"\n[bench gui] cold start to the PIN screen (process spawn to the screen shown, first run discarded): "
          f"median {pct(times[1:], 50):.2f} s, max {max(times[1:]):.2f} s, first {times[0]:.2f} s (target <= 1 s); "
          f"compiling every module from source each time: median {pct(uncached, 50):.2f} s; "
          f"bare python start {min(py):.3f} s")
    assert times


def test_bench_add_item_to_cart(qtbot: Any, tmp_path: Path) -> None:
    make_app()
    win = MainWindow(tmp_path / "term", demo=True)
    win.resize(1280, 800)
    win.show()
    win.start()
    try:
        qtbot.waitUntil(lambda: win.session is not None, timeout=20_000)
        session = win.session
        session.login("Giorgi", "3333")
        session.term.store.conn.execute("UPDATE stock SET available = 1000000")
        session.term.open_shift(session.user, 0)
        win.go("sell")
        sell = win.sell
        sell.reload_menu()
        ids = [i for i in sell.item_buttons  # a tap on an item with a required choice opens its Options dialog
               if not any(g["min"] for g in sell.menu[i].modifiers)]
        QApplication.processEvents()
        times = []
        timer = QElapsedTimer()
        for i in range(400):
            if i % 40 == 0:
                sell.clear()
            button = sell.item_buttons[ids[i % len(ids)]]
            timer.start()
            button.click()  # the button's slot: cart, table, totals
            QApplication.processEvents()  # and the repaint it causes
            times.append(timer.nsecsElapsed() / 1e6)
        print(f"\n[bench gui] add an item to the cart (click -> cart, table, total repainted), {len(times)} adds, "
              f"carts up to 23 lines: p50 {pct(times, 50):.2f} ms, p99 {pct(times, 99):.2f} ms, "
              f"max {max(times):.2f} ms (target <= 16 ms)")
    finally:
        dispose(win)


def test_bench_add_a_line_with_a_modifier(qtbot: Any, tmp_path: Path) -> None:
    """A line with options (the spice level of a broth, a filling, noodle extras) added as the Options dialog's OK
    does: priced by the shared rule, its label built, the cart, table and totals repainted."""
    make_app()
    win = MainWindow(tmp_path / "term", demo=True)
    win.resize(1280, 800)
    win.show()
    win.start()
    try:
        qtbot.waitUntil(lambda: win.session is not None, timeout=20_000)
        session = win.session
        session.login("Giorgi", "3333")
        session.term.store.conn.execute("UPDATE stock SET available = 1000000")
        session.term.open_shift(session.user, 0)
        win.go("sell")
        sell = win.sell
        sell.reload_menu()
        picks = [("broth-tomato", (("spice", "hot"),)), ("dumplings", (("filling", "cheese"),)),
                 ("udon", (("extras", "egg"), ("extras", "double"))), ("glass-noodles", (("extras", "egg"),)),
                 ("broth-tomato", (("spice", "mild"),)), ("dumplings", (("filling", "mushroom"),))]
        QApplication.processEvents()
        times = []
        timer = QElapsedTimer()
        for i in range(400):
            if i % 40 == 0:
                sell.clear()
            item_id, options = picks[i % len(picks)]
            timer.start()
            sell.add_item(item_id, options)
            QApplication.processEvents()
            times.append(timer.nsecsElapsed() / 1e6)
        assert any(line.options for line in sell.cart.lines)
        print(f"\n[bench gui] add a line with a modifier (options priced, label, cart, table, total repainted), "
              f"{len(times)} adds: p50 {pct(times, 50):.2f} ms, p99 {pct(times, 99):.2f} ms, "
              f"max {max(times):.2f} ms (target p99 <= 16 ms)")
    finally:
        dispose(win)


def _sell_in_another_process(data: Path, count: int) -> subprocess.Popen[str]:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from terminal.core.orders import Tender\n"
        "from terminal.services import Terminal\n"
        "from terminal.store import repos\n"
        "term = Terminal.open(Path(sys.argv[1]))\n"
        "user = repos.get_user(term.store, 'Giorgi')\n"
        f"items = {ITEMS!r}\n"
        "for i in range(int(sys.argv[2])):\n"
        "    term.sell(user, [(items[i % 8], 1), (items[(i + 3) % 8], 2)], [Tender('cash')])\n"
        "term.close()\n"
        "print('sold', flush=True)\n"
    )
    return subprocess.Popen([sys.executable, "-c", code, str(data), str(count)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_bench_event_loop_while_sealing_and_pushing(qtbot: Any, tmp_path: Path, pg_server: PgServer) -> None:
    name = f"bench_gui_{uuid.uuid4().hex[:6]}"
    db = pg_server.create_database(name)
    try:
        prepare_hq_database(db)
        with running_hq(db, tmp_path / "hq", workers=2, extra_env={"HOTPOT_HQ_PUBLIC_RATE": "1000"}) as hq:
            data = tmp_path / "term"
            term, _ = create_terminal(data, franchise="Bench", terminal_name="C1", demo=True,
                                      passphrase=TEST_PASSPHRASE)
            enroll(term, term.unlock(TEST_PASSPHRASE), hq.url, enroll_code(db, "Bench", "C1", "Main", "franchise"))
            term.store.conn.execute("UPDATE stock SET available = 1000000")  # HQ's menu came with its stock
            term.open_shift(repos.get_user(term.store, "Giorgi"), 0)  # type: ignore[arg-type]
            term.sell(repos.get_user(term.store, "Giorgi"), [("udon", 1)], [Tender("cash")])  # type: ignore[arg-type]
            cameras = Cameras(data)  # the demo's two cameras record all the while, as at a real counter
            cameras.install_demo(term.owner())
            cameras.close()
            term.close()

            make_app()
            win = MainWindow(data)  # unlocks with HOTPOT_PASSPHRASE and starts the background sync
            win.resize(1280, 800)
            win.show()
            win.start()
            try:
                qtbot.waitUntil(lambda: win.session.sync is not None, timeout=20_000)
                assert win.cameras.hub is not None and win.cameras.hub.wait_live(10)
                win.session.login("Giorgi", "3333")
                win.go("sell")
                probe = StallProbe()
                gaps = probe.gaps
                probe.start()
                ui_work = QTimer()  # the cashier keeps ringing items up meanwhile
                ui_work.setInterval(100)
                ui_work.timeout.connect(lambda: win.sell.add_item(ITEMS[len(gaps) % 8]))
                ui_work.start()
                seller = _sell_in_another_process(data, 1_000)
                sold = threading.Event()
                threading.Thread(target=lambda: (seller.wait(), sold.set()), daemon=True).start()
                start = time.perf_counter()
                qtbot.waitUntil(sold.is_set, timeout=120_000)
                sold_s = time.perf_counter() - start
                assert seller.returncode == 0, seller.stderr.read() if seller.stderr else ""

                def drained() -> bool:
                    status = win.status.status
                    win.status.refresh()
                    return bool(status) and status["pending_records"] == 0 and status["sales"] >= 1_001

                qtbot.waitUntil(drained, timeout=120_000)
                total_s = time.perf_counter() - start
                stalls = probe.stop()
                ui_work.stop()
                cams = ", ".join(f"{s.camera_id} {s.fps:.0f} fps {s.dropped} dropped"
                                 for s in win.cameras.hub.statuses())
                print(f"\n[bench gui] 1,000 sales sold by another process in {sold_s:.1f} s, sealed and acknowledged "
                      f"by HQ {total_s:.1f} s after the start, while the GUI sold too and 2 cameras recorded "
                      f"({cams}); {len(gaps)} probes of 10 ms: "
                      f"stall p50 {pct(stalls, 50):.1f} ms, p99 {pct(stalls, 99):.1f} ms, max {max(stalls):.1f} ms "
                      f"(target p99 <= 50 ms)")
            finally:
                dispose(win)
    finally:
        pg_server.drop_database(name)
