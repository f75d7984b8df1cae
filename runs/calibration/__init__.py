"""Calibration by simulated moments against dated public paths (``tokenmarket calibrate``; docs/calibration.md).

Modules, one job each:

- :mod:`~runs.calibration.targets`: the targets table (``targets.toml``): which public figure is compared with
  which model output, at which round, how, and how much it weighs;
- :mod:`~runs.calibration.parameters`: the estimated parameters (``parameters.toml``): config path, prior range,
  scale;
- :mod:`~runs.calibration.moments`: model outputs → moments and comparison errors (runs in the workers);
- :mod:`~runs.calibration.estimate`: the plan, the optuna search on the sweep executors, resume;
- :mod:`~runs.calibration.uncertainty`: bootstrap draws over targets and seeds, :func:`draw_overrides`;
- :mod:`~runs.calibration.identification`: the local Jacobian, its singular values and flat directions;
- :mod:`~runs.calibration.outputs`: fit table, best point, calibrated scenario TOML;
- :mod:`~runs.calibration.report`: the HTML report;
- :mod:`~runs.calibration.cli`: the ``calibrate`` subcommand.
"""

from __future__ import annotations


class CalibrationError(ValueError):
    """Bad calibration input (targets or parameters file, plan, output folder), found before any run.

    The message names the file, the row (target, series or parameter) and the field, the value and what is
    allowed; the CLI prints it and exits with status 2.
    """


def draw_overrides(draws_path):
    """Each plausible parameter vector of a calibration as ``--set`` overrides (see
    :func:`runs.calibration.uncertainty.draw_overrides`)."""
    from runs.calibration.uncertainty import draw_overrides as _draw_overrides

    return _draw_overrides(draws_path)


__all__ = ["CalibrationError", "draw_overrides"]
