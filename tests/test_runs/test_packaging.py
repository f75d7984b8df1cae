"""An installed (non-editable) wheel carries its data: the shipped scenarios and the calibration table are
package data of ``market`` and are found through importlib.resources, not through the source tree."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The project built as a wheel and installed (without dependencies) into a bare target folder."""
    base = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(base / "dist"), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    wheel = next((base / "dist").glob("tokenmarket-*.whl"))
    target = base / "site"
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                           str(wheel)], capture_output=True, text=True, timeout=300)
    assert inst.returncode == 0, inst.stderr
    return target


def _python(target: Path, cwd: Path, code: str) -> subprocess.CompletedProcess:
    # The wheel's folder first on the path, run from elsewhere: the source tree cannot be what is imported.
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_installed_wheel_lists_and_loads_every_shipped_scenario(installed, tmp_path):
    res = _python(installed, tmp_path, """
import market
from market.config import list_scenarios
from market.scenario import config_from
print(market.__file__)
names = list(list_scenarios())
for name in names:
    config_from(name)
print(len(names))
""")
    assert res.returncode == 0, res.stderr
    where, count = res.stdout.split()
    assert Path(where).is_relative_to(installed)
    assert int(count) == len(list((ROOT / "market" / "scenarios").glob("*.toml"))) >= 9


def test_installed_wheel_runs_a_scenario_from_the_command_line_and_batch_run(installed, tmp_path):
    res = _python(installed, tmp_path, """
import sys, mesa
from runs.commands.main import main
code = main(["run", "--scenario", "commodity_pipe", "--set", "customers.n_customers=1000", "--rounds", "1",
             "--quiet", "--out", "out"])
assert code == 0, code
from market.model import TokenMarket
rows = mesa.batch_run(TokenMarket, {"scenario": "differentiated", "customers__n_customers": 1000}, rng=[1],
                      max_steps=1, number_processes=1, display_progress=False)
print(len(rows))
""")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out" / "manifest.json").is_file()
    assert res.stdout.split()[-1] == "1"
