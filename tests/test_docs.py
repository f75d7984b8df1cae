"""The documents a modeller reads agree with the code: ODD.md's parameter table is the schema, its function names
exist, its calibrated constants are the code's; README's questions point at real scenarios and valid commands."""

import importlib
import re
import shlex
from pathlib import Path

import pytest

from market import costs
from market.config import WorldConfig, list_scenarios, schema_fields
from market.scenario import config_from
from runs.commands.main import build_parser
from runs.sweeps.designs import parse_grid
from runs.reports.params import odd_block, odd_table_paths, splice_odd

ROOT = Path(__file__).resolve().parent.parent
ODD = ROOT / "docs" / "ODD.md"
ASSUMPTIONS = ROOT / "docs" / "assumptions.md"
README = ROOT / "README.md"
CONFIG_ROOTS = ("world.", "customers.", "labs[].", "providers.", "wrappers.", "finance.", "outcomes.", "moves.")


def _section(text: str, heading: str) -> str:
    start = text.index(f"## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


# ------------------------------------------------------------------------------------------------ ODD.md

def test_odd_table_lists_every_schema_field_once_and_nothing_else():
    listed = odd_table_paths(ODD.read_text())
    fields = [f.path for f in schema_fields()]
    assert len(listed) == len(set(listed)), "a parameter is listed twice"
    assert not set(fields) - set(listed), f"fields missing from docs/ODD.md: {sorted(set(fields) - set(listed))}"
    extra = sorted(set(listed) - set(fields))
    assert not extra, f"rows of docs/ODD.md that are no config field: {extra}"


def test_odd_table_is_not_stale():
    text = ODD.read_text()
    assert splice_odd(text, odd_block()) == text, \
        "docs/ODD.md's parameter table differs from the schema: run `tokenmarket params --odd docs/ODD.md`"


def test_odd_table_sources_are_the_values_own():
    """Each row of the ODD table gives the source of the baseline's value, as `tokenmarket params` does for it, not
    the schema default's reason glued to it: a single-valued field's cell is its row's source, and no cell has an
    empty element list or contradicts itself (wrappers' step 0.1 is "at most 10 %", not "a 5 % move")."""
    from runs.reports.params import _cell, parameter_rows

    text = ODD.read_text()
    table = text[text.index("<!-- params:begin -->"):text.index("<!-- params:end -->")]
    header = next(line for line in table.splitlines() if line.startswith("| parameter |"))
    column = [c.strip() for c in header.strip("|").split("|")].index("source")
    cells = {m.group(1): [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
             for line in table.splitlines() if (m := re.match(r"^\| `([^`]+)` \|", line))}
    assert "elements: []" not in table and "— elements:" not in table
    for r in parameter_rows():
        if "[]" not in r.path and r.path in cells:
            assert cells[r.path][column] == _cell(r.source, r.keys), r.path
    assert cells["pricing.adjustment"][column].startswith("assumption: partial best-response dynamics")


def test_staleness_is_detected_when_a_unit_changes(monkeypatch):
    extra = WorldConfig.model_fields["rounds"].json_schema_extra
    monkeypatch.setitem(extra, "unit", "fortnights")
    text = ODD.read_text()
    assert splice_odd(text, odd_block()) != text


def test_odd_has_the_protocol_sections_and_design_concepts():
    text = ODD.read_text()
    for heading in ("1. Purpose and patterns", "2. Entities, state variables and scales",
                    "3. Process overview and scheduling", "4. Design concepts", "5. Initialisation", "6. Input data",
                    "7. Submodels", "8. Parameters"):
        assert f"## {heading}\n" in text, heading
    concepts = _section(text, "4. Design concepts")
    for concept in ("Basic principles", "Emergence", "Adaptation", "Objectives", "Learning", "Prediction", "Sensing",
                    "Interaction", "Stochasticity", "Collectives", "Observation"):
        assert f"**{concept}.**" in concepts, concept


def _resolve(dotted: str):
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


@pytest.mark.parametrize("doc", [ODD, ASSUMPTIONS])
def test_code_named_in_the_docs_exists(doc):
    text = doc.read_text()
    names = {n for n in re.findall(r"`((?:market|agents|runs)\.[A-Za-z_][\w.]*)`", text)
             if not n.endswith((".csv", ".json", ".md", ".py"))}
    assert len(names) > (30 if doc is ODD else 5)
    missing = []
    for name in sorted(names):
        try:
            _resolve(name)
        except (ModuleNotFoundError, AttributeError):
            missing.append(name)
    assert not missing, f"{doc.name} names code that does not exist: {missing}"
    files = set(re.findall(r"`((?:market|agents|runs|tests)/[\w/]+\.py)`", text))
    assert not [f for f in files if not (ROOT / f).exists()], files


@pytest.mark.parametrize("doc", [ODD, ASSUMPTIONS])
def test_config_paths_named_in_the_docs_are_fields(doc):
    fields = {f.path for f in schema_fields()}
    prose = doc.read_text().split("<!-- params:begin -->")[0]
    named = {m for m in re.findall(r"`([a-z_\[\]]+\.[a-z_.\[\]*]+)`", prose)
             if m.startswith(CONFIG_ROOTS) and not m.endswith((".csv", ".json", ".md", ".py"))}
    assert named
    sections = {f"{field.rsplit('.', i)[0]}" for field in fields for i in range(1, field.count(".") + 1)}
    sections |= {s.removesuffix("[]") for s in sections}
    bad = [n for n in named if n not in fields and n.removesuffix(".*") not in sections]
    assert not bad, f"{doc.name} names config paths that do not exist: {bad}"


def test_odd_states_the_calibrated_constants_the_code_computes():
    text = ODD.read_text()
    t_sat, c0 = costs.nim_curve()
    lab, host = costs.deepseek_tech(), costs.provider_tech()
    expected = [f"T_{{\\text{{sat}}}} \\approx {t_sat:.0f}$", f"c_0 \\approx {c0:.2f}$",
                f"\\sigma_{{DS}} \\approx {lab.skill:.2f}$", f"$r = {lab.replica_gpus}$",
                f"$g \\approx {costs.gpu_seconds_per_mtok(lab):.0f}$",
                f"prefill $\\approx {lab.prefill_tok_s_per_gpu:.0f}$",
                f"{host.prefill_tok_s_per_gpu:,.0f} tok/s", f"= {lab.diurnal_peak_to_average:.3f})",
                f"cache-hit rate {lab.cache_hit_rate:.4f}", f"$r = {host.replica_gpus}$ GPUs",
                f"$\\phi = {lab.input_share:.4f}$", f"c^* = {costs.slo_concurrency(lab):.1f}$"]
    missing = [e for e in expected if e not in text]
    assert not missing, f"docs/ODD.md §7.1 disagrees with market/costs.py: {missing}"


# ------------------------------------------------------------------------------------------------ README

def _readme_commands() -> list[list[str]]:
    section = _section(README.read_text(), "What it can tell you")
    return [shlex.split(c) for c in re.findall(r"`(tokenmarket [^`]+)`", section)]


def test_readme_answers_each_question_with_real_scenarios():
    section = _section(README.read_text(), "What it can tell you")
    rows = [line for line in section.splitlines() if line.startswith("| Q")]
    assert [r[2:4] for r in rows] == [f"Q{i}" for i in range(1, 7)]
    shipped = set(list_scenarios())
    for row in rows:
        named = set(re.findall(r"`([a-z_]+)`", row.split(" | ")[1]))
        assert named and named <= shipped, f"{row[:40]}: {named - shipped}"


@pytest.mark.parametrize("argv", _readme_commands(), ids=lambda a: " ".join(a[1:4]))
def test_readme_commands_parse_and_their_settings_validate(argv):
    assert argv[0] == "tokenmarket"
    args = build_parser().parse_args(argv[1:])
    scenario = getattr(args, "scenario", None)
    assert scenario is None or scenario in list_scenarios()
    sets = dict(item.split("=", 1) for item in getattr(args, "set", []))
    config_from(scenario, sets)
    for key, values in parse_grid(getattr(args, "grid", [])):
        for value in values:
            config_from(scenario, {**sets, key: value})


def test_readme_covers_each_question_and_lists_params_and_the_docs():
    text = README.read_text()
    assert len(_readme_commands()) >= 12
    commands = _section(text, "Commands")
    assert "`tokenmarket params" in commands and "--odd docs/ODD.md" in commands
    for link in ("docs/ODD.md", "docs/assumptions.md"):
        assert f"]({link})" in text and (ROOT / link).exists()
    assumptions = ASSUMPTIONS.read_text()
    for q in ("Q1", "Q2", "Q3", "Q4", "Q5", "Q6"):
        assert assumptions.count(q) >= 3, q
