"""`python -m audiences`: the `audiences` command, wherever the console script is not on PATH."""

from audiences.cli import main

main()
