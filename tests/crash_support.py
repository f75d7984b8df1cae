"""Kill tokenmarket processes with SIGKILL at random moments and check what they leave behind.

Used by tests/test_runs/test_output_safety.py (a few kills) and benchmarks/crash_safety.py (hundreds). A kill
time is drawn uniformly from ``[0, max_delay_s]`` after the process starts, so kills land in start-up, folder
creation, the runs, the appends and the final rewrites alike.
"""

from __future__ import annotations

import csv
import json
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "import sys; from runs.commands.main import main; sys.exit(main(sys.argv[1:]))"]
SWEEP = ["sweep", "--set", "customers.n_customers=2000", "--rounds", "2", "--grid", "providers.n=1,2,3,4",
         "--replicates", "2", "--seed", "5", "--workers", "1", "--quiet"]
N_RUNS = 8
RUN = ["run", "--set", "customers.n_customers=2000", "--rounds", "2", "--quiet"]


@dataclass
class Tally:
    """What the kills did: kills sent, processes that finished before the kill, and the failures counted.

    ``stuck``: a folder the next command could neither resume nor restart; ``lost``: runs missing at the end
    (sweeps) or a run folder missing or incomplete after a kill (``run --force``); ``duplicated``: a run or a
    round recorded twice; ``mixed``: a run folder holding files of two runs.
    """

    kills: int = 0
    finished_first: int = 0
    stuck: int = 0
    lost: int = 0
    duplicated: int = 0
    mixed: int = 0
    notes: list[str] = field(default_factory=list)


def _kill_after(argv: list[str], delay_s: float) -> int | None:
    """Start ``argv``, SIGKILL it after ``delay_s`` seconds; its exit status if it ended first, else None."""
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return proc.wait(timeout=delay_s)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return None


def _records(path: Path) -> list[dict[str, str]]:
    """The complete records of a CSV file (a torn last line does not count)."""
    if not path.exists():
        return []
    lines = [ln for ln in path.read_text().splitlines(keepends=True) if ln.endswith("\n")]
    return list(csv.DictReader(lines))


def _check_sweep(out: Path, tally: Tally) -> None:
    """Finish the sweep in ``out`` (resume, or start it if the folder is absent) and count runs or rounds
    missing or recorded twice."""
    argv = [*CLI, *SWEEP, "--out", str(out)] + (["--resume"] if out.exists() else [])
    final = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if final.returncode != 0:
        tally.stuck += 1
        tally.notes.append(f"{out.name}: final command exited {final.returncode}: {final.stderr.strip()[-300:]}")
        return
    ids = [r["run_id"] for r in _records(out / "runs.csv")]
    rounds = [(r["run_id"], r["round"]) for r in _records(out / "rounds.csv")]
    tally.duplicated += len(ids) - len(set(ids)) + len(rounds) - len(set(rounds))
    tally.lost += N_RUNS - len(set(ids)) + 2 * N_RUNS - len(set(rounds))


def kill_sweeps(base: Path, kills: int, seed: int = 0, max_delay_s: float = 4.0) -> Tally:
    """SIGKILL sweeps ``kills`` times at random moments. Each sweep (a new folder under ``base``) is killed,
    then resumed (or started afresh while its folder is absent) and killed again, until a command finishes it;
    then it is checked (:func:`_check_sweep`) and the next sweep starts, until ``kills`` kills were sent."""
    rng, tally = random.Random(seed), Tally()
    base.mkdir(parents=True, exist_ok=True)
    episode = 0
    while tally.kills < kills:
        out = base / f"sweep{episode}"
        while tally.kills < kills:
            argv = [*CLI, *SWEEP, "--out", str(out)] + (["--resume"] if out.exists() else [])
            code = _kill_after(argv, rng.uniform(0.0, max_delay_s))
            if code is None:
                tally.kills += 1
                if out.exists() and not (out / "manifest.json").is_file():
                    tally.stuck += 1
                    tally.notes.append(f"{out.name}, kill {tally.kills}: folder without manifest: "
                                       f"{sorted(p.name for p in out.iterdir())}")
                    return tally
            elif code == 0:
                tally.finished_first += 1
                break
            else:
                tally.stuck += 1
                tally.notes.append(f"{out.name}, kill {tally.kills}: the next command exited {code}")
                return tally
        _check_sweep(out, tally)
        episode += 1
    return tally


def _run_state(out: Path) -> str:
    """``"seed<N>"`` for a complete run folder (manifest and every file it lists), else what is wrong."""
    if not out.exists():
        return "missing"
    try:
        manifest = json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError):
        return "no manifest"
    names = sorted(p.name for p in out.iterdir())
    if names != sorted(manifest["files"]):
        return f"files {names}"
    seeds = {r["seed"] for r in _records(out / "model.csv")}
    if seeds != {str(manifest["seed"])}:
        return f"mixed seeds {sorted(seeds)} in model.csv, manifest seed {manifest['seed']}"
    return f"seed{manifest['seed']}"


def kill_force_runs(out: Path, kills: int, seed: int = 0, max_delay_s: float = 3.0) -> Tally:
    """Write a run into ``out``, then replace it with ``run --force`` (a new seed each time), SIGKILLed at random
    moments ``kills`` times; after each kill ``out`` must hold one complete run, the old or the new."""
    rng, tally = random.Random(seed), Tally()
    first = subprocess.run([*CLI, *RUN, "--seed", "0", "--out", str(out)], cwd=ROOT, capture_output=True,
                           text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    current, attempt = "seed0", 0
    while tally.kills < kills:
        attempt += 1
        code = _kill_after([*CLI, *RUN, "--seed", str(attempt), "--out", str(out), "--force"],
                           rng.uniform(0.0, max_delay_s))
        state = _run_state(out)
        if code is None:
            tally.kills += 1
        elif code == 0:
            tally.finished_first += 1
        else:
            tally.stuck += 1
            tally.notes.append(f"attempt {attempt}: run --force exited {code}")
            continue
        if state not in (current, f"seed{attempt}"):
            tally.lost += state in ("missing", "no manifest") or state.startswith("files")
            tally.mixed += state.startswith("mixed")
            tally.notes.append(f"attempt {attempt}: after the kill the folder holds {state}")
        current = state
    return tally
