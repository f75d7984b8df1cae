"""Sweeps: designs (which values, which seeds), executors (where runs run), the resumable sweep folder, and
sensitivity analysis of its results."""
