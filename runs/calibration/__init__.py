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
- :mod:`runs.commands.calibrate`: the ``calibrate`` subcommand.
"""

from __future__ import annotations


class CalibrationError(ValueError):
    """Bad calibration input (targets or parameters file, plan, output folder), found before any run.

    The message names the file, the row (target, series or parameter) and the field, the value and what is
    allowed; the CLI prints it and exits with status 2.
    """


__all__ = ["CalibrationError"]
