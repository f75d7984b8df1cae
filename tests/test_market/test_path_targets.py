"""market.path_targets (the dated paths) and the 'estimated' source kind of market.provenance."""

import pytest

from market import calibration, path_targets
from market.provenance import SourceError, cited_keys, resolve_source


def test_rows_are_read_verbatim_and_numeric():
    keys = path_targets.keys()
    assert len(keys) == len(set(keys)) == 116
    assert path_targets.value("anthropic_arr_2026_05") == 47.0
    assert path_targets.row("openai_arr_2024_friar")["as_of"] == "2024-12"
    assert not set(keys) & set(calibration.keys())   # the two tables never share a key


def test_unknown_key_suggests_close_matches():
    with pytest.raises(KeyError, match="anthropic_arr_2025_12"):
        path_targets.value("anthropic_arr_2025_13")


def test_quality_tags_come_from_the_note():
    assert path_targets.quality("openai_revenue_2025") == ("UNVERIFIED", "secondary")
    assert path_targets.quality("anthropic_arr_2025_08") == ("secondary",)
    assert path_targets.quality("training_cost_growth_rate_frontier") == ("ESTIMATE",)
    assert path_targets.quality("openai_arr_2024_friar") == ()


def test_an_estimated_source_resolves_and_skips_its_file_name():
    text = ("estimated by tokenmarket calibrate against out/my_targets.toml (fit: J = 1.2 at trial 3 of 40, 30 of "
            "56 targets within tolerance; draws 5-95 %: 2 to 3)")
    src = resolve_source(text)
    assert src.kind == "estimated" and src.keys == ()
    assert cited_keys(text) == ()


def test_a_malformed_estimated_source_is_refused():
    with pytest.raises(SourceError, match="estimated by tokenmarket calibrate against <targets file>"):
        resolve_source("estimated by tokenmarket calibrate, roughly")
    with pytest.raises(SourceError, match="not_a_key"):
        resolve_source("estimated by tokenmarket calibrate against t.toml (fit: see not_a_key)")


def test_path_target_keys_count_as_real_names_in_prose():
    assert cited_keys("compared with openai_arr_2025_06 and price_gpt5_input_usd_per_m") == ("price_gpt5_input_usd_per_m",)
