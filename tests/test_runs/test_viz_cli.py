"""`tokenmarket viz` as a process: serves on 127.0.0.1 and takes its server down with it when stopped."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser_support import free_port

ROOT = Path(__file__).resolve().parents[2]


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("sig, inherited_ignore", [(signal.SIGTERM, False), (signal.SIGINT, False),
                                                    (signal.SIGINT, True)])
def test_stopping_viz_stops_the_server(sig, inherited_ignore):
    # inherited_ignore: started by a process that ignores SIGINT (nohup, a test runner's worker): the disposition
    # survives exec and Python then installs no KeyboardInterrupt handler of its own.
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = subprocess.Popen([sys.executable, "-m", "runs.commands", "viz", "--no-open", "--quiet", "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=_ignore_sigint if inherited_ignore else None)
    try:
        deadline = time.time() + 90
        while not _up(url):
            assert proc.poll() is None, "viz exited before serving"
            assert time.time() < deadline, "page did not come up in 90 s"
            time.sleep(0.5)
        os.kill(proc.pid, sig)
        proc.wait(timeout=20)
        deadline = time.time() + 15
        while _up(url) and time.time() < deadline:
            time.sleep(0.5)
        assert not _up(url), "the solara server outlived tokenmarket viz"
    finally:
        if proc.poll() is None:  # SIGTERM first: viz takes its server group down; SIGKILL would orphan it
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
