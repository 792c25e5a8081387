"""The ``relay`` command (docs/operations.md "Commands").

Every subcommand takes ``--config FILE`` (or ``RELAY_CONFIG``), ``--data-dir DIR`` (or
``RELAY_DATA_DIR``) and ``--lang fr|en``; with no database URL they use the embedded
PostgreSQL of the data directory, so a command run beside ``relay serve`` works on the
same database. ``parser`` reads the arguments, ``commands`` runs one, ``say`` prints
in the chosen language (``messages``), ``unit_import`` reads a CSV file of units.
"""

from relay.cli.main import main

__all__ = ["main"]
