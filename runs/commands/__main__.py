"""``python -m runs.commands …`` runs the ``tokenmarket`` command."""

import sys

from runs.commands.main import main

sys.exit(main())
