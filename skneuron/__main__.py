"""``python -m skneuron`` runs the command line."""

from skneuron.cli import main

raise SystemExit(main())
