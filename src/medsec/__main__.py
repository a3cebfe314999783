"""``python -m medsec`` runs the command line."""

from medsec.cli import main

main()
