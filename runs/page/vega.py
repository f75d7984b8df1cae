"""A Vega-Lite chart widget for the page that updates in place.

solara's ``FigureAltair`` sends a new spec each round and its front end embeds a new Vega view each time without
finalizing the old one, so the tab's memory grows without bound (27 MB → 540 MB in 60 rounds). :class:`VegaChart`
keeps one view per widget: the spec is sent without its rows (``spec``) and the rows separately under stable
dataset names (``datasets``: ``d0``, ``d1``, …). When only rows change, the front end swaps them into the live
view (``view.change``); when the spec changes (a firm enters a legend), it finalizes the old view before
embedding the new one (``runs/page/vega_chart.vue``).

Specs are made with ``to_dict(validate=False)``: the builders are tested against the schema in
tests/test_runs/test_charts.py, and validating every round cost most of the page's time per round.
"""

from __future__ import annotations

import json
import os

import altair as alt
import ipyvuetify as v
import solara
import traitlets


class VegaChart(v.VuetifyTemplate):
    """Front end of one chart: ``spec`` (Vega-Lite without rows, dict), ``datasets`` (name → list of row dicts)."""

    template_file = os.path.join(os.path.dirname(os.path.realpath(__file__)), "vega_chart.vue")
    spec = traitlets.Dict().tag(sync=True)
    datasets = traitlets.Dict().tag(sync=True)


def split_spec(chart: alt.TopLevelMixin) -> tuple[dict, dict[str, list]]:
    """(spec without rows, rows by stable name) of an Altair chart.

    Altair names inline datasets by a hash of their rows (``data-<hash>``), so the name changes every round; they
    are renamed ``d0``, ``d1``, … in order of appearance, so an unchanged spec compares equal round to round.
    """
    spec = chart.to_dict(validate=False)
    datasets = spec.pop("datasets", {})
    text = json.dumps(spec)
    renamed = {}
    for i, (old, rows) in enumerate(datasets.items()):
        text = text.replace(json.dumps(old), json.dumps(f"d{i}"))
        renamed[f"d{i}"] = rows
    return json.loads(text), renamed


@solara.component
def Chart(chart: alt.TopLevelMixin, class_: str = "tm-chart"):
    """One chart on the page, updated in place round to round (see the module docstring)."""
    spec, datasets = split_spec(chart)
    return VegaChart.element(spec=spec, datasets=datasets, class_=class_)
