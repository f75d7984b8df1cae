"""The ``tokenmarket`` command line, one module per command.

A command is a module of this package that defines ``register(subparsers)`` (adds its sub-parser and sets
``func``) and optionally ``ORDER`` (its place in ``--help``; default 100). :func:`runs.commands.main.build_parser`
walks this package and registers every such module, so adding a command is adding a module here: no list to
edit, and no command module imports the entry point. Shared pieces (``UsageError``, ``require``, flag parsers)
live in :mod:`runs.commands.common`. Command modules stay thin: parse, validate, call into their job's package
(``runs.sweeps``, ``runs.reports``, ``runs.page``, …), importing optional packages inside the command function.
"""
