"""``tokenmarket viz``: serve the browser page (``runs/app.py``) on 127.0.0.1 with ``solara run``.

Before starting the server it makes sure solara's front-end assets are in its local cache
(:func:`runs.viz_assets.ensure_assets`), so the page works without internet; if npm is missing it says so and
starts anyway (with internet the server fetches the assets itself).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys

APP = "runs.app"
HOST = "127.0.0.1"
DEFAULT_PORT = 8765


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
    from runs.app import SCENARIO_ENV

    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "SOLARA_ASSETS_PROXY": "True"}
    if scenario:
        env[SCENARIO_ENV] = str(scenario)
    return env


def _check_port(port: int) -> None:
    from runs.cli import UsageError

    if not 1 <= port <= 65535:
        raise UsageError(f"--port: {port} out of range (allowed: 1-65535)")
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError:
            raise UsageError(f"--port: {HOST}:{port} is in use; pick another port") from None


def prepare_assets(quiet: bool = False) -> bool:
    """Fill solara's asset cache; on failure print why and what to do (the page then needs internet)."""
    from runs.viz_assets import AssetsError, ensure_assets

    try:
        ensure_assets(quiet=quiet)
        return True
    except AssetsError as err:
        print(f"tokenmarket viz: warning: could not prepare the page's offline assets: {err}\n"
              "  Starting anyway: with internet the page loads its scripts from the CDN; without, it stays blank.",
              file=sys.stderr)
        return False


def cmd_viz(args: argparse.Namespace) -> int:
    """Validate the scenario and port, prepare the assets, then run the solara server until Ctrl-C."""
    from market.config import config_from
    from runs.cli import require

    require("solara", "ipyvuetify")  # before fetching 170 MB of assets for a server that cannot start
    if args.scenario:
        config_from(args.scenario)  # ConfigError (exit 2) before anything starts
    _check_port(args.port)
    prepare_assets(quiet=args.quiet)
    cmd = solara_command(args.port, open_browser=not args.no_open)
    print(f"tokenmarket viz: serving http://{HOST}:{args.port}/  (Ctrl-C stops)", file=sys.stderr)
    # The server runs in its own process group; SIGTERM/SIGINT to this process stop the whole group, so no
    # orphaned server keeps the port when a script or supervisor stops us.
    proc = subprocess.Popen(cmd, env=solara_env(args.scenario), start_new_session=True)

    def stop(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def register(subparsers) -> None:
    """Add the ``viz`` subcommand to the ``tokenmarket`` parser."""
    p = subparsers.add_parser("viz", help="open the browser view (SolaraViz) on 127.0.0.1")
    p.add_argument("--scenario", default=None, help="scenario the page starts with (default: baseline)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on {HOST} (default {DEFAULT_PORT})")
    p.add_argument("--no-open", action="store_true", help="do not open a browser window")
    p.add_argument("--quiet", action="store_true", help="less output while preparing assets")
    p.set_defaults(func=cmd_viz)
