"""Scenario discovery: where in the swept parameter space an outcome appears (DESIGN.md §8).

``tokenmarket discover SWEEP_DIR --outcome NAME`` reads a sweep folder (:mod:`runs.sweeps.sweep`), marks each run by
whether the outcome appeared, and finds boxes of the swept parameters where it does with PRIM, the patient rule
induction method (Friedman and Fisher 1999), as EMA Workbench implements it (``ema_workbench.analysis.prim``;
Kwakkel 2017). Modules: ``prim`` (data, boxes), ``report`` (files and chart); the command is :mod:`runs.commands.discover`. docs/games.md explains it.
"""
