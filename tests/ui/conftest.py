"""Fixtures of the Dagster UI browser test.

- ``browser``: Debian's Chromium (``/usr/bin/chromium``, ``apt-get install -y chromium``) driven by Playwright;
  Playwright's own browser download is never used. Missing or unlaunchable Chromium skips the module (before
  anything expensive runs), with the reason.
- ``ui_platform``: a small platform — ``python -m simulator --days 3 --accounts 40 …`` — run through the Dagster
  jobs by ``python -m orchestration.demo`` (ingest job per business date, ``daily_metrics`` over the range, the
  monthly job), against a temp ``DAGSTER_HOME`` (a copy of ``dagster_home/dagster.yaml``) and temp
  ``MARGINFLOW_*`` folders. It runs in a subprocess: the jobs execute in-process there, and this pytest
  process keeps its environment (the code location reads its paths when it is imported).
- ``dagster_ui``: ``dagster dev -w workspace.yaml`` on 127.0.0.1 and a free port with the same environment;
  ready when ``/server_info`` answers and the code location has loaded; its process group (webserver,
  daemon, code server) is stopped at the end.
- ``page``: a fresh browser page per test; a screenshot ``FAILED_<test>.png`` is kept when a test fails.

Screenshots go to ``tests/artifacts/ui/`` (git-ignored). ``MARGINFLOW_UPDATE_DOCS_IMG=1`` also refreshes the
README's images in ``docs/img/``.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts" / "ui"
DOCS_IMG = REPO / "docs" / "img"

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/lib/chromium/chromium")
# Root in a container needs --no-sandbox; the background-networking/component/sync flags keep Chromium
# from calling home on a closed network (it floods it with retries otherwise); the UI is on loopback only.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--no-proxy-server",
]
# Small and quick, yet every feed, gate, mart and report is there (the monthly job's reports included).
SIMULATOR_ARGS = ["--days", "3", "--accounts", "40", "--providers", "5", "--instruments", "15",
                  "--fills-per-day", "400", "--quiet"]
VIEWPORT = {"width": 1600, "height": 1000}
UI_TIMEOUT_MS = 45_000      # one wait for a selector or text; the pages themselves answer in ~1-3 s
SERVER_START_S = 180        # dagster dev: webserver up and code location loaded (dbt manifest, GX, …)
BUILD_TIMEOUT_S = 900

# loopback only: never through an http(s)_proxy of the environment
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Platform:
    root: Path
    env: dict[str, str]
    days: list[str]
    trades_rows: int                 # raw.trades rows of the last business date
    utilization: dict[str, float]    # marts.fct_utilization_daily on the last business date
    report: Path | None              # the regulatory report PDF, when the monthly run published it

    @property
    def last_day(self) -> str:
        return self.days[-1]


def chromium_executable() -> str | None:
    override = os.environ.get("MARGINFLOW_CHROMIUM")
    for candidate in ([override] if override else [*CHROMIUM_CANDIDATES, shutil.which("chromium")]):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: `pip install -e '.[dev]'` (make test does it)")
    exe = chromium_executable()
    if exe is None:
        pytest.skip("Dagster UI browser test skipped: Chromium not found at /usr/bin/chromium — install Debian's "
                    "Chromium as root with `apt-get install -y chromium` (.ci/run does), or point "
                    "MARGINFLOW_CHROMIUM at a Chromium binary; Playwright's own browser download is not used")
    pw = sync_api.sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True, timeout=60_000)
    except Exception as exc:  # noqa: BLE001 - any launch failure is an environment problem: say which
        pw.stop()
        lines = [line.strip() for line in str(exc).splitlines() if line.strip() and "<launching>" not in line]
        reason = " | ".join(lines[:1] + lines[-5:])[:700]
        pytest.skip(f"Dagster UI browser test skipped: Chromium at {exe} could not be launched: {reason}")
    yield browser
    browser.close()
    pw.stop()


def platform_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARGINFLOW_")}
    env.update({
        "DAGSTER_HOME": str(root / "dagster_home"),
        "MARGINFLOW_LANDING": str(root / "landing"),
        "MARGINFLOW_WAREHOUSE": str(root / "warehouse.duckdb"),
        "MARGINFLOW_LAKE": str(root / "lake"),
        "MARGINFLOW_REPORTS": str(root / "reports"),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
        "PYTHONUNBUFFERED": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    })
    return env


def _run_logged(cmd: list[str], env: dict[str, str], log: Path, timeout: float) -> tuple[int, str]:
    with open(log, "w", encoding="utf-8") as fh:
        proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout)
    return proc.returncode, log.read_text(encoding="utf-8", errors="replace")


def _tail(text: str, n: int = 4000) -> str:
    return text[-n:]


@pytest.fixture(scope="module")
def ui_platform(browser, tmp_path_factory) -> Platform:
    """The sample platform materialised in a temp Dagster instance. (``browser`` is requested first so that a
    machine without Chromium skips before the ~1-2 minutes of building.)"""
    from assets.metrics.project import dbt_project

    if not dbt_project.manifest_path.exists():
        pytest.fail(f"{dbt_project.manifest_path} missing: run `make dbt-parse` (make test does) before the UI test")
    root = tmp_path_factory.mktemp("ui_platform")
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    # what the UI's "Join the Dagster community" dialog writes once dismissed: no modal over the pages
    (home / ".nux").mkdir()
    (home / ".nux" / "nux.yaml").write_text("seen: 1\n", encoding="utf-8")
    env = platform_env(root)

    rc, out = _run_logged([sys.executable, "-m", "simulator", *SIMULATOR_ARGS, "--out", str(root / "landing")],
                          env, root / "simulator.log", 300)
    assert rc == 0, f"simulator failed:\n{_tail(out)}"
    rc, out = _run_logged([sys.executable, "-m", "orchestration.demo"], env, root / "demo.log", BUILD_TIMEOUT_S)
    # a partial month may fail the monthly publication gate: the days are there, the report is not
    if rc != 0 and "the monthly run for" not in out:
        pytest.fail(f"`python -m orchestration.demo` failed (rc={rc}) for the UI platform:\n{_tail(out)}")

    import duckdb

    days = sorted(p.name for p in (root / "landing").iterdir() if p.is_dir() and p.name[:2] == "20")
    last = days[-1]
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        trades_rows = con.execute("select count(*) from raw.trades where _business_date = cast(? as date)",
                                  [last]).fetchone()[0]
        util = con.execute("select utilization, total_loans, total_capital from marts.fct_utilization_daily "
                           "where business_date = cast(? as date)", [last]).fetchone()
    assert trades_rows > 0 and util is not None, "the platform has no trades or no utilization on its last date"
    report = root / "reports" / last[:7] / f"regulatory_report_{last[:7]}.pdf"
    return Platform(root=root, env=env, days=days, trades_rows=trades_rows,
                    utilization={"utilization": float(util[0]), "total_loans": float(util[1]),
                                 "total_capital": float(util[2])},
                    report=report if report.exists() else None)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, data: bytes | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    with _LOCAL.open(req, timeout=10) as resp:
        return resp.status, resp.read()


LOCATIONS_QUERY = json.dumps({"query": """{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""}).encode()


def wait_until_ready(proc: subprocess.Popen, base: str, log: Path) -> None:
    """Poll until the webserver answers /server_info and every code location has loaded (or failed: say why)."""
    deadline = time.monotonic() + SERVER_START_S

    def check_alive(what: str) -> None:
        if proc.poll() is not None:
            pytest.fail(f"dagster dev exited (rc={proc.returncode}) {what}:\n{_tail(log.read_text(errors='replace'))}")
        if time.monotonic() > deadline:
            pytest.fail(f"dagster dev: {what} not done after {SERVER_START_S} s:\n"
                        f"{_tail(log.read_text(errors='replace'))}")

    while True:
        try:
            if _get(base + "/server_info")[0] == 200:
                break
        except (urllib.error.URLError, OSError):
            pass
        check_alive("before the webserver answered")
        time.sleep(0.5)
    while True:
        try:
            status, body = _get(base + "/graphql", LOCATIONS_QUERY)
            entries = json.loads(body)["data"]["workspaceOrError"].get("locationEntries") or []
        except (urllib.error.URLError, OSError, KeyError, ValueError, TypeError):
            entries = []
        if entries and all(e["loadStatus"] == "LOADED" for e in entries):
            errors = [f"{e['name']}: {e['locationOrLoadError'].get('message', '')}" for e in entries
                      if (e["locationOrLoadError"] or {}).get("__typename") == "PythonError"]
            if errors:
                pytest.fail("the code location failed to load in dagster dev:\n" + "\n".join(errors)[-4000:])
            return
        check_alive("before the code location loaded")
        time.sleep(0.5)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def stop_process_group(proc: subprocess.Popen, grace_s: float = 30) -> None:
    """Stop `dagster dev` and everything it started (its own process group: webserver, daemon, code server)."""
    pgid = proc.pid  # start_new_session: the leader's pid is the group id
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # dagster dev maps SIGTERM to its KeyboardInterrupt shutdown
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            pass
    deadline = time.monotonic() + 10
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _group_alive(pgid):
        os.killpg(pgid, signal.SIGKILL)
    if proc.poll() is None:
        proc.wait(10)


def _default_sigint() -> None:
    # A shell's background job inherits SIGINT ignored, and dagster dev maps SIGTERM to the SIGINT handler:
    # restore the default so SIGTERM shuts it down.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def dagster_ui(ui_platform: Platform):
    """Base URL of `dagster dev -w workspace.yaml` serving the platform's instance."""
    port = free_port()
    log = ui_platform.root / "dagster_dev.log"
    with open(log, "w", encoding="utf-8") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-w", str(REPO / "workspace.yaml"),
             "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO, env=ui_platform.env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_default_sigint)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(proc, base, log)
        yield base
    finally:
        stop_process_group(proc)


@pytest.fixture(scope="module", autouse=True)
def _artifacts_dir():
    """tests/artifacts/ui/, without the failure screenshots of an earlier run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("FAILED_*.png"):
        old.unlink()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def page(browser, request):
    from playwright.sync_api import expect

    expect.set_options(timeout=UI_TIMEOUT_MS)
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(UI_TIMEOUT_MS)
    pg = context.new_page()
    # the nux file in DAGSTER_HOME keeps it away; should the dialog still come, dismiss it as a user would
    pg.add_locator_handler(pg.get_by_text("Join the Dagster community"),
                           lambda _: pg.get_by_role("button", name="Skip").click())
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            pg.screenshot(path=str(ARTIFACTS / f"FAILED_{request.node.name}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - a failed screenshot must not hide the test's own failure
            pass
    context.close()


def save_screenshot(pg, name: str, docs_name: str | None = None, **kwargs) -> Path:
    """Save ``tests/artifacts/ui/<name>.png``; with MARGINFLOW_UPDATE_DOCS_IMG=1 also ``docs/img/<docs_name>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), **kwargs)
    if docs_name and os.environ.get("MARGINFLOW_UPDATE_DOCS_IMG") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_IMG / f"{docs_name}.png")
    return path
