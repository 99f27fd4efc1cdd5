"""Progress bars for long work, shown where a person watches them."""

from __future__ import annotations

import os

from rich.console import Console
from rich.progress import Progress, ProgressColumn


def progress_bar(*columns: str | ProgressColumn, enabled: bool = True, transient: bool = True) -> Progress:
    """A rich progress bar on standard error, drawn only when standard error is a terminal: output that
    is piped or captured (logs, CI, tests) keeps no bar remnants, and standard output stays the results."""
    console = Console(stderr=True)
    quiet = bool(os.environ.get("REXEL_BENCH_QUIET"))  # rexel-bench --quiet
    return Progress(*columns, console=console, disable=not enabled or quiet or not console.is_terminal,
                    transient=transient)
