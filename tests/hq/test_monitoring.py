"""Monitoring as code (packaging/monitoring): the alert rules pass `promtool check rules` and their unit tests
(`promtool test rules`), the Prometheus config `promtool check config`, the Alertmanager config `amtool
check-config`; and Debian's Prometheus, scraping a real HQ that a real terminal syncs with, evaluates every query of
both Grafana dashboards without an error, with the fleet's series (the terminal's last contact and the backlog it
reported) and the sales counter holding what happened."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from terminal.syncing import SyncService
from tests.hq.conftest import Till
from tests.hq.test_claims import _sell
from tests.hqkit import HQServer, free_port

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "packaging" / "monitoring"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
AMTOOL = shutil.which("amtool") or "/usr/bin/amtool"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def _run(*args: str, cwd: Path = MONITORING) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120, cwd=cwd)


def test_rules_config_and_alertmanager_check_and_the_rules_unit_tests_pass(tmp_path: Path) -> None:
    checked = _run(PROMTOOL, "check", "rules", "hotpot-hq-rules.yml")
    assert checked.returncode == 0 and "SUCCESS: 12 rules found" in checked.stdout, checked.stdout + checked.stderr
    tested = _run(PROMTOOL, "test", "rules", "hotpot-hq-rules.test.yml")
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr
    # The config names the rules where the package installs them; check it against this checkout's copy.
    config = (MONITORING / "prometheus.yml").read_text().replace("/etc/prometheus/hotpot-hq-rules.yml",
                                                                 str(MONITORING / "hotpot-hq-rules.yml"))
    (tmp_path / "prometheus.yml").write_text(config)
    checked = _run(PROMTOOL, "check", "config", str(tmp_path / "prometheus.yml"))
    assert checked.returncode == 0 and "is valid prometheus config file syntax" in checked.stdout, checked.stdout
    am = _run(AMTOOL, "check-config", "alertmanager.yml")
    assert am.returncode == 0 and "SUCCESS" in am.stdout, am.stdout + am.stderr


def test_a_broken_rule_is_caught_by_its_unit_test(tmp_path: Path) -> None:
    """The unit tests can fail: the 5 % alert with its threshold moved to 50 % no longer fires when it should."""
    for name in ("hotpot-hq-rules.yml", "hotpot-hq-rules.test.yml"):
        shutil.copy(MONITORING / name, tmp_path / name)
    rules = (tmp_path / "hotpot-hq-rules.yml").read_text()
    assert "> 0.05" in rules
    (tmp_path / "hotpot-hq-rules.yml").write_text(rules.replace("> 0.05", "> 0.5"))
    tested = _run(PROMTOOL, "test", "rules", "hotpot-hq-rules.test.yml", cwd=tmp_path)
    assert tested.returncode != 0 and "HotpotHQServerErrorsHigh" in tested.stdout + tested.stderr


def _dashboard_queries() -> list[tuple[str, str, str]]:
    out = []
    for path in sorted((MONITORING / "grafana" / "dashboards").glob("*.json")):
        board = json.loads(path.read_text())
        assert board["uid"] and board["panels"]
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == "prometheus"
            for target in panel["targets"]:
                out.append((path.name, panel["title"], target["expr"]))
    return out


@pytest.fixture
def prometheus(hq: HQServer, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    target = hq.url.removeprefix("http://")
    (tmp_path / "prometheus.yml").write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: ["{MONITORING / 'hotpot-hq-rules.yml'}"]
scrape_configs:
  - job_name: hotpot-hq
    static_configs: [{{targets: ["{target}"]}}]
""")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                if requests.get(f"http://127.0.0.1:{port}/-/ready", timeout=2).status_code == 200:
                    break
            except (OSError, requests.RequestException):
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "prometheus did not start"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _query(prom: str, expr: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert answer["status"] == "success", (expr, answer)
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


def _wait_for(prom: str, expr: str, ok: Callable[[list[dict[str, Any]]], bool], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = _query(prom, expr)
        if ok(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_prometheus_scrapes_hq_and_every_dashboard_query_evaluates(make_till: Callable[..., Till], hq: HQServer,
                                                                   prometheus: str) -> None:
    till = make_till()
    _sell(till, 3)
    service = SyncService(till.term.data_dir, till.wallet)
    try:
        assert service.run_once().ok  # pushed: the backlog it reports after the push is 0
        _sell(till, 2)  # two sales (four records) wait on the till; a pull tells HQ so
        service._pull_job()
    finally:
        service.stop()
    metrics = requests.get(f"{hq.url}/metrics", timeout=10).text
    assert f'hotpot_hq_terminal_backlog_records{{franchise="Vake",terminal="{till.id}"}} 4.0' in metrics, metrics
    assert "hotpot_hq_database_ready 1.0" in metrics

    up = _wait_for(prometheus, 'up{job="hotpot-hq"}', lambda r: bool(r) and r[0]["value"][1] == "1")
    assert up and up[0]["value"][1] == "1"
    backlog = _wait_for(prometheus, f'hotpot_hq_terminal_backlog_records{{terminal="{till.id}"}}', bool)
    assert backlog and backlog[0]["value"][1] == "4"
    sales = _wait_for(prometheus, "sum(hotpot_hq_sales_ingested_total)", lambda r: bool(r) and
                      float(r[0]["value"][1]) >= 3)
    assert float(sales[0]["value"][1]) >= 3
    online = _query(prometheus, 'hotpot_hq_terminals{state="online"}')
    assert online and float(online[0]["value"][1]) >= 1
    queries = _dashboard_queries()
    assert len(queries) >= 20
    for board, title, expr in queries:
        _query(prometheus, expr)  # every panel's query is valid PromQL over these series
        assert board and title
    # A terminal heard from a moment ago is not silent: the rule's own expression is empty for it.
    assert not _query(prometheus, f'time() - hotpot_hq_terminal_last_seen_timestamp_seconds{{terminal="{till.id}"}} '
                                  "> 15 * 60")
