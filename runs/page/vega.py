"""A Vega-Lite chart widget for the page that releases its old view on every redraw.

solara's ``FigureAltair`` embeds a new Vega view each round without finalizing the old one, so the tab's memory
grew without bound (27 MB → 540 MB in 60 rounds). :class:`VegaChart` finalizes the previous view before it
embeds the next (``runs/page/vega_chart.vue``); the page redraws every k rounds while playing.

Specs are made with ``to_dict(validate=False)``: the builders are checked against the schema in
tests/test_runs/test_charts.py, and validating every redraw cost a large part of the page's time per round.
"""

from __future__ import annotations

import json
import os

import altair as alt
import ipyvuetify as v
import traitlets


class VegaChart(v.VuetifyTemplate):
    """Front end of one chart: ``spec``, the JSON text of a Vega-Lite spec with its rows; ``name``, its key.

    JSON text rather than an object trait: Vue would make every row of an object reactive (a getter and setter
    per field, kept alive with the rows), which cost more time and memory than drawing the chart.
    """

    template_file = os.path.join(os.path.dirname(os.path.realpath(__file__)), "vega_chart.vue")
    spec = traitlets.Unicode("{}").tag(sync=True)
    name = traitlets.Unicode("").tag(sync=True)  # the chart's key: its box has classes tm-chart tm-chart-<name>


def spec_json(chart: alt.TopLevelMixin) -> str:
    """JSON text of an Altair chart's Vega-Lite spec, rows included (not validated: see the module docstring)."""
    return json.dumps(chart.to_dict(validate=False))
