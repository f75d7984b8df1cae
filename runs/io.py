"""The only module that writes files: run and sweep folders, CSVs and JSON, each written to a temp name then
renamed.

An output folder is claimed before anything is written (:func:`claim`: one lock for runs and sweeps), created
whole (:func:`publish_folder`: written beside it, then moved into place) and replaced only by an atomic exchange
or with the old folder kept until the new one is in place, so output already on disk is never lost, left
half-written or mixed with another process's, whatever moment a process is killed at.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd


class OutputError(ValueError):
    """The output folder cannot be used: in use by another process, a file, a non-empty folder without
    ``--force``, a folder ``--force`` may not replace (a sweep's, or one holding other files), a name too long,
    or a place that cannot be written."""


# A folder name's bytes: the file system allows 255, and the hidden siblings (.<name>.partial-XXXXXXXX, …) add
# up to 20 more.
MAX_NAME_BYTES = 200
RUN_KIND, SWEEP_KIND = "tokenmarket run", "tokenmarket sweep"
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 64 << 20  # a sweep manifest holds its base config and every attempt: far below this
# What `tokenmarket report` adds to a run folder: --force may replace it with the run.
REPORT_FILES = ("report.html", "figures")
_LOCK, _PARTIAL, _REPLACED = "lock", "partial-", "replaced"


def _sibling(out: Path, tag: str) -> Path:
    """A hidden sibling of ``out``: ``.<name>.<tag>`` (lock file, partial folders, the replaced run)."""
    return out.parent / f".{out.name}.{tag}"


def check_name(out: Path, flag: str = "--out") -> None:
    """Refuse an empty or over-long output path before anything is created.

    Raises:
        OutputError: empty path, a folder name over :data:`MAX_NAME_BYTES` bytes, a path component over 255
            bytes or a path over 4,000 bytes (the file system's limits), naming the flag and the length.
    """
    text = str(out)
    if not text.strip():
        raise OutputError(f"{flag}: empty value; allowed: a folder path")
    if len(os.fsencode(text)) > 4000:
        raise OutputError(f"{flag}: the path is {len(os.fsencode(text))} bytes long; allowed: ≤ 4000 bytes")
    name = Path(text).name
    if len(os.fsencode(name)) > MAX_NAME_BYTES:
        raise OutputError(f"{flag}: the folder name is {len(os.fsencode(name))} bytes long; allowed: ≤ "
                          f"{MAX_NAME_BYTES} bytes (file systems allow 255, and temporary names add to it)")
    for part in Path(text).parts:
        if len(os.fsencode(part)) > 255:
            raise OutputError(f"{flag}: the path component {part[:40]!r}… is {len(os.fsencode(part))} bytes "
                              f"long; allowed: ≤ 255 bytes")


def _lock_file(lock: Path, out: Path, flag: str) -> int:
    """Open and exclusively lock ``lock``; returns the descriptor. The file is unlinked by its holder on release,
    so after locking we check that the path still names the file we locked (else someone released it: retry)."""
    import fcntl

    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, _umask_mode())
        except OSError as err:
            raise OutputError(f"{flag}: cannot create folders under {str(out.parent)!r} "
                              f"({err.strerror or err})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputError(f"{flag}: {str(out)!r} is in use by another tokenmarket process (a run or sweep "
                              f"writing there); wait for it to finish or choose another {flag}") from None
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


@contextmanager
def claim(out: Path | str, flag: str = "--out") -> Iterator[Path]:
    """Hold the exclusive claim on output folder ``out`` (runs and sweeps alike) for the ``with`` block.

    The claim is an advisory lock (``flock``) on ``.<name>.lock`` beside ``out``, so it exists before the folder
    does and no check-then-act race can let two processes write one folder. On entering, under the lock, an
    interrupted replacement is finished (:func:`recover`) and partial folders of killed processes are removed.
    The lock file is removed on leaving; a killed holder's lock is released by the kernel.

    Yields:
        ``out`` as an absolute path.

    Raises:
        OutputError: bad name (:func:`check_name`), the folder is claimed by another process, or its parent
            cannot be created or written.
    """
    check_name(Path(out), flag)
    out = Path(os.path.abspath(out))
    if out.parent.exists() and not out.parent.is_dir():
        raise OutputError(f"{flag}: {str(out.parent)!r} is a file, not a folder")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"{flag}: cannot create folders under {str(_existing_ancestor(out))!r} "
                          f"({err.strerror or err})") from None
    lock = _sibling(out, _LOCK)
    fd = _lock_file(lock, out, flag)
    try:
        recover(out)
        yield out
    finally:
        try:
            os.unlink(lock)
        except OSError:
            pass
        os.close(fd)


def _existing_ancestor(path: Path) -> Path:
    probe = path.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def recover(out: Path) -> None:
    """Finish what a killed process left beside ``out`` (call it holding :func:`claim`): a replaced run whose
    successor never arrived is put back in place, one whose successor did is deleted, partial folders go."""
    backup = _sibling(out, _REPLACED)
    if backup.exists():
        if out.exists():
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.replace(backup, out)
    prefix = f".{out.name}.{_PARTIAL}"
    for p in out.parent.iterdir():
        if p.name.startswith(prefix):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def read_manifest_data(path: Path) -> Any:
    """The parsed JSON of a manifest file, refusing what no tokenmarket manifest can be.

    Raises:
        OutputError: unreadable, larger than :data:`MAX_MANIFEST_BYTES`, not JSON, or nested too deeply.
    """
    try:
        if not path.is_file():
            raise OutputError(f"{str(path)!r}: not a regular file")
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise OutputError(f"{str(path)!r}: {size / 2**20:.0f} MB; allowed: ≤ {MAX_MANIFEST_BYTES >> 20} MB")
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise OutputError(f"{str(path)!r}: unreadable ({getattr(err, 'strerror', None) or err})") from None
    except json.JSONDecodeError as err:
        raise OutputError(f"{str(path)!r}: not JSON ({err.msg} at line {err.lineno})") from None
    except RecursionError:
        raise OutputError(f"{str(path)!r}: JSON nested too deeply to be a manifest") from None


def folder_kind(out: Path) -> str | None:
    """``"run"`` or ``"sweep"`` when ``out/manifest.json`` is a tokenmarket run's or sweep's manifest, else None.
    Run manifests written before they carried ``kind`` are recognised by their ``run_id`` and ``config``."""
    try:
        data = read_manifest_data(Path(out) / MANIFEST)
    except OutputError:
        return None
    if not isinstance(data, dict):
        return None
    if data.get("kind") == SWEEP_KIND:
        return "sweep"
    if data.get("kind") == RUN_KIND or ("kind" not in data and "run_id" in data and "config" in data):
        return "run"
    return None


def not_fresh(out: Path, what: str, flag: str = "--out") -> str | None:
    """Why ``out`` cannot receive a new ``what`` (``"sweep"``, ``"game"``, ``"calibration"``: folders continued
    with ``--resume``), as a message naming the flag and the folder; None when ``out`` is missing or empty. A
    ``.lock`` file inside, left by versions that kept their lock there, counts as empty."""
    if out.exists() and (not out.is_dir() or any(p.name != ".lock" for p in out.iterdir())):
        return (f"{flag}: {str(out)!r} is not an empty folder; pass --resume to continue the {what} in it, or "
                f"choose another {flag}")
    return None


def check_out_dir(out: Path, force: bool, flag: str = "--out") -> None:
    """Fail early (before any work) if ``out`` cannot receive a run; call it holding :func:`claim`.

    Raises:
        OutputError: ``out`` is a file; a non-empty folder without ``force``; with ``force``, a folder that is
        not a run folder (a sweep's, one without a run manifest) or that holds files the run did not write
        (``--force`` replaces a run folder's own files and a report drawn from them, nothing else); or its
        parent is not writable.
    """
    if out.exists() and not out.is_dir():
        raise OutputError(f"{flag}: {str(out)!r} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise OutputError(f"{flag}: folder {str(out)!r} is not empty; pass --force to replace it (a run "
                              f"folder only)")
        kind = folder_kind(out)
        if kind == "sweep":
            raise OutputError(f"{flag}: {str(out)!r} is a sweep folder; --force replaces only a run folder "
                              f"(continue the sweep with tokenmarket sweep --out {out} --resume, or choose "
                              f"another {flag})")
        if kind != "run":
            raise OutputError(f"{flag}: folder {str(out)!r} is not empty and holds no manifest.json of a run, so "
                              f"it is not a tokenmarket run folder; --force only replaces those")
        listed = read_manifest_data(out / MANIFEST).get("files") or []
        own = {str(f) for f in listed} | {MANIFEST, *REPORT_FILES}
        other = sorted(p.name for p in out.iterdir() if p.name not in own)
        if other:
            raise OutputError(f"{flag}: run folder {str(out)!r} also holds {', '.join(map(repr, other[:5]))}"
                              f"{' …' if len(other) > 5 else ''}, which the run did not write; --force replaces "
                              f"only a run folder's own files: move them away first")
    probe = _existing_ancestor(out) if not out.parent.exists() else out.parent
    if not os.access(probe, os.W_OK):
        raise OutputError(f"{flag}: cannot write under {str(probe)!r} (permission denied)")


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


CSV_MODES = ("plain", "excel")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as the start of a formula
_BOM = "\ufeff"


def excel_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells that a spreadsheet would run as a formula (leading ``=``, ``+``, ``-``,
    ``@``, tab or carriage return) start with ``'`` instead; numeric columns are left as they are
    (OWASP, "CSV Injection")."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v)
    return out


def csv_text(df: pd.DataFrame, mode: str = "plain") -> str:
    """A DataFrame as CSV text: fixed float format (byte-identical for identical data); ``mode="excel"`` adds a
    UTF-8 byte-order mark and neutralises formula-like text cells (:func:`excel_safe`).

    Raises:
        ValueError: ``mode`` not in :data:`CSV_MODES`.
    """
    if mode not in CSV_MODES:
        raise ValueError(f"csv mode {mode!r}; allowed: {', '.join(CSV_MODES)}")
    if mode == "excel":
        return _BOM + excel_safe(df).to_csv(index=False, float_format="%.10g", lineterminator="\n")
    return df.to_csv(index=False, float_format="%.10g", lineterminator="\n")


def write_csv(path: Path, df: pd.DataFrame, mode: str = "plain") -> None:
    """Write a DataFrame as CSV atomically (:func:`csv_text`)."""
    atomic_write_text(path, csv_text(df, mode))


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically, indented, keys in the order given: a config's keys stay in the order the model
    reads them (the order of ``vertical_mix`` and ``per_vertical`` entries matters to the model)."""
    atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); False where the platform or
    file system cannot (then nothing happened).

    Raises:
        OSError: any other failure of the call.
    """
    import ctypes

    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(a))


def exchange_supported(folder: Path) -> bool:
    """Whether :func:`_exchange` works in ``folder`` (tried on two empty folders)."""
    base = Path(tempfile.mkdtemp(dir=folder, prefix=".exchange-probe."))
    try:
        (base / "a").mkdir()
        (base / "b").mkdir()
        return _exchange(base / "a", base / "b")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _put_in_place(tmp: Path, out: Path) -> None:
    """Move the complete folder ``tmp`` to ``out``. A missing or empty ``out`` is replaced by one rename; a
    non-empty one by an atomic exchange (so ``out`` always holds either run), else by two renames with the old
    folder kept at ``.<name>.replaced`` until the new one is in place (:func:`recover` finishes either way)."""
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        os.replace(tmp, out)
        return
    if _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # it now holds the old folder
        return
    backup = _sibling(out, _REPLACED)
    os.replace(out, backup)
    os.replace(tmp, out)
    shutil.rmtree(backup, ignore_errors=True)


def publish_folder(out: Path, files: dict[str, pd.DataFrame | dict], csv_mode: str = "plain") -> Path:
    """Create or replace folder ``out`` with ``files`` at once: they are written into a hidden sibling that is
    moved into place when complete (:func:`_put_in_place`). Call it holding :func:`claim` and after the checks
    the caller needs (:func:`check_out_dir` for a run). ``files`` maps names to DataFrames (CSV, ``csv_mode``)
    or JSON-ready data. Returns ``out``."""
    out = Path(os.path.abspath(out))
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.{_PARTIAL}"))
    os.chmod(tmp, 0o777 & ~_umask())  # a normal folder, not mkdtemp's private 0700
    try:
        for name, content in files.items():
            if isinstance(content, pd.DataFrame):
                write_csv(tmp / name, content, csv_mode)
            else:
                write_json(tmp / name, content)
        _put_in_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def write_run_folder(out: Path, files: dict[str, pd.DataFrame | dict], force: bool = False,
                     csv_mode: str = "plain") -> Path:
    """Write a complete run folder: check ``out`` (:func:`check_out_dir`) and publish ``files`` into it
    (:func:`publish_folder`). Call it holding :func:`claim`. Returns ``out``."""
    check_out_dir(Path(out), force)
    return publish_folder(out, files, csv_mode)


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
