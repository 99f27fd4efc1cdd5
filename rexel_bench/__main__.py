"""``python -m rexel_bench``: the command line."""

from rexel_bench.cli import entry_point

entry_point()
