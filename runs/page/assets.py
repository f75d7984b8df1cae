"""Make solara's browser assets available without internet.

What: ``ensure_assets()`` fills solara's CDN proxy cache folder with the npm
packages the SolaraViz page asks for (page template, vega-lite widget, grid
layout), using ``npm pack`` against the npm registry.

Why: the solara server does not ship its JS/CSS; it proxies each
``/_solara/cdn/<path>`` request to https://cdn.jsdelivr.net/npm/<path> and keeps
a copy in the cache folder. With no route to the CDN (CI, sandboxes, offline
laptops) the page loads without scripts and stays blank. An npm tarball
unpacked under the folder named like the request path answers those requests
from disk. Users with internet don't need this: the server fills the cache
itself on first use.

Run it as ``python -m runs.page.assets [--cache-dir DIR] [--quiet]``, or call it
from a session-scoped pytest fixture before starting ``solara run``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

# Folder name in the cache (= npm spec) -> files the browser requests under it.
# Read off solara 1.64.1: server/templates/solara.html.j2 (vuetify apps,
# requirejs, font-awesome), widgets/vue/vegalite.vue (vega*, version ranges, so
# npm picks the newest 5.x/5.x/6.x as jsdelivr would) and
# widgets/vue/gridlayout.vue. Re-check when solara is upgraded.
ASSETS: dict[str, tuple[str, ...]] = {
    "@widgetti/solara-vuetify-app@10.1.1": (
        "dist/main8.css", "dist/fonts.css", "dist/solara-vuetify-app8.min.js",
        "dist/solara-vuetify-app8.js"),
    "@widgetti/solara-vuetify3-app@5.2.0": (
        "dist/main8.css", "dist/fonts.css", "dist/solara-vuetify-app8.min.js",
        "dist/solara-vuetify-app8.js"),
    "@widgetti/vue-grid-layout@2.3.13-alpha.2": ("dist/vue-grid-layout.umd.js",),
    "requirejs@2.3.6": ("require.js",),
    "font-awesome@4.5.0": ("css/font-awesome.min.css",),
    "vega@5": ("build/vega.min.js",),
    "vega-lite@5": ("build/vega-lite.min.js",),
    "vega-embed@6": ("build/vega-embed.min.js",),
}

MARKER = ".tokenmarket-npm-pack.json"  # written inside each complete package folder
ENV_VAR = "SOLARA_ASSETS_PROXY_CACHE_DIR"  # solara's setting (its own warning misnames it)


class AssetsError(RuntimeError):
    """ensure_assets could not fetch the packages; the message says what to do."""


def default_cache_dir() -> Path:
    """Return the folder the solara server reads its CDN cache from.

    Mirrors ``solara.server.settings.Assets.proxy_cache_dir`` without importing
    solara (≈ 1.7 s and side effects): ``$SOLARA_ASSETS_PROXY_CACHE_DIR`` (any
    case), else ``<prefix>/share/solara/cdn`` where prefix is the user base for
    a ``pip install --user`` solara and ``sys.prefix`` otherwise.
    """
    for key, value in os.environ.items():
        if key.upper() == ENV_VAR:
            return Path(value)
    spec = importlib.util.find_spec("solara")
    userbase = site.getuserbase()
    origin = spec.origin if spec and spec.origin else ""
    prefix = userbase if userbase and origin.startswith(userbase) else sys.prefix
    return Path(prefix) / "share" / "solara" / "cdn"


def missing_assets(cache_dir: Path) -> list[str]:
    """Return the specs of ASSETS whose folder lacks the marker or a needed file."""
    missing = []
    for spec, files in ASSETS.items():
        folder = cache_dir / spec
        if not (folder / MARKER).is_file() or not all((folder / f).is_file() for f in files):
            missing.append(spec)
    return missing


def _npm_pack(specs: list[str], dest: Path) -> list[dict]:
    """Download the tarballs of ``specs`` into ``dest``; return npm's JSON report."""
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsError(
            "npm not found: install Node.js/npm (e.g. `apt-get install -y npm`) so the solara "
            f"front-end assets can be fetched from the npm registry, or set {ENV_VAR} to a "
            "folder already filled by `python -m runs.page.assets` on another machine.")
    cmd = [npm, "pack", *specs, "--json", "--pack-destination", str(dest),
           "--fetch-retries=1", "--fetch-timeout=60000", "--no-audit", "--no-fund"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=dest)
    if proc.returncode != 0:
        registry = subprocess.run([npm, "config", "get", "registry"], capture_output=True,
                                  text=True).stdout.strip() or "the npm registry"
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise AssetsError(
            f"`npm pack` failed (exit {proc.returncode}); is {registry} reachable? Check the "
            "network/proxy (npm config set registry/proxy), or run with internet once - the "
            f"solara server then fills its cache itself.\n{tail}")
    return json.loads(proc.stdout)


def _install(tarball: Path, target: Path, info: dict, work: Path) -> None:
    """Unpack ``tarball`` in ``work``, write the marker, then rename it to ``target``."""
    unpack = Path(tempfile.mkdtemp(prefix="unpack-", dir=work))
    with tarfile.open(tarball) as tar:
        tar.extractall(unpack, filter="data")
    roots = list(unpack.iterdir())  # npm tarballs hold one folder, usually package/
    if len(roots) != 1 or not roots[0].is_dir():
        raise AssetsError(f"{tarball.name}: expected one top folder, found {[p.name for p in roots]}")
    root = roots[0]
    (root / MARKER).write_text(json.dumps(
        {k: info.get(k) for k in ("id", "name", "version", "integrity")}, indent=1))
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():  # partial folder the proxy wrote while online: replace it
        old = work / f"old-{target.name}"
        target.rename(old)
        shutil.rmtree(old, ignore_errors=True)
    root.rename(target)


def _fetch(todo: list[str], cache_dir: Path, quiet: bool) -> None:
    """npm-pack the specs in ``todo`` and move each, unpacked, into ``cache_dir``."""
    t0 = time.perf_counter()
    if not quiet:
        print(f"solara assets: fetching {len(todo)} npm packages into {cache_dir} ...")
    work = Path(tempfile.mkdtemp(prefix=".npm-pack-", dir=cache_dir))
    try:
        report = _npm_pack(todo, work)
        if len(report) != len(todo):
            raise AssetsError(f"npm pack returned {len(report)} packages for {len(todo)} specs")
        for spec, info in zip(todo, report):
            _install(work / info["filename"], cache_dir / spec, info, work)
            if not quiet:
                print(f"  {spec:45s} -> {info['name']}@{info['version']}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not quiet:
        print(f"solara assets: done in {time.perf_counter() - t0:.1f} s")


@contextlib.contextmanager
def _locked(cache_dir: Path):
    """Hold an exclusive lock on ``cache_dir`` (pytest-xdist workers may race); no-op off POSIX."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(cache_dir / ".tokenmarket-npm-pack.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def ensure_assets(cache_dir: Path | None = None, *, quiet: bool = False) -> Path:
    """Make sure every package in ASSETS is unpacked in the solara CDN cache.

    Idempotent: a package whose folder has the marker file is skipped, so a
    warm call costs milliseconds and needs no npm. Atomic per package: it is
    unpacked into a temp folder inside ``cache_dir`` and renamed into place, so
    the server never sees half a package. If ``cache_dir`` is not solara's
    default, start the server with ``SOLARA_ASSETS_PROXY_CACHE_DIR=<cache_dir>``.
    Returns the cache folder. Raises AssetsError if npm is missing or fails.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    if not missing_assets(cache_dir):  # fast path, no lock
        if not quiet:
            print(f"solara assets: all {len(ASSETS)} packages present in {cache_dir}")
        return cache_dir
    with _locked(cache_dir):
        todo = missing_assets(cache_dir)  # another process may have filled it meanwhile
        if todo:
            _fetch(todo, cache_dir, quiet)
    still = missing_assets(cache_dir)
    if still:
        raise AssetsError(f"packages unpacked but expected files missing: {still} "
                          "(did a package change its layout? update runs.page.assets.ASSETS)")
    return cache_dir


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m runs.page.assets [--cache-dir DIR] [--quiet]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help=f"default: ${ENV_VAR} or <prefix>/share/solara/cdn")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        path = ensure_assets(args.cache_dir, quiet=args.quiet)
    except AssetsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.quiet:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
