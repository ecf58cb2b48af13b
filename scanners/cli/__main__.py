"""`python -m scanners.cli`: the `sohoa` command."""

from scanners.cli import main

main()
