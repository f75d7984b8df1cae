"""Output folders are claimed, created and replaced safely: one lock and one atomic-creation path for run and
sweep folders, ``--force`` replaces only an unlocked run folder, and no kill at any moment leaves an output
missing, half-written or stuck (issue 15, defects 1, 3, 5 and 8)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from runs import io
from runs.commands.main import main

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--set", "customers.n_customers=2000", "--rounds", "2", "--quiet"]
CLI = [sys.executable, "-c", "import sys; from runs.commands.main import main; sys.exit(main(sys.argv[1:]))"]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones included) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    """Hidden entries (temp folders, lock files) left in ``parent``."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


# ------------------------------------------------------------------------------ defect 1: --force and sweeps

def test_run_force_never_replaces_a_sweep_folder(tmp_path, capsys):
    sweep = tmp_path / "sw"
    assert main(["sweep", *SMALL, "--grid", "providers.n=1,2", "--workers", "1", "--out", str(sweep)]) == 0
    before = snapshot(sweep)
    assert main(["run", *SMALL, "--out", str(sweep), "--force"]) == 2
    err = capsys.readouterr().err
    assert "sweep folder" in err and "--force replaces only a run folder" in err
    assert snapshot(sweep) == before


def test_run_force_refuses_a_folder_another_process_holds(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", *SMALL, "--out", str(out)]) == 0
    before = snapshot(out)
    capsys.readouterr()
    with io.claim(out):  # what a running sweep or run holds on its folder
        assert main(["run", *SMALL, "--seed", "5", "--out", str(out), "--force"]) == 2
    assert "in use by another tokenmarket process" in capsys.readouterr().err
    assert snapshot(out) == before


def test_force_refuses_a_run_folder_holding_other_files(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", *SMALL, "--out", str(out)]) == 0
    (out / "notes.txt").write_text("mine")
    assert main(["run", *SMALL, "--out", str(out), "--force"]) == 2
    assert "notes.txt" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine"


# ------------------------------------------------------------------------------ defect 5: concurrent runs

def test_a_second_run_into_a_claimed_folder_stops_before_any_work(tmp_path, monkeypatch, capsys):
    import market.simulate

    real, calls, inside, release = market.simulate.run_once, [], threading.Event(), threading.Event()

    def slow(*a, **k):
        calls.append(1)
        inside.set()
        release.wait(30)
        return real(*a, **k)

    monkeypatch.setattr(market.simulate, "run_once", slow)
    out, codes = tmp_path / "same", {}
    first = threading.Thread(target=lambda: codes.setdefault(1, main(["run", *SMALL, "--seed", "1", "--out", str(out)])))
    first.start()
    assert inside.wait(30)
    codes[2] = main(["run", *SMALL, "--seed", "2", "--out", str(out)])
    release.set()
    first.join(60)
    assert codes == {1: 0, 2: 2} and len(calls) == 1
    assert json.loads((out / "manifest.json").read_text())["seed"] == 1
    assert leftovers(tmp_path) == []


def test_concurrent_runs_into_one_new_folder_never_both_succeed(tmp_path):
    for trial in range(2):
        out = tmp_path / f"same{trial}"
        procs = [subprocess.Popen([*CLI, "run", *SMALL, "--seed", str(s), "--out", str(out)], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for s in (1, 2)]
        codes = [p.wait(120) for p in procs]
        assert sorted(codes) == [0, 2], [p.stderr.read() for p in procs]
        winner = (1, 2)[codes.index(0)]
        assert json.loads((out / "manifest.json").read_text())["seed"] == winner
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------------------------ defect 3: sweep creation

def test_a_sweep_folder_never_exists_without_its_manifest(tmp_path):
    """Watch the folder while a sweep starts: from its first appearance it holds manifest.json."""
    out = tmp_path / "sw"
    proc = subprocess.Popen([*CLI, "sweep", *SMALL, "--grid", "providers.n=1,2", "--workers", "1",
                             "--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen_without = []
    while proc.poll() is None:
        try:
            names = set(os.listdir(out))
        except FileNotFoundError:
            continue
        if "manifest.json" not in names:
            seen_without.append(sorted(names))
    assert proc.returncode == 0, proc.stderr.read()
    assert seen_without == []


def test_a_sweep_killed_as_its_folder_appears_is_resumable(tmp_path):
    out = tmp_path / "sw"
    proc = subprocess.Popen([*CLI, "sweep", *SMALL, "--grid", "providers.n=1,2", "--workers", "1",
                             "--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not out.exists() and proc.poll() is None:
        pass
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert main(["sweep", "--out", str(out), "--resume", "--quiet"]) == 0
    assert len((out / "runs.csv").read_text().splitlines()) == 3


def test_a_fresh_sweep_into_a_claimed_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "sw"
    with io.claim(out):
        assert main(["sweep", *SMALL, "--workers", "1", "--out", str(out)]) == 2
    assert "in use by another tokenmarket process" in capsys.readouterr().err
    assert not out.exists()


# ------------------------------------------------------------------------------ defect 8: --force replace

KILL_BETWEEN = """
import os, sys
from pathlib import Path
import runs.io as io
out = Path(sys.argv[1]).resolve()
real = os.replace
def replace(src, dst, **kw):
    real(src, dst, **kw)
    if Path(src).resolve() == out:  # the old run has just been moved aside: die before the new one is in place
        os._exit(9)
os.replace = replace
if sys.argv[2] == "two-renames":
    io._exchange = lambda a, b: False  # a file system without an atomic exchange
from runs.commands.main import main
sys.exit(main(["run", "--set", "customers.n_customers=2000", "--rounds", "2", "--quiet", "--seed", "9",
               "--out", str(out), "--force"]))
"""


@pytest.mark.parametrize("path", ["exchange", "two-renames"])
def test_force_replace_killed_between_renames_loses_nothing(tmp_path, path):
    if path == "exchange" and not io.exchange_supported(tmp_path):
        pytest.skip("this file system has no atomic exchange (renameat2 RENAME_EXCHANGE)")
    out = tmp_path / "r"
    assert main(["run", *SMALL, "--seed", "1", "--out", str(out)]) == 0
    old = snapshot(out)
    proc = subprocess.run([sys.executable, "-c", KILL_BETWEEN, str(out), path], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    if path == "exchange":  # one atomic exchange: there is no moment between two renames
        assert proc.returncode == 0, proc.stderr
        assert json.loads((out / "manifest.json").read_text())["seed"] == 9
    else:
        assert proc.returncode == 9
        # The next command that claims the folder puts the old run back before anything else.
        assert main(["run", *SMALL, "--seed", "2", "--out", str(out)]) == 2
        assert snapshot(out) == old
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------------------------ random SIGKILLs

def test_sweeps_killed_at_random_moments_lose_duplicate_and_stick_nothing(tmp_path):
    from tests.crash_support import kill_sweeps

    tally = kill_sweeps(tmp_path, kills=8, seed=15, max_delay_s=3.0)
    print(f"\nsweep kills: {tally}")
    assert (tally.stuck, tally.lost, tally.duplicated) == (0, 0, 0), tally.notes
    assert tally.kills == 8


def test_force_replacements_killed_at_random_moments_always_leave_one_complete_run(tmp_path):
    from tests.crash_support import kill_force_runs

    tally = kill_force_runs(tmp_path / "r", kills=6, seed=15, max_delay_s=2.0)
    print(f"\nrun --force kills: {tally}")
    assert (tally.stuck, tally.lost, tally.mixed) == (0, 0, 0), tally.notes
    assert tally.kills == 6
