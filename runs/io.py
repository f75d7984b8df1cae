"""The only module that writes files: run folders, CSVs and JSON, each written to a temp file then renamed.

A run folder is created fresh (or, with ``force``, replaced only after the new one is complete), so output
already on disk is never lost or left half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd


class OutputError(ValueError):
    """The output folder cannot be used (exists and is not empty without --force, or is not writable)."""


def check_out_dir(out: Path, force: bool) -> None:
    """Fail early (before any work) if ``out`` cannot receive a run.

    Raises:
        OutputError: ``out`` is a file, a non-empty folder without ``force``, or its parent is not writable.
    """
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out: {str(out)!r} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputError(f"--out: folder {str(out)!r} is not empty; pass --force to replace it")
    parent = out.resolve().parent
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK):
        raise OutputError(f"--out: cannot write under {str(probe)!r} (permission denied)")


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file in the same folder and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(path: Path, df: pd.DataFrame) -> None:
    """Write a DataFrame as CSV atomically (fixed float format: byte-identical for identical data)."""
    atomic_write_text(path, df.to_csv(index=False, float_format="%.10g", lineterminator="\n"))


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (sorted keys, indented)."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_run_folder(out: Path, files: dict[str, pd.DataFrame | dict], force: bool = False) -> Path:
    """Write a complete run folder: everything goes into a sibling temp folder that replaces ``out`` at the end.

    ``files`` maps file names to DataFrames (CSV) or dicts (JSON). Returns ``out``.
    """
    check_out_dir(out, force)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.partial."))
    try:
        for name, content in files.items():
            if isinstance(content, pd.DataFrame):
                write_csv(tmp / name, content)
            else:
                write_json(tmp / name, content)
        if out.exists():
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old."))
            os.replace(out, old / "run")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def versions() -> dict[str, str]:
    """Versions of Python and the packages a run depends on."""
    out = {"python": sys.version.split()[0]}
    for pkg in ("tokenmarket", "mesa", "numpy", "pandas", "pydantic", "altair"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def git_commit() -> str:
    """The git commit of the source tree, or 'unknown' outside a git checkout."""
    here = Path(__file__).resolve().parent.parent
    try:
        res = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        return res.stdout.strip() if res.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"
