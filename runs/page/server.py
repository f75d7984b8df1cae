"""Serving the page (``runs/page/app.py``) with ``solara run`` on 127.0.0.1, for ``tokenmarket viz``.

Before starting the server, :func:`prepare_assets` makes sure solara's front-end assets are in its local cache
(:func:`runs.page.assets.ensure_assets`), so the page works without internet; if npm is missing it says so and
the server starts anyway (with internet it fetches the assets itself). :func:`serve` runs the server in its own
process group and takes the whole group down when stopped, so no orphaned server keeps the port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

APP = "runs.page.app"
HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class PortError(ValueError):
    """The port is outside 1-65535 or already in use on :data:`HOST`."""


def solara_command(port: int, *, open_browser: bool = True) -> list[str]:
    """The ``solara run`` command line for the page: production mode (no dev iframe to solara.dev), no PyPI
    version check (it blocks start-up offline)."""
    cmd = [sys.executable, "-m", "solara", "run", APP, "--host", HOST, "--port", str(port),
           "--production", "--no-check-version"]
    if not open_browser:
        cmd.append("--no-open")
    return cmd


def solara_env(scenario: str | None) -> dict[str, str]:
    """Environment of the server: the page's start scenario, telemetry off, solara's CDN proxy (and so the
    local asset cache) on even in a VS Code terminal."""
    from runs.page.app import SCENARIO_ENV

    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "SOLARA_ASSETS_PROXY": "True",
           "SOLARA_THEME_SHOW_BANNER": "False"}  # no "This website runs on Solara" over the charts
    if scenario:
        env[SCENARIO_ENV] = str(scenario)
    return env


def check_port(port: int) -> None:
    """Raise :class:`PortError` (naming the port and what is allowed) unless ``port`` is free on :data:`HOST`."""
    if not 1 <= port <= 65535:
        raise PortError(f"--port: {port} out of range (allowed: 1-65535)")
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError:
            raise PortError(f"--port: {HOST}:{port} is in use; pick another port") from None


def prepare_assets(quiet: bool = False) -> bool:
    """Fill solara's asset cache; on failure print why and what to do (the page then needs internet)."""
    from runs.page.assets import AssetsError, ensure_assets

    try:
        ensure_assets(quiet=quiet)
        return True
    except AssetsError as err:
        print(f"tokenmarket viz: warning: could not prepare the page's offline assets: {err}\n"
              "  Starting anyway: with internet the page loads its scripts from the CDN; without, it stays blank.",
              file=sys.stderr)
        return False


def announce_when_ready(proc, url: str, timeout_s: float = 300.0) -> bool:
    """Print ``url`` once the server answers it (solara takes seconds to import before it listens), so the address
    shown is one that works; give up when the server exits or after ``timeout_s``. Returns whether it answered."""
    deadline = time.monotonic() + timeout_s
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with opener.open(url, timeout=5):
                print(f"tokenmarket viz: serving {url}  (Ctrl-C stops)", file=sys.stderr, flush=True)
                return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.25)
    return False


def serve(port: int, scenario: str | None, *, open_browser: bool = True) -> int:
    """Run the solara server until it exits, Ctrl-C or SIGTERM; returns its exit status (0 when stopped)."""
    cmd = solara_command(port, open_browser=open_browser)
    print(f"tokenmarket viz: starting the page server on port {port} …", file=sys.stderr)
    # The server runs in its own process group; SIGTERM/SIGINT to this process stop the whole group.
    proc = subprocess.Popen(cmd, env=solara_env(scenario), start_new_session=True)
    threading.Thread(target=announce_when_ready, args=(proc, f"http://{HOST}:{port}/"), daemon=True).start()

    def stop(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    # SIGINT explicitly too: a process started with SIGINT ignored (nohup, a test runner's worker) inherits the
    # disposition, and Python then installs no KeyboardInterrupt handler, so Ctrl-C would not stop the page.
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
