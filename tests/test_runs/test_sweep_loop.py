"""The executor loop and resume check shared by sweeps, studies, games and calibrations (runs/sweeps/loop.py):
each outcome recorded before it is counted, the final status and the manifest written whatever happens."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from runs import io
from runs.sweeps.executors import RunOutcome
from runs.sweeps.loop import check_resume, execute


class Listed:
    """An executor that yields given outcomes, then raises ``after`` if set."""

    def __init__(self, outcomes: list[RunOutcome], after: BaseException | None = None) -> None:
        self._outcomes, self._after = outcomes, after

    def outcomes(self, tasks, fn):
        yield from self._outcomes
        if self._after is not None:
            raise self._after


def outcome(run_id: str, ok: bool = True) -> RunOutcome:
    return RunOutcome(run_id, {"run_id": run_id, "status": "ok" if ok else "failed"}, None, None if ok else "tb")


def drive(tmp_path, executor, **kw):
    recorded: list[str] = []

    def record(o: RunOutcome) -> None:
        recorded.append(o.run_id)
        io.append_csv(tmp_path / "runs.csv", pd.DataFrame([o.row]))

    manifest, attempt = {"status": "running"}, {}
    result = execute(executor, [], None, record, out=tmp_path, manifest=manifest, attempt=attempt, total=3, done=0,
                     desc="t", progress=False, **kw)
    return result, recorded, attempt


def test_failures_give_complete_with_failures_and_sorted_runs(tmp_path):
    (ok, failed, status), recorded, attempt = drive(tmp_path, Listed([outcome("b"), outcome("a", ok=False),
                                                                      outcome("c")]))
    assert (ok, failed, status) == (2, 1, "complete_with_failures")
    assert recorded == ["b", "a", "c"]
    assert list(pd.read_csv(tmp_path / "runs.csv")["run_id"]) == ["a", "b", "c"]
    assert json.loads((tmp_path / "manifest.json").read_text())["status"] == "complete_with_failures"
    assert attempt["ok"] == 2 and attempt["failed"] == 1


def test_interrupt_writes_interrupted_manifest_after_recording(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        drive(tmp_path, Listed([outcome("a")], after=KeyboardInterrupt()))
    assert json.loads((tmp_path / "manifest.json").read_text())["status"] == "interrupted"
    assert list(pd.read_csv(tmp_path / "runs.csv")["run_id"]) == ["a"]


def test_stop_aborts_after_recording_the_outcome(tmp_path):
    def stop(o: RunOutcome):
        return RuntimeError(o.run_id) if not o.ok else None

    with pytest.raises(RuntimeError, match="x"):
        drive(tmp_path, Listed([outcome("a"), outcome("x", ok=False), outcome("z")]), stop=stop)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["status"] == "aborted"
    assert list(pd.read_csv(tmp_path / "runs.csv")["run_id"]) == ["a", "x"]


class Plan:
    def __init__(self, diff: list[str]) -> None:
        self.diff = diff

    def differences(self, other) -> list[str]:
        return self.diff


def test_check_resume_names_the_differing_fields():
    with pytest.raises(ValueError, match=r"--resume: the game differs .*\(rounds, seed\); do this"):
        check_resume(Plan(["rounds", "seed"]), None, "m.json", ValueError, what="game", hint="do this")
    check_resume(Plan([]), None, "m.json", ValueError)
    check_resume(None, None, "m.json", ValueError)
