"""Sweep designs: points, run ids, seeds, samplers, and bad designs refused before any run (exit status 2)."""

from __future__ import annotations

import numpy as np
import pytest

from market.config import ConfigError
from market.scenario import config_from
from runs.commands.main import main
from runs.sweeps.designs import field_kind, make_design, parse_grid, parse_ranges, run_seed

BASE = config_from(None, {"customers.n_customers": 2000}).model_dump(mode="json")
TINY = ["--set", "customers.n_customers=2000", "--rounds", "3", "--quiet"]


def test_grid_is_cartesian_product_first_key_slowest():
    d = make_design(BASE, grid=parse_grid(["gpu_market.reference_rent_usd_per_hour=2,3", "providers.n=1,2,4"]), replicates=2)
    pts = d.points()
    assert len(pts) == 6
    assert pts[0] == {"gpu_market.reference_rent_usd_per_hour": 2.0, "providers.n": 1}
    assert pts[3] == {"gpu_market.reference_rent_usd_per_hour": 3.0, "providers.n": 1}
    assert isinstance(pts[0]["providers.n"], int) and isinstance(pts[0]["gpu_market.reference_rent_usd_per_hour"], float)
    table = d.table()
    assert len(table) == 12 and table["run_id"].is_unique
    assert list(table["run_id"][:3]) == ["p0000-r00", "p0000-r01", "p0001-r00"]
    assert list(table.columns) == ["run_id", "point", "replicate", "seed", "gpu_market.reference_rent_usd_per_hour", "providers.n"]


def test_no_parameter_is_one_point_of_replicates():
    d = make_design(BASE, replicates=3, master_seed=5)
    assert d.points() == [{}] and len(d.table()) == 3


def test_seeds_depend_only_on_master_point_replicate():
    small = make_design(BASE, grid=parse_grid(["providers.n=1,2"]), replicates=2, master_seed=9).table()
    large = make_design(BASE, grid=parse_grid(["providers.n=1,2,3"]), replicates=3, master_seed=9).table()
    for _, row in small.iterrows():
        match = large[(large.point == row.point) & (large.replicate == row.replicate)]
        assert int(match.seed.iloc[0]) == int(row.seed) == run_seed(9, row.point, row.replicate)
    other = make_design(BASE, grid=parse_grid(["providers.n=1,2"]), replicates=2, master_seed=10).table()
    assert not set(small.seed) & set(other.seed)
    assert small.seed.is_unique and all(0 <= s < 2**63 for s in small.seed)


def test_common_random_numbers_share_seed_across_points():
    t = make_design(BASE, grid=parse_grid(["providers.n=1,2,3"]), replicates=2, common_random_numbers=True).table()
    assert t.groupby("replicate")["seed"].nunique().eq(1).all()
    assert t["seed"].nunique() == 2


@pytest.mark.parametrize("method,n,points", [("random", 5, 5), ("lhs", 5, 5), ("sobol", 8, 8 * 4), ("morris", 3, 3 * 3)])
def test_samplers_shape_bounds_types_and_reproducible(method, n, points):
    ranges = parse_ranges(["gpu_market.reference_rent_usd_per_hour=1.5:4", "open_weights.distill_lag_months=0:12"])
    d = make_design(BASE, method=method, n=n, ranges=ranges, master_seed=3)
    pts = d.points()
    assert len(pts) == points
    rent = np.array([p["gpu_market.reference_rent_usd_per_hour"] for p in pts])
    lag = [p["open_weights.distill_lag_months"] for p in pts]
    assert ((rent >= 1.5) & (rent <= 4)).all() and all(isinstance(v, int) and 0 <= v <= 12 for v in lag)
    assert all(float(f"{v:.10g}") == v for v in rent)  # what the CSV shows is what ran
    assert make_design(BASE, method=method, n=n, ranges=ranges, master_seed=3).points() == pts
    assert make_design(BASE, method=method, n=n, ranges=ranges, master_seed=4).points() != pts


def test_field_kinds_and_list_and_dict_paths():
    assert field_kind("world.rounds") == "int"
    assert field_kind("labs.0.skill") == "float"
    assert field_kind("world__scale_economies") == "bool"
    assert field_kind("labs.1.pricing.name") == "str"
    assert field_kind("wrappers.per_vertical.coding") == "int"
    with pytest.raises(ConfigError, match="unknown key"):
        field_kind("world.nope")
    with pytest.raises(ConfigError, match="group of fields"):
        field_kind("labs.0")


def test_double_underscore_keys_are_dotted():
    d = make_design(BASE, grid=[("gpu_market__reference_rent_usd_per_hour", ["2"])])
    assert d.keys == ["gpu_market.reference_rent_usd_per_hour"]


BAD = [
    (["--grid", "world.nope=1,2"], ["world.nope", "unknown key"]),
    (["--grid", "world.rounds=abc"], ["world.rounds", "'abc'", "int"]),
    (["--grid", "providers.n=1,2.5"], ["providers.n", "2.5", "int"]),
    (["--grid", "world.scale_economies=1"], ["world.scale_economies", "bool"]),
    (["--grid", "gpu_market.reference_rent_usd_per_hour=2,0"], ["gpu_market.reference_rent_usd_per_hour", "0", "(0, 50]"]),
    (["--grid", "gpu_market.reference_rent_usd_per_hour=2,"], ["--grid", "empty value"]),
    (["--grid", "labs.9.skill=1,2"], ["labs.9", "no such list element"]),
    (["--sample", "lhs", "--n", "4", "--range", "gpu_market.reference_rent_usd_per_hour=3:3"], ["empty range", "lo < hi"]),
    (["--sample", "lhs", "--n", "4", "--range", "gpu_market.reference_rent_usd_per_hour=4:2"], ["lo 4 > hi 2"]),
    (["--sample", "lhs", "--n", "4", "--range", "gpu_market.reference_rent_usd_per_hour=-1:2"], ["-1", "(0, 50]"]),
    (["--sample", "lhs", "--n", "4", "--range", "world.scale_economies=0:1"], ["bool", "cannot take a range"]),
    (["--sample", "lhs", "--n", "4", "--range", "world.rounds"], ["expected key=lo:hi"]),
    (["--sample", "sobol", "--n", "2", "--range", "labs.0.skill=0.5:2"], ["--n", "2", "Sobol", "power of 2"]),
    (["--sample", "sobol", "--n", "12", "--range", "labs.0.skill=0.5:2"], ["--n", "12", "power of 2"]),
    (["--sample", "morris", "--n", "1", "--range", "labs.0.skill=0.5:2"], ["--n", "1", "Morris"]),
    (["--sample", "morris", "--n", "4", "--range", "providers.n=1:2"], ["providers.n", "too narrow"]),
    (["--sample", "lhs", "--range", "labs.0.skill=0.5:2"], ["--n is required"]),
    (["--sample", "lhs", "--n", "4"], ["at least one --range"]),
    (["--range", "labs.0.skill=0.5:2"], ["--range needs --sample"]),
    (["--grid", "labs.0.skill=1,2", "--n", "4"], ["--n applies only"]),
    (["--grid", "labs.0.skill=1,2", "--sample", "lhs", "--n", "4", "--range", "labs.1.skill=1:2"], ["cannot be combined"]),
    (["--grid", "labs.0.skill=1,2", "--grid", "labs.0.skill=3"], ["labs.0.skill", "varied twice"]),
    (["--grid", "world.rounds=3,4"], ["--rounds", "world.rounds"]),
    (["--set", "world.nope=1", "--grid", "labs.0.skill=1,2"], ["world.nope", "unknown key"]),
    (["--grid", "labs.0.name=x,y", "--grid", "labs.1.name=x,z"], ["design point 0", "'x'", "unique"]),
]


@pytest.mark.parametrize("args,words", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_design_exits_2_before_any_run(tmp_path, capsys, args, words):
    out = tmp_path / "sweep"
    assert main(["sweep", *TINY, *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "tokenmarket sweep: error:" in err
    for w in words:
        assert w in err, (w, err)
    assert not out.exists()


@pytest.mark.parametrize("args", [["--replicates", "0"], ["--seed", "-1"], ["--workers", "0"], ["--rounds", "0"],
                                  ["--sample", "halton"], ["--n", "x"]])
def test_bad_numbers_rejected_by_parser(tmp_path, capsys, args):
    with pytest.raises(SystemExit) as exc:
        main(["sweep", *TINY, *args, "--out", str(tmp_path / "s")])
    assert exc.value.code == 2
    assert args[0] in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_out_must_be_new_or_empty(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["sweep", *TINY, "--out", str(tmp_path)]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_resume_needs_a_sweep_folder(tmp_path, capsys):
    assert main(["sweep", "--out", str(tmp_path / "none"), "--resume", "--quiet"]) == 2
    assert "not a sweep folder" in capsys.readouterr().err
