"""The parts every folder of runs shares (sweeps, studies, games, calibrations): checking a resumed plan against the
stored one, and the executor loop that records each finished run, shows progress and finalises the manifest.

Each caller keeps its own folder layout and record format; only the control flow lives here, so that a run
recorded, a bar advanced and a manifest's final status mean the same thing in every kind of folder.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from runs import io
from runs.sweeps.executors import RunOutcome

RUNS_CSV = "runs.csv"  # one row per finished run, in every kind of folder


def check_resume(plan: Any, stored: Any, manifest_path: Path, error: type[Exception], *, what: str = "plan",
                 hint: str = "use another --out") -> None:
    """Refuse to resume ``stored`` (the plan read from ``manifest_path``) with a different ``plan``.

    ``plan``: None (resume with the stored plan: always accepted) or an object with ``differences(stored) ->
    list[str]`` naming the fields that differ. ``what`` names the plan in the message ("plan", "game");
    ``hint`` says what to do instead.

    Raises:
        error: (the caller's error class) ``plan`` differs from ``stored``; the message lists the differing fields.
    """
    if plan is not None and (diff := plan.differences(stored)):
        raise error(f"--resume: the {what} differs from the one in {manifest_path} ({', '.join(diff)}); {hint}")


def now_utc() -> str:
    """The current UTC time, ISO 8601 to the second (manifests' timestamps)."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def execute(executor: Any, todo: Iterable[Any], fn: Callable[[Any], Any], record: Callable[[RunOutcome], None], *,
            out: Path, manifest: dict[str, Any], attempt: dict[str, Any], total: int, done: int, desc: str,
            progress: bool, stop: Callable[[RunOutcome], Exception | None] | None = None,
            show_failed_at_start: bool = False) -> tuple[int, int, str]:
    """Run ``todo`` on ``executor`` with ``fn``, ``record`` each outcome as it finishes, and finalise the manifest.

    Each finished run is recorded (``record(outcome)`` writes it to disk) before the progress bar advances, so a
    killed process loses no run it has counted. When every run has been tried, ``out/runs.csv`` is sorted by
    run_id and the status is ``complete`` (no failure) or ``complete_with_failures``. Whatever happens (Ctrl-C,
    SIGTERM, an exception), ``attempt`` gets finished_utc, ok, failed and status, ``manifest["status"]`` the
    status, and ``out/manifest.json`` is rewritten. ``stop(outcome)`` (optional), called after an outcome is
    recorded, may return an exception: the loop then ends with status ``aborted`` and raises it.

    Args:
        total: runs in the plan (the bar's length); done: runs already finished before this attempt.
        desc: the bar's label; progress: show the bar (stderr); show_failed_at_start: show "failed=0" from the start.

    Returns:
        (ok, failed, status): runs that succeeded and failed in this attempt, and the final status.

    Raises:
        whatever ``stop`` returns, the executor or ``record`` raise, KeyboardInterrupt (status ``interrupted``).
    """
    from tqdm import tqdm  # the bar only when runs are driven: keeps `import runs.sweeps` light

    ok = failed = 0
    bar = tqdm(total=total, initial=done, unit="run", desc=desc, disable=not progress, file=sys.stderr,
               dynamic_ncols=True)
    if show_failed_at_start:
        bar.set_postfix(failed=0)
    status = "interrupted"
    try:
        for outcome in executor.outcomes(todo, fn):
            record(outcome)
            ok, failed = ok + outcome.ok, failed + (not outcome.ok)
            bar.set_postfix(failed=failed, refresh=False)
            bar.update(1)
            if stop is not None and (err := stop(outcome)) is not None:
                status = "aborted"
                raise err
        status = "complete" if failed == 0 else "complete_with_failures"
        io.sort_csv(out / RUNS_CSV, "run_id")
    finally:
        bar.close()
        attempt.update(finished_utc=now_utc(), ok=ok, failed=failed, status=status)
        manifest["status"] = status
        io.write_json(out / io.MANIFEST, manifest)
    return ok, failed, status
