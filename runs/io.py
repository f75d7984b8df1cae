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
    """The output folder cannot be used (exists and is not empty without --force, is not an earlier output folder,
    or is not writable)."""


def check_out_dir(out: Path, force: bool) -> None:
    """Fail early (before any work) if ``out`` cannot receive a run.

    Raises:
        OutputError: ``out`` is a file, a non-empty folder without ``force``, a non-empty folder without a
        ``manifest.json`` (not an earlier output folder: ``force`` never replaces other files), or its parent is
        not writable.
    """
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out: {str(out)!r} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise OutputError(f"--out: folder {str(out)!r} is not empty; pass --force to replace it")
        # --force replaces a previous run's folder, never a folder of other files (such as the current one).
        if not (out / "manifest.json").is_file():
            raise OutputError(f"--out: folder {str(out)!r} is not empty and holds no manifest.json, so it is not a "
                              f"tokenmarket output folder; --force only replaces those")
    parent = out.resolve().parent
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK):
        raise OutputError(f"--out: cannot write under {str(probe)!r} (permission denied)")
    # Access bits say nothing about special file systems (/proc, /sys): try it, with a folder removed at once.
    try:
        shutil.rmtree(tempfile.mkdtemp(dir=probe, prefix=".tokenmarket-probe."))
    except OSError as err:
        raise OutputError(f"--out: cannot create folders under {str(probe)!r} ({err.strerror})") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _umask_mode() -> int:
    return 0o666 & ~_umask()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder and an atomic rename; the file gets the
    usual permissions for new files (0666 less the umask), not mkstemp's private 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def write_csv(path: Path, df: pd.DataFrame) -> None:
    """Write a DataFrame as CSV atomically (fixed float format: byte-identical for identical data)."""
    atomic_write_text(path, df.to_csv(index=False, float_format="%.10g", lineterminator="\n"))


def write_json(path: Path, data: Any, sort_keys: bool = True) -> None:
    """Write JSON atomically (indented; keys sorted unless ``sort_keys`` is False, e.g. when the order of a
    config's dict entries matters to the model)."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=sort_keys, default=str) + "\n")


def write_run_folder(out: Path, files: dict[str, pd.DataFrame | dict], force: bool = False) -> Path:
    """Write a complete run folder: everything goes into a sibling temp folder that replaces ``out`` at the end.

    ``files`` maps file names to DataFrames (CSV) or dicts (JSON). Returns ``out``.
    """
    check_out_dir(out, force)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.partial."))
    os.chmod(tmp, 0o777 & ~_umask())  # a normal folder, not mkdtemp's private 0700
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


def versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Versions of Python and the packages a run depends on, plus ``extra`` packages."""
    out = {"python": sys.version.split()[0]}
    for pkg in ("tokenmarket", "mesa", "numpy", "pandas", "pydantic", "altair", *extra):
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


# ------------------------------------------------------------------------------ incremental (sweep) output

def _csv_records(path: Path) -> tuple[list[str], list[list[str]], bool]:
    """Header and complete records of a CSV file; the flag says whether a torn tail was dropped."""
    import csv

    text = ""
    if path.exists():
        with open(path, newline="") as fh:
            text = fh.read()
    torn = bool(text) and not text.endswith("\n")
    if torn:
        text = text[: text.rfind("\n") + 1]
    rows = list(csv.reader(text.splitlines(keepends=True))) if text else []
    header = rows[0] if rows else []
    body = [r for r in rows[1:] if len(r) == len(header)]
    malformed = bool(rows) and len(body) != len(rows) - 1
    return header, body, torn or malformed


def _write_records(path: Path, header: list[str], rows: list[list[str]]) -> None:
    import csv
    import io as _io

    buf = _io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def append_csv(path: Path, df: pd.DataFrame) -> None:
    """Append the rows of ``df`` to the CSV file ``path`` and fsync, so a finished row survives a kill.

    The file is created (atomically, with a header) when missing. Columns are matched by name: a column the
    file lacks extends its header (the file is rewritten atomically, older rows get empty cells); a column
    ``df`` lacks is left empty. A torn last line (a kill mid-write) is cut off before appending. Values are
    written as :func:`write_csv` writes them (floats as ``%.10g``).
    """
    import csv

    if df.empty:
        return
    if not path.exists() or path.stat().st_size == 0:
        write_csv(path, df)
        return
    with open(path, newline="") as fh:
        header = next(csv.reader([fh.readline()]), [])
    new = [c for c in df.columns if c not in header]
    if new or not header:
        old_header, rows, _ = _csv_records(path)
        _write_records(path, old_header + new, [r + [""] * len(new) for r in rows])
        header = old_header + new
    block = df.reindex(columns=header).to_csv(index=False, header=False, float_format="%.10g", lineterminator="\n")
    with open(path, "rb+") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        if size:
            fh.seek(size - 1)
            if fh.read(1) != b"\n":  # torn tail from an interrupted append: drop it
                fh.seek(0)
                keep = fh.read().rfind(b"\n") + 1
                fh.truncate(keep)
        fh.seek(0, os.SEEK_END)
        fh.write(block.encode())
        fh.flush()
        os.fsync(fh.fileno())


def filter_csv(path: Path, column: str, keep: set[str]) -> int:
    """Rewrite CSV ``path`` atomically keeping the records whose ``column`` is in ``keep``, and dropping a
    torn last record (no final newline) or records with the wrong number of fields. Values are copied as text,
    unchanged; the file is streamed, not loaded whole. Returns the number of records dropped; a missing file is
    left missing and returns 0.

    Raises:
        ValueError: ``column`` is not in the header.
    """
    import csv

    if not path.exists() or path.stat().st_size == 0:
        return 0
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        torn = fh.read(1) != b"\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    dropped = 0
    try:
        with open(path, newline="") as src, os.fdopen(fd, "w", newline="") as dst:
            reader, writer = csv.reader(src), csv.writer(dst, lineterminator="\n")
            header = next(reader)
            i = header.index(column)
            writer.writerow(header)
            previous = None
            for record in reader:
                if previous is not None:
                    if len(previous) == len(header) and previous[i] in keep:
                        writer.writerow(previous)
                    else:
                        dropped += 1
                previous = record
            if previous is not None:
                if not torn and len(previous) == len(header) and previous[i] in keep:
                    writer.writerow(previous)
                else:
                    dropped += 1
        if dropped:
            os.replace(tmp, path)
        else:
            os.unlink(tmp)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dropped


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    """Write a DataFrame as a Parquet file atomically (needs pyarrow: ``pip install tokenmarket[sweep]``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_files(paths: list[Path]) -> None:
    """Delete the given files (missing ones are ignored)."""
    for p in paths:
        Path(p).unlink(missing_ok=True)


class FolderLock:
    """Exclusive advisory lock on a folder (``<folder>/.lock``), held while a sweep writes into it.

    Raises:
        OutputError: on entering, when another process holds the lock.
    """

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / ".lock"
        self._fh = None

    def __enter__(self) -> "FolderLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a")
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.close()
            raise OutputError(f"--out: {str(self.path.parent)!r} is in use by another sweep") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            self._fh.close()


def sort_csv(path: Path, column: str) -> None:
    """Rewrite CSV ``path`` atomically with its records sorted by the text of ``column`` (stable).

    Raises:
        KeyError: ``column`` is not in the header.
    """
    if not path.exists():
        return
    header, rows, _ = _csv_records(path)
    if header:
        i = header.index(column)
        _write_records(path, header, sorted(rows, key=lambda r: r[i]))
