"""Kill-and-resume: a sweep stopped mid-way (SIGKILL or SIGTERM) loses no finished run, leaves no worker
behind, and resuming it gives exactly the rows of an uninterrupted sweep, with no run duplicated or rerun."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from runs.commands.main import main

psutil = pytest.importorskip("psutil")

# 16 runs of ≈ 0.1 s: long enough to stop the sweep part-way, short enough for the default test run.
ARGS = ["sweep", "--set", "customers.n_customers=2000", "--rounds", "4", "--grid", "providers.n=1,2,3,4",
        "--replicates", "4", "--seed", "3", "--workers", "2", "--quiet"]
N_RUNS = 16
STOP_AFTER = 3  # finished runs before the signal
CLI = [sys.executable, "-c", "import sys; from runs.commands.main import main; sys.exit(main(sys.argv[1:]))"]


def finished_ids(path) -> list[str]:
    """run_ids of the complete lines of runs.csv (a torn last line does not count)."""
    if not path.exists():
        return []
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    return [row[0] for row in csv.reader(ln for ln in lines[1:] if ln.endswith("\n"))]


def table(path, sort) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"run_id": str}).sort_values(sort).reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "sweep"
    assert main([*ARGS, "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_stopped_sweep_resumes_to_the_uninterrupted_result(tmp_path, reference, sig):
    out = tmp_path / "sweep"
    proc = subprocess.Popen([*CLI, *ARGS, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while len(finished_ids(out / "runs.csv")) < STOP_AFTER:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "sweep made no progress"
            time.sleep(0.005)
        helpers = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    _, alive = psutil.wait_procs(helpers, timeout=15)
    assert not alive, f"worker processes left behind: {alive}"
    assert proc.returncode == (-9 if sig == signal.SIGKILL else 128 + signal.SIGTERM), proc.communicate()
    done = finished_ids(out / "runs.csv")
    assert STOP_AFTER <= len(done) < N_RUNS and len(set(done)) == len(done)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == ("running" if sig == signal.SIGKILL else "interrupted")

    assert main(["sweep", "--out", str(out), "--resume", "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["attempts"][-1]["done_before"] == len(done)  # finished runs were kept, not rerun
    assert manifest["attempts"][-1]["ok"] == N_RUNS - len(done) and manifest["status"] == "complete"
    runs = table(out / "runs.csv", "run_id")
    assert runs["run_id"].is_unique and len(runs) == N_RUNS
    pd.testing.assert_frame_equal(runs, table(reference / "runs.csv", "run_id"))
    pd.testing.assert_frame_equal(table(out / "rounds.csv", ["run_id", "round"]),
                                  table(reference / "rounds.csv", ["run_id", "round"]))
