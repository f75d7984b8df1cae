"""A run's manifest.json: everything needed to reproduce the run, and a record of where it came from.

The config is stored whole, dumped in the schema's order (the order of ``vertical_mix`` and ``per_vertical``
entries matters to the model, so keys are never sorted), with the seed, the run id that the CSVs carry, the
number of customers sampled into customers.csv and the CSV mode. :func:`read_run_manifest` turns a manifest back
into what a run needs, validating the config with the same strict schema as a scenario file; ``tokenmarket run
--from-manifest`` then rewrites the same CSVs byte for byte (same code and package versions assumed: the
manifest records both).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from market.config import ConfigError, MarketConfig, build_config
from runs.io import CSV_MODES, RUN_KIND, SWEEP_KIND, OutputError, read_manifest_data

FORMAT_VERSION = 1


@dataclass(frozen=True)
class RunManifest:
    """One run's manifest.

    Attributes:
        run_id: the run's id (``<scenario name>-seed<seed>``), written in every CSV row.
        seed: the model's seed (int ≥ 0).
        config: the validated config the run used.
        scenario: the scenario as given (name or path; for the record).
        overrides: the ``--set`` overrides as parsed (for the record; they are already in ``config``).
        customers: customers sampled into customers.csv (0: none).
        customers_rows: rows customers.csv got (≤ the simulated customers).
        csv: ``plain`` or ``excel`` (UTF-8 BOM, formula-like text neutralised).
        from_manifest: the manifest this run was reproduced from, if any.
        calibrated: the calibrated layer under the scenario (file, sha256, the calibration's date, commit and J,
            the paths it set; :func:`market.scenario.layer_record`), or None without one. For the record: the
            config already holds the values, so a replay does not read the layer.
        versions, git_commit, started_utc, finished_utc, files: provenance of the run.
    """

    run_id: str
    seed: int
    config: MarketConfig
    scenario: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    customers: int = 0
    customers_rows: int = 0
    csv: str = "plain"
    from_manifest: str | None = None
    calibrated: dict[str, Any] | None = None
    versions: dict[str, str] = field(default_factory=dict)
    git_commit: str = "unknown"
    started_utc: str = ""
    finished_utc: str = ""
    files: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, keys in a fixed order and the config in the schema's order."""
        out: dict[str, Any] = {"kind": RUN_KIND, "format_version": FORMAT_VERSION, "run_id": self.run_id,
                               "seed": self.seed, "rounds": self.config.world.rounds, "scenario": self.scenario,
                               "overrides": self.overrides, "customers": self.customers,
                               "customers_rows": self.customers_rows, "csv": self.csv}
        if self.from_manifest is not None:
            out["from_manifest"] = self.from_manifest
        out["calibrated_layer"] = self.calibrated
        out.update(config=self.config.model_dump(mode="json"), versions=self.versions, git_commit=self.git_commit,
                   started_utc=self.started_utc, finished_utc=self.finished_utc, files=list(self.files))
        return out


def _field(data: dict, key: str, kind: type, path: Path, default: Any = ...) -> Any:
    if key not in data:
        if default is ...:
            raise ConfigError(f"--from-manifest: {path}: {key!r} missing; a run manifest has run_id, seed and config")
        return default
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"--from-manifest: {path}: {key}: {value!r} is not "
                          f"{'an integer' if kind is int else 'text' if kind is str else 'valid'}")
    return value


def read_run_manifest(path: Path | str) -> RunManifest:
    """The run a manifest.json describes, its config validated (strict types, every rule of the schema).

    Raises:
        ConfigError: unreadable or not JSON, a sweep's manifest, a missing or mistyped ``run_id``, ``seed``,
            ``customers`` or ``csv``, or a config the schema refuses (naming the field, value and rule).
    """
    path = Path(path)
    try:
        data = read_manifest_data(path)
    except OutputError as err:
        raise ConfigError(f"--from-manifest: manifest {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"--from-manifest: {path}: not a run manifest (a JSON object with run_id, seed, config)")
    if data.get("kind") == SWEEP_KIND:
        raise ConfigError(f"--from-manifest: {path} is a sweep manifest; a run manifest is the manifest.json of a "
                          f"run folder (continue a sweep with tokenmarket sweep --resume)")
    if data.get("kind", RUN_KIND) != RUN_KIND:
        raise ConfigError(f"--from-manifest: {path}: kind {data.get('kind')!r}; allowed: {RUN_KIND!r}")
    run_id = _field(data, "run_id", str, path)
    seed = _field(data, "seed", int, path)
    if seed < 0:
        raise ConfigError(f"--from-manifest: {path}: seed: {seed} out of range (allowed: ≥ 0)")
    raw = _field(data, "config", dict, path)
    customers = _field(data, "customers", int, path, default=_field(data, "customers_rows", int, path, default=0))
    csv = _field(data, "csv", str, path, default="plain")
    if csv not in CSV_MODES:
        raise ConfigError(f"--from-manifest: {path}: csv: {csv!r}; allowed: {', '.join(CSV_MODES)}")
    try:
        config = build_config(raw)
    except ConfigError as err:
        raise ConfigError(f"--from-manifest: {path}: config: {err}") from None
    layer = data.get("calibrated_layer")
    return RunManifest(run_id=run_id, seed=seed, config=config, scenario=data.get("scenario"),
                       overrides=data.get("overrides") or {}, customers=max(0, customers), csv=csv,
                       calibrated=layer if isinstance(layer, dict) else None)
