"""Strategy games over the simulation: empirical game-theoretic analysis (DESIGN.md §8, "Games").

A game file (TOML, :mod:`runs.games.spec`) names roles — labs that choose one strategic move of
:data:`market.config.MOVES` from a strategy set — and conditions (override sets such as growth vs disciplined
money). Every strategy profile is run over the same replicate seeds with the moves forced
(:class:`market.config.ForcedMove`), on the sweep executors, into a resumable folder
(:mod:`runs.games.execute`). The runs give an empirical payoff table with standard errors
(:mod:`runs.games.table`), whose equilibria, regrets and bootstrap robustness :mod:`runs.games.equilibria`
computes and :mod:`runs.games.analysis` / :mod:`runs.games.report` write out. docs/games.md explains the method.

Modules: ``spec`` (the file format), ``profiles`` (roles, symmetric reduction, forced moves), ``plan`` (the
runs of a game), ``runner`` (one run → its payoff record; the payoff function), ``execute`` (the folder),
``table`` (payoff table), ``equilibria`` (regret, pure and mixed equilibria, robustness), ``analysis``,
``charts``, ``report``; the command is :mod:`runs.commands.game`.
"""
