"""Reports: charts (DataFrame → Altair chart), report.html and PNGs, the summary printed after a run, and the
parameter table (``tokenmarket params``, the ODD table)."""
