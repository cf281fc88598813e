"""``python -m mlstack``: the same command as the ``mlstack`` script."""

from mlstack.cli.app import main

main()
