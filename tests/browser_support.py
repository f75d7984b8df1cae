"""Helpers for browser tests of the solara page (no tests in here).

What: start ``solara run`` on 127.0.0.1 as a subprocess (``serve_solara``),
launch Debian's chromium through python-playwright (``launch_chromium``) and
keep the page offline (``block_external``).

Why: the real page must work on machines with no internet. Playwright's own
browser download (``playwright install``) fails here, so we drive
``/usr/bin/chromium``; solara's JS/CSS come from its CDN cache, which
``runs.page.assets.ensure_assets`` fills (call it from a session fixture and
pass ``assets_env(cache_dir)`` to ``serve_solara``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator, Mapping

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
CHROMIUM_SKIP_REASON = (
    f"{CHROMIUM} not found: install Debian's chromium with `apt-get install -y chromium` "
    "(do not run `playwright install`, it downloads a browser and fails offline)")

# Console warnings seen on a working offline SolaraViz page (solara 1.64.1, mesa 3.5.1,
# altair 6): ipyvue's fallback for old-style Vue templates, and vega-embed noting that
# altair 6 writes Vega-Lite v6 specs while solara's widget loads vega-lite@5 (the chart
# renders). There were no console errors, no 4xx/5xx and no favicon 404.
BENIGN_CONSOLE = (
    "Failed to evaluate Vue script and find module.exports",
    "The input spec uses Vega-Lite v6",
)


def unexpected_console(messages) -> list[str]:
    """Filter playwright ConsoleMessages to errors/warnings not in BENIGN_CONSOLE."""
    return [f"{m.type}: {m.text}" for m in messages if m.type in ("error", "warning")
            and not any(b in m.text for b in BENIGN_CONSOLE)]


def chromium_available() -> bool:
    """True if Debian's chromium and python-playwright are both installed."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return os.access(CHROMIUM, os.X_OK)


def launch_chromium(playwright, extra_args: tuple[str, ...] = (), **kwargs):
    """Launch headless /usr/bin/chromium with flags that work in containers, offline (plus ``extra_args``,
    e.g. ``--js-flags=--expose-gc`` to measure the heap after a collection)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args], headless=True, **kwargs)


def block_external(context_or_page) -> list[str]:
    """Abort every request not to 127.0.0.1/localhost; return the list of blocked URLs.

    Simulates a machine without internet, so a passing page proves the
    assets came from the local solara CDN cache.
    """
    blocked: list[str] = []

    def handle(route):
        url = route.request.url
        host = url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        if url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost", "[::1]"):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context_or_page.route("**/*", handle)
    return blocked


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assets_env(cache_dir: Path | str) -> dict[str, str]:
    """Environment that points the solara server at ``cache_dir`` for its CDN cache."""
    return {"SOLARA_ASSETS_PROXY_CACHE_DIR": str(cache_dir)}


def _get_status(url: str) -> int | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with opener.open(url, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError):
        return None


@contextlib.contextmanager
def serve_solara(app: str, port: int, env: Mapping[str, str] | None = None, timeout: float = 60,
                 *, production: bool = True, cwd: str | Path | None = None) -> Iterator[str]:
    """Run ``solara run APP`` on 127.0.0.1:PORT; yield its URL once it answers 200.

    APP is a file path or a module name (``pkg.module`` or ``pkg.module:Page``),
    as ``solara run`` accepts. ``--production`` drops the dev-mode iframe to
    solara.dev and serves minified JS; ``--no-open`` and ``--no-check-version``
    keep it from opening a browser or asking PyPI (that check blocks startup).
    Telemetry is off, the CDN proxy forced on. The server's output goes to a temp log whose tail is in
    the error if it exits or does not answer within ``timeout`` seconds. On
    exit the whole process group is terminated (then killed after 10 s).
    """
    cmd = [sys.executable, "-m", "solara", "run", str(app), "--host", "127.0.0.1",
           "--port", str(port), "--no-open", "--no-check-version"]
    if production:
        cmd.append("--production")
    # SOLARA_ASSETS_PROXY: solara turns its CDN proxy off when it sees VSCODE_PID/VSCODE_CWD
    # (a VS Code terminal); then the browser would ask jsdelivr directly, offline it fails.
    full_env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
                "SOLARA_ASSETS_PROXY": "True", **(env or {})}
    logdir = tempfile.mkdtemp(prefix="solara-run-")
    log_path = Path(logdir) / "server.log"
    url = f"http://127.0.0.1:{port}/"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=full_env,
                                cwd=cwd, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout

        def tail() -> str:
            return log_path.read_text(errors="replace")[-3000:]

        while (status := _get_status(url)) != 200:
            if proc.poll() is not None:
                raise RuntimeError(f"solara run exited with {proc.returncode}:\n{tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} gave {status} after {timeout} s:\n{tail()}")
            time.sleep(0.25)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(logdir, ignore_errors=True)
